"""The assembler's handler on a real database: the document is built in Postgres from the chunks
the generator stored, counted with the one word counter, and judged against the target: complete,
to be extended, or failed after the last extension round; a redelivery builds nothing twice."""

import json

from contracts.messages import AssembleDocument, JobRequested
from contracts.wordcount import count_words
from services.assembler.handlers import assemble_document
from services.generator import store as generator_store
from services.planner import store as planner_store
from services.planner.plan import PlannedChunk, Section
from tests.handler.effects import Job, effects, outbox

PARAGRAPHS = ["The Saltwater Meander runs uphill at night.", "Its villages follow it, carts and all.",
              "By morning the river is back where the maps put it, a little tired."]


async def stored_by_the_generator(databases, job: Job, texts: list[str]) -> int:
    """The chunks as the generator stores them (its own store, as its role); returns their words."""
    db = await databases("generator")
    async with db.transaction(job_id=job.job_id, user_id=job.user_id) as tx:
        for index, text in enumerate(texts):
            await generator_store.accept_chunk(tx, job.job_id, index, text, count_words(text), count_words(text),
                                               index - 1 if index else None, index == len(texts) - 1)
    return sum(count_words(t) for t in texts)


async def test_the_last_chunk_assembled_completes_a_job_at_its_target(assembler, databases, owner):
    ports, job = await assembler(), Job()
    words = await stored_by_the_generator(databases, job, PARAGRAPHS)
    await assemble_document(job.envelope(AssembleDocument(target_words=words, round=1), "planner"), ports)

    document = await owner.fetchrow("SELECT body, words, chunks, round FROM assembler.documents WHERE job_id = $1",
                                    job.job_id)
    assert dict(document) == {"body": "\n\n".join(PARAGRAPHS), "words": words, "chunks": 3, "round": 1}
    assert [(e.type, e.data) for e in await outbox(owner, "assembler", job.job_id, "document.assembled",
                                                   "job.complete", "job.extend", "job.failed")] == [
        ("document.assembled", {"words": words, "chunks": 3, "target_words": words, "round": 1, "heading_count": 0,
                                "heading_words": 0}),
        ("job.complete", {"words": words, "target_words": words, "heading_words": 0})]


async def test_a_document_is_counted_slice_by_slice_as_a_whole(assembler, databases, owner):
    ports, job = await assembler(count_slice_chars=7), Job()  # slices cut words in two
    words = await stored_by_the_generator(databases, job, PARAGRAPHS)
    await assemble_document(job.envelope(AssembleDocument(target_words=words, round=1), "planner"), ports)
    [assembled] = await outbox(owner, "assembler", job.job_id, "document.assembled")
    assert assembled.data["words"] == count_words("\n\n".join(PARAGRAPHS)) == words


async def test_a_short_document_asks_for_the_missing_words(assembler, databases, owner):
    ports, job = await assembler(), Job()
    words = await stored_by_the_generator(databases, job, PARAGRAPHS[:2])
    await assemble_document(job.envelope(AssembleDocument(target_words=words + 40, round=2), "planner"), ports)
    [extend] = await outbox(owner, "assembler", job.job_id, "job.extend")
    assert extend.data == {"missing_words": 40, "words": words, "round": 2}
    assert await outbox(owner, "assembler", job.job_id, "job.complete", "job.failed") == []


async def test_a_document_still_short_after_the_last_round_fails_the_job(assembler, databases, owner):
    ports, job = await assembler(max_extension_rounds=2), Job()
    words = await stored_by_the_generator(databases, job, PARAGRAPHS)
    await assemble_document(job.envelope(AssembleDocument(target_words=1000, round=3), "planner"), ports)
    [failed] = await outbox(owner, "assembler", job.job_id, "job.failed")
    assert failed.data == {"words": words, "reason": (
        f"document still short after 2 extension rounds: {words:,} of 1,000 words written")}
    assert await outbox(owner, "assembler", job.job_id, "job.extend", "job.complete") == []


async def test_a_redelivered_assembly_emits_nothing_twice(assembler, databases, owner):
    ports, job = await assembler(), Job()
    words = await stored_by_the_generator(databases, job, PARAGRAPHS)
    command = job.envelope(AssembleDocument(target_words=words, round=1), "planner")
    await assemble_document(command, ports)
    before = await effects(owner, "assembler", job.job_id)
    await assemble_document(command, ports)
    assert await effects(owner, "assembler", job.job_id) == before


async def planned_by_the_planner(databases, job: Job, sections: list[Section], chunk_sections: list[int]) -> None:
    """The plan as the planner stores it (its own store, as its role): one chunk per entry of
    `chunk_sections`, in that section."""
    db = await databases("planner")
    request = JobRequested(mode="generate", title="Rivers", instructions="x", target_words=10)
    async with db.transaction(job_id=job.job_id, user_id=job.user_id) as tx:
        await planner_store.insert_plan(tx, job.job_id, job.user_id, request, width=1, style="", outline_source="llm")
        await planner_store.insert_sections(tx, job.job_id, sections)
        await planner_store.insert_chunks(tx, job.job_id, [PlannedChunk(i, section, 5)
                                                           for i, section in enumerate(chunk_sections)])


async def test_the_plans_titles_are_placed_before_their_sections_first_chunks(assembler, databases, owner):
    ports, job = await assembler(), Job()
    await planned_by_the_planner(databases, job, [
        Section("Rivers › Uphill", "b", 5, titles=("Rivers", "Uphill")),
        Section("Rivers › Villages", "b", 10, titles=("Rivers", "Villages")),
        Section("Part 3", "b", 5, titles=("Part 3",), title_source="text")], [0, 1, 1, 2])
    texts = PARAGRAPHS + ["Nobody minds. The maps are wrong anyway."]
    words = await stored_by_the_generator(databases, job, texts)
    await assemble_document(job.envelope(AssembleDocument(target_words=words, round=1), "planner"), ports)

    row = await owner.fetchrow("SELECT body, words, headings, heading_words FROM assembler.documents WHERE job_id = $1",
                               job.job_id)
    placed = json.loads(row["headings"])
    assert [(h["level"], h["number"], h["title"]) for h in placed] == [
        (1, "1", "Rivers"), (2, "1.1", "Uphill"), (2, "1.2", "Villages"), (1, "2", "Nobody minds")]
    starts = [row["body"][h["at"] - 1:] for h in placed]
    assert [start.startswith(texts[chunk]) for start, chunk in zip(starts, [0, 0, 1, 3])] == [True] * 4
    assert row["words"] == words and row["heading_words"] == 1 + 1 + 1 + 2
    [completed] = await outbox(owner, "assembler", job.job_id, "job.complete")
    assert completed.data == {"words": words, "target_words": words, "heading_words": 5}


async def test_a_job_without_headings_gets_none_placed(assembler, databases, owner):
    ports, job = await assembler(), Job()
    await planned_by_the_planner(databases, job, [Section("A", "b", 5, titles=("A",))], [0])
    words = await stored_by_the_generator(databases, job, PARAGRAPHS[:1])
    await assemble_document(job.envelope(AssembleDocument(target_words=words, headings=False), "planner"), ports)
    row = await owner.fetchrow("SELECT headings, heading_words FROM assembler.documents WHERE job_id = $1", job.job_id)
    assert json.loads(row["headings"]) == [] and row["heading_words"] == 0


async def test_a_transactions_events_carry_one_time_in_the_order_they_are_stored(assembler, databases, owner):
    """The db.query listing the statements is made last but stored first: every event of the
    transaction carries the commit's time, so the log's seq order and its times agree."""
    ports, job = await assembler(), Job()
    words = await stored_by_the_generator(databases, job, PARAGRAPHS)
    await assemble_document(job.envelope(AssembleDocument(target_words=words, round=1), "planner"), ports)
    events = await outbox(owner, "assembler", job.job_id)
    assert [e.type for e in events][0] == "db.query" and "job.complete" in [e.type for e in events]
    assert len({e.occurred_at for e in events}) == 1
