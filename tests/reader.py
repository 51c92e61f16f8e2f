"""A reader's checks of a completed document (issue 17): read in md, docx and txt, it has the
plan's headings in plan order, one title per section, every section at its budget (and not far
over it), no paragraph twice, and the same headings and body words in every format."""

import io
import re
from collections import Counter
from dataclasses import dataclass

import docx

from contracts.headings import SectionShape, headings
from contracts.wordcount import count_words
from services.generator.quality import paragraphs

OVER_BUDGET = 1.15  # a section of 200 words or more ends at most this far past its budget
_MD_HEADING = re.compile(r"^(#{2,6}) (.+)$")


@dataclass(frozen=True)
class Read:
    """One format of the document: its title, headings (level, title) and body text."""

    title: str
    headings: list[tuple[int, str]]
    body: str

    @property
    def body_words(self) -> int:
        return count_words(self.body)


def read_markdown(text: str) -> Read:
    lines = text.split("\n")
    assert lines[0].startswith("# "), lines[0]
    found, body = [], []
    for line in lines[1:]:
        heading = _MD_HEADING.match(line)
        if heading:
            found.append((len(heading.group(1)) - 1, heading.group(2)))
        else:
            body.append(line)
    return Read(lines[0][2:], found, "\n".join(body))


def read_text(text: str, numbered: list[tuple[str, str]]) -> Read:
    """txt has numbered heading lines, each with a blank line around it: found in order, cut out."""
    title, _, rest = text.partition("\n\n")
    found, cursor = [], 0
    for number, heading_title in numbered:
        line = f"{number} {heading_title}\n\n"
        at = 0 if cursor == 0 and rest.startswith(line) else rest.find("\n\n" + line, max(cursor - 2, 0)) + 2
        assert at >= cursor and rest[at:at + len(line)] == line, f"txt lacks {line!r} where the plan puts it"
        rest, cursor = rest[:at] + rest[at + len(line):], at
        found.append((number.count(".") + 1, heading_title))
    return Read(title, found, rest)


def read_docx(content: bytes) -> Read:
    document = docx.Document(io.BytesIO(content))
    items = document.paragraphs
    assert items[0].style.name == "Title"
    found, body, in_contents = [], [], False
    for paragraph in items[1:]:
        style = paragraph.style.name
        if paragraph.text == "Contents" and not found and not body:
            in_contents = True
            continue
        if style.startswith("Heading "):
            in_contents = False
            found.append((int(style.split()[1]), paragraph.text))
        elif not in_contents:
            body.append(paragraph.text)
    return Read(items[0].text, found, "\n\n".join(body))


def docx_contents(content: bytes) -> list[str]:
    """The table of contents' lines, as the document holds them before Word updates the field."""
    lines, inside = [], False
    for paragraph in docx.Document(io.BytesIO(content)).paragraphs[1:]:
        if paragraph.text == "Contents":
            inside = True
        elif paragraph.style.name.startswith("Heading ") or (inside and not paragraph.text):
            break
        elif inside:
            lines.append(paragraph.text)
    return lines


def plan_of(query, job_id: str) -> list[dict]:
    """The plan's sections as stored, with their first chunk's text and the words written."""
    return [dict(r) for r in query(
        "SELECT s.section_index, s.titles, s.title_source, s.budget_words, s.words,"
        " (SELECT g.text FROM generator.chunks g WHERE g.job_id = s.job_id AND g.chunk_index = s.first_chunk) AS opening"
        " FROM planner.sections_v1 s WHERE s.job_id = $1 ORDER BY s.section_index", job_id)]


def check_document(api, query, job_id: str, *, section_budgets: bool = True) -> dict[str, Read]:
    """Every reader's check on a completed job's three formats; returns them as read. Without
    `section_budgets`, each section is not held to its budget (see the real-model tier)."""
    job = api.job(job_id)
    assert job["status"] == "completed", job
    plan = plan_of(query, job_id)
    titled = bool(query("SELECT headings FROM planner.plans WHERE job_id = $1", job_id)[0]["headings"])
    expected = headings(SectionShape(s["section_index"], tuple(s["titles"]), s["title_source"], s["opening"] or "")
                        for s in plan) if titled else []
    fetched = {f: api.http.get(f"/v1/jobs/{job_id}/document", params={"format": f}) for f in ("md", "txt", "docx")}
    assert all(r.status_code == 200 for r in fetched.values()), {f: r.status_code for f, r in fetched.items()}
    reads = {"md": read_markdown(fetched["md"].text),
             "txt": read_text(fetched["txt"].text, [(h.number, h.title) for h in expected]),
             "docx": read_docx(fetched["docx"].content)}
    wanted = [(h.level, h.title) for h in expected]
    for fmt, read in reads.items():
        assert read.headings == wanted, f"{fmt}: the headings are not the plan's, in its order"
        assert read.body_words == job["words"], f"{fmt}: {read.body_words} body words, the job says {job['words']}"
    assert job["heading_words"] == sum(count_words(h.title) for h in expected)
    leaves = list({h.section_index: h.title for h in expected}.values())  # each section's own heading
    assert len(leaves) == len(set(leaves)), f"two sections share a title: {Counter(leaves).most_common(3)}"
    if section_budgets:
        _check_budgets(plan)
    repeated = [p for p, n in Counter(paragraphs(reads["txt"].body)).items() if n > 1]
    assert repeated == [], f"a paragraph repeats: {repeated[:1]}"
    if expected:
        assert docx_contents(fetched["docx"].content) == [f"{h.number} {h.title}" for h in expected]
    return reads


def _check_budgets(plan: list[dict]) -> None:
    for s in plan:
        assert s["words"] >= s["budget_words"], f"section {s['section_index']}: {s['words']} of {s['budget_words']}"
        if s["budget_words"] >= 200:
            assert s["words"] <= OVER_BUDGET * s["budget_words"], \
                f"section {s['section_index']}: {s['words']} words for a budget of {s['budget_words']}"
