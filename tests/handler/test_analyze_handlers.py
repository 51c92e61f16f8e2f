"""`analyze` on the planner's and the generator's handlers (SPEC "Modes"): the source is cut into
numbered passages as it streams from the database, a bounded number noted at a time; each passage
is noted once (a redelivered command never reaches the LLM again), by the LLM or, when its replies
are unusable, in code; the report is planned from a bounded digest of the notes, each section
covering a run of passages, and written from their notes citing only passages that exist."""

import re
import uuid
from pathlib import Path

from contracts.envelope import Envelope
from contracts.messages import CancelJob, ResumeJob
from contracts.wordcount import count_words
from services.gateway.accounts import create_account
from services.gateway.schemas import NewJob
from services.gateway.sources import parse_source
from services.gateway.store import create_job
from services.generator.handlers import job_cancelled
from services.generator.noting import note_passage
from services.planner.analysis import job_requested, passage_noted, recover, resume
from services.planner.handlers import cancel_job
from services.planner.reporting import plan_report
from tests.handler.effects import outbox
from tests.handler.pipeline import write_every_chunk

ESSAY = (Path(__file__).resolve().parents[1] / "data" / "source_essay.md").read_text()
CITATION = re.compile(r"\(§(\d+)\)")


TARGET = 6000

async def requested_by_the_gateway(databases, owner, target: int, model: str | None = None):
    gateway = await databases("gateway")
    user_id, _ = await create_account(gateway, name=f"analyst-{uuid.uuid4().hex[:8]}")
    source = parse_source(ESSAY.encode(), field="source_text", filename=None, media_type="text/markdown")
    job_id, _ = await create_job(gateway, user_id, NewJob(
        mode="analyze", title="On canals", instructions="A critical analysis of the essay's argument.",
        target_words=target, model=model), source)
    [requested] = await outbox(owner, "gateway", job_id, "job.requested")
    return requested


async def note_every_passage(owner, job_id: uuid.UUID, planner, generator) -> None:
    """The test as the bus: each `passage.note` to the generator, each `passage.noted` back."""
    handed: set[uuid.UUID] = set()
    while notes := [n for n in await outbox(owner, "planner", job_id, "passage.note") if n.event_id not in handed]:
        for note in notes:
            handed.add(note.event_id)
            await note_passage(note, generator)
        for noted in await outbox(owner, "generator", job_id, "passage.noted"):
            if noted.event_id not in handed:
                handed.add(noted.event_id)
                await passage_noted(noted, planner)


async def test_the_source_is_cut_into_numbered_passages_and_a_bounded_number_is_noted_at_once(
        planner, databases, owner) -> None:
    requested = await requested_by_the_gateway(databases, owner, 2000)
    await job_requested(requested, await planner(passage_words=200, note_width=3))

    rows = await owner.fetch("SELECT passage, text, words FROM planner.passages WHERE job_id = $1 ORDER BY passage",
                             requested.job_id)
    assert [r["passage"] for r in rows] == list(range(1, len(rows) + 1)) and len(rows) > 10
    assert " ".join(r["text"] for r in rows).split() == ESSAY.split()  # all of it, in order
    assert max(r["words"] for r in rows) <= 200
    [divided] = await outbox(owner, "planner", requested.job_id, "job.source_divided")
    assert divided.data == {"passages": len(rows), "source_words": count_words(ESSAY)}
    notes = await outbox(owner, "planner", requested.job_id, "passage.note")
    assert [n.data["passage"] for n in notes] == [1, 2, 3]
    assert (await owner.fetchval("SELECT state FROM planner.plans WHERE job_id = $1", requested.job_id)) == "noting"


async def test_the_report_is_planned_from_the_notes_and_cites_only_passages_that_exist(
        planner, generator, databases, owner) -> None:
    # Long enough that some reply miscites (30 % a reply, seeded by its prompt): about a dozen chunks.
    requested = await requested_by_the_gateway(databases, owner, TARGET)
    job_id = requested.job_id
    planner_ports, generator_ports = await planner(passage_words=150, note_width=4, digest_words=300), await generator()
    await job_requested(requested, planner_ports)
    await note_every_passage(owner, job_id, planner_ports, generator_ports)

    total = await owner.fetchval("SELECT count(*) FROM planner.passages WHERE job_id = $1", job_id)
    notes = await owner.fetch("SELECT passage, made_by FROM generator.passage_notes WHERE job_id = $1", job_id)
    assert sorted(n["passage"] for n in notes) == list(range(1, total + 1))
    assert {n["made_by"] for n in notes} == {"llm"}
    [plan] = await outbox(owner, "planner", job_id, "report.plan")
    await plan_report(plan, planner_ports)
    await plan_report(plan, planner_ports)  # a redelivery plans nothing twice

    sections = await owner.fetch("SELECT titles, title_source, budget_words, passage_first, passage_last"
                                 " FROM planner.sections WHERE job_id = $1 ORDER BY section_index", job_id)
    assert sum(s["budget_words"] for s in sections) >= TARGET
    assert sections[0]["passage_first"] == 1 and sections[-1]["passage_last"] == total
    assert all(a["passage_last"] + 1 == b["passage_first"] or a["passage_last"] == b["passage_first"] == total
               for a, b in zip(sections, sections[1:]))
    assert all(s["titles"] and s["title_source"] == "plan" for s in sections)
    assert len({tuple(s["titles"]) for s in sections}) == len(sections)
    outline_prompt = await owner.fetchval("SELECT prompt FROM planner.llm_calls WHERE job_id = $1"
                                          " AND purpose = 'outline' ORDER BY id LIMIT 1", job_id)
    digest = [line for line in outline_prompt.splitlines() if re.match(r"§\d+: ", line)]
    assert digest and sum(count_words(line) - 1 for line in digest) <= 300  # bounded, however long the source

    await write_every_chunk(owner, job_id, planner_ports, generator_ports)
    texts = await owner.fetch("SELECT text FROM generator.chunks WHERE job_id = $1", job_id)
    cited = {int(n) for t in texts for n in CITATION.findall(t["text"])}
    assert cited and cited <= set(range(1, total + 1))
    calls = [c.data["attributes"] for c in await outbox(owner, "generator", job_id, "llm.call")]
    miscited = [int(n) for c in calls for n in CITATION.findall(c.get("longform.citations_cut", ""))]
    assert miscited and all(n > total for n in miscited)  # the fake now and then cites a passage that is not there
    assert sum(count_words(t["text"]) for t in texts) >= TARGET
    assert await outbox(owner, "planner", job_id, "document.assemble")


async def test_a_passage_noted_before_is_never_sent_to_the_llm_again(planner, generator, databases, owner) -> None:
    requested = await requested_by_the_gateway(databases, owner, 1000)
    await job_requested(requested, await planner(passage_words=300, note_width=1))
    [note] = await outbox(owner, "planner", requested.job_id, "passage.note")
    ports = await generator()
    await note_passage(note, ports)
    await note_passage(note, ports)  # redelivered: a crash before the ack
    calls = await owner.fetchval("SELECT count(*) FROM generator.llm_calls WHERE job_id = $1 AND purpose = 'note'",
                                 requested.job_id)
    assert calls == 1
    assert len(await outbox(owner, "generator", requested.job_id, "passage.noted")) == 1


async def test_a_passage_whose_replies_are_unusable_is_noted_in_code_and_says_what_that_replaced(
        planner, generator, databases, owner) -> None:
    requested = await requested_by_the_gateway(databases, owner, 1000, model="fake/empty")
    await job_requested(requested, await planner(passage_words=300, note_width=1))
    [note] = await outbox(owner, "planner", requested.job_id, "passage.note")
    await note_passage(note, await generator())

    [noted] = await outbox(owner, "generator", requested.job_id, "passage.noted")
    assert noted.data["made_by"] == "code" and "no usable notes in 2 attempts" in noted.data["fallback"]
    stored = await owner.fetchrow("SELECT notes, made_by FROM generator.passage_notes WHERE job_id = $1",
                                  requested.job_id)
    first_sentence = note.data["text"].split(". ")[0]
    assert stored["made_by"] == "code" and first_sentence[:40] in stored["notes"]
    calls = await outbox(owner, "generator", requested.job_id, "llm.call")
    assert [c.data["attributes"]["longform.passage"] for c in calls] == [1, 1]


async def test_an_analysis_cancelled_while_noting_resumes_with_what_is_not_noted_yet(
        planner, generator, databases, owner) -> None:
    requested = await requested_by_the_gateway(databases, owner, 1000)
    job_id, ports = requested.job_id, await planner(passage_words=300, note_width=2)
    await job_requested(requested, ports)
    first, second = await outbox(owner, "planner", job_id, "passage.note")
    generator_ports = await generator()
    await note_passage(first, generator_ports)
    [noted] = await outbox(owner, "generator", job_id, "passage.noted")
    await passage_noted(noted, ports)
    await cancel_job(Envelope.wrap(CancelJob(), service="gateway", job_id=job_id, user_id=requested.user_id), ports)
    assert await owner.fetchval("SELECT state FROM planner.plans WHERE job_id = $1", job_id) == "cancelled"
    [cancelled] = await outbox(owner, "planner", job_id, "job.cancelled")
    await job_cancelled(cancelled, generator_ports)
    await note_passage(second, generator_ports)  # dispatched before the cancel: stopped, not noted

    sent_before = {n.event_id for n in await outbox(owner, "planner", job_id, "passage.note")}
    await resume(Envelope.wrap(ResumeJob(), service="gateway", job_id=job_id, user_id=requested.user_id), ports)
    assert await owner.fetchval("SELECT state FROM planner.plans WHERE job_id = $1", job_id) == "noting"
    again = [n.data["passage"] for n in await outbox(owner, "planner", job_id, "passage.note")
             if n.event_id not in sent_before]
    assert 1 not in again and again[0] == 2  # the noted passage is not sent again; the stopped one is


async def test_a_planner_starting_again_moves_on_an_analysis_whose_reports_were_lost(
        planner, generator, databases, owner) -> None:
    requested = await requested_by_the_gateway(databases, owner, 1000)
    job_id, ports = requested.job_id, await planner(passage_words=300, note_width=2)
    await job_requested(requested, ports)
    generator_ports = await generator()
    for note in await outbox(owner, "planner", job_id, "passage.note"):
        await note_passage(note, generator_ports)  # stored, but the planner never handles the reports
    assert await recover(ports, job_id, requested.user_id, [])
    assert await owner.fetchval("SELECT count(*) FROM planner.passages WHERE job_id = $1 AND status = 'noted'",
                                job_id) == 2
    assert len(await outbox(owner, "planner", job_id, "passage.note")) == 4  # the next two
    assert not await recover(ports, job_id, requested.user_id, [])  # those are in flight: nothing is stuck
