"""Writes one chunk to its budget: measures every reply with the one word counter, continues
short or truncated replies from their last sentence, rejects unusable ones, and stores every
attempt (kept or discarded) as it happens."""

import asyncio
import math
from dataclasses import dataclass, field, replace
from typing import Awaitable, Callable

from contracts.messages import ChunkContinued, WriteChunk
from contracts.wordcount import count_words
from services.common.llm import Completion, LlmError, LlmProvider, Prompt
from services.common.llm.base import GAVE_UP
from services.common.llm.calls import Call, LlmCallLog
from services.common.retry import PROVIDER
from services.generator.config import GeneratorSettings
from services.generator.memory import Memory
from services.generator.memory_tail import Tail, split_reply
from services.generator.echoes import EchoMemory
from services.generator.token_rates import TokenRates
from services.generator.prompts import chunk_prompt, job_block, lean_prompt, template
from services.generator.cleaning import (Cleaned, Scaffold, cleaned, cut_notes, goes_round, scaffolding,
                                         without_headings, without_stored)
from services.generator.notes import cut_citations
from services.generator.quality import (
    joined, paragraph_digests, rejection_reason, trim_to_budget, trim_to_last_sentence, without_repeated_paragraphs,
)

MOSTLY_ECHO = "reply is mostly echo or repetition"
ECHO_RETRIES = 2  # a chunk's mostly-echo replies asked again before what is left of one is kept
TINY_TARGET = 50  # a chunk this small ends at most TINY_SLACK words past its budget (README, L7)
TINY_SLACK = 3
RETRY_SHRINK = 0.1  # each retry after a rejected reply asks this share less than the one before ...
RETRY_TAIL_WORDS = 15  # ... and shows this many more words of the text it carries on from
SHARED_FROM = 4  # a first call asks a share of the budget when it needs this many minimum requests or more
OVERSHOOT = 0.05  # max_tokens lets a reply run this share past the words still needed ...
SLACK_TOKENS = 64  # ... and this many tokens more: a preamble, and the end of the sentence the budget falls in


_AS_PHRASE = {
    "empty reply": "an empty reply",
    "refusal": "a refusal",
    "reply repeats the prompt": "a reply repeating the prompt",
    "reply repeats an earlier paragraph": "a reply repeating an earlier paragraph",
    MOSTLY_ECHO: "replies that were mostly echo or repetition",
}


def _checked_citations(clean: Cleaned, cmd: WriteChunk) -> dict:
    """An analysis cites passages as (§N): a citation of a passage that does not exist is cut,
    and the `llm.call` event says which."""
    if cmd.mode != "analyze" or not cmd.passages_total:
        return {}
    clean.text, cut = cut_citations(clean.text, cmd.passages_total)
    if not cut:
        return {}
    clean.cuts += cut
    return {"longform.citations_cut": " ".join(cut)}


def _users_words(cmd: WriteChunk) -> tuple[str, ...]:
    """What the user wrote: a reply may reuse it; everything else in the prompt is scaffolding."""
    return cmd.title, cmd.instructions, cmd.source_text or ""


@dataclass
class ChunkDraft:
    text: str = ""
    words: int = 0  # count_words(text), counted once each time the text grows
    attempts: int = 0
    failures: int = 0
    rounds: int = 0
    echoes: int = 0  # replies rejected as mostly echo
    rejected_in_row: int = 0  # replies rejected since the last one kept: the next prompt must differ
    last_error: str = ""
    gists: list[str] = field(default_factory=list)  # kept replies' memory tails: what their text says ...
    names: list[str] = field(default_factory=list)  # ... and the ledger lines it gave
    tail_missing: str = ""  # why a kept reply gave no usable tail: the chunk is summarised by a call
    checked: set[bytes] = field(default_factory=set)  # paragraph digests looked up among the job's other chunks
    trimmed_words: int = 0  # words of kept replies cut past the budget or a truncation: paid, not delivered
    trimmed_tokens: int = 0

    def extend(self, piece: str) -> None:
        self.text = joined(self.text, piece)
        self.words = count_words(self.text)

    def took_tail(self, tail: Tail | None) -> None:
        """A kept reply's memory tail. One gist a chunk is enough: later rounds are not asked for one."""
        if tail is not None and not tail.missing:
            self.gists.append(tail.gist)
            self.names.append(tail.names)
            self.tail_missing = ""
        elif not self.gists:
            self.tail_missing = tail.missing if tail is not None else "not asked of this prompt"

    def inline_memory(self) -> tuple[str, str] | None:
        """The chunk's summary and ledger lines from its replies' memory tails; None when none gave one."""
        if not self.gists:
            return None
        return " ".join(self.gists), "\n".join(n for n in self.names if n)


class ChunkWriter:
    def __init__(self, llm: LlmProvider, log: LlmCallLog, settings: GeneratorSettings, memory: Memory,
                 echoes: EchoMemory | None = None,
                 stored: Callable[[list[bytes]], Awaitable[set[bytes]]] | None = None,
                 rates: TokenRates | None = None) -> None:
        self.stored = stored  # which paragraphs other chunks of the job hold already
        self.echoes = echoes or EchoMemory()
        self.rates = rates or TokenRates()
        self.shape = "full"  # of the prompt of the attempt under way: "full", or "lean" for a model that echoes
        self.asks_tail = False  # whether that prompt asks for the memory tail (services/generator/memory_tail.py)
        self.llm = llm
        self.log = log
        self.settings = settings
        self.memory = memory

    async def write(self, cmd: WriteChunk, tail: str, draft: ChunkDraft) -> ChunkDraft:
        s = self.settings
        while (draft.words < cmd.budget_words and draft.failures < s.max_failures_per_chunk
               and draft.rounds < s.max_rounds_per_chunk):
            if self.log.stopped:  # cancelled or deleted, as read when the last call was recorded
                break
            draft.attempts += 1
            prompt = self._prompt(cmd, tail, draft)
            scaffold = scaffolding(f"{prompt.system}\n{prompt.user}", *_users_words(cmd))  # for both judges
            prompt = replace(prompt, give_up=self._hopeless(cmd, tail, draft, prompt, scaffold))
            try:
                completion = await self.llm.complete(prompt)
            except LlmError as err:
                await self._failed(draft, prompt, err)
                if not err.retryable:
                    break
                await asyncio.sleep(PROVIDER.delay(draft.failures, err.retry_after))
                continue
            self.rates.observed(prompt.model, completion)
            await self._judge(draft, prompt, completion, cmd, tail, scaffold)
        return draft

    def _prompt(self, cmd: WriteChunk, tail: str, draft: ChunkDraft) -> Prompt:
        s = self.settings
        needed, asked = self._asked_words(cmd, draft)
        retry = draft.rejected_in_row
        # The last chunk is folded in code; a chunk with a gist already needs no other.
        self.asks_tail = self.shape == "full" and not cmd.last and not draft.gists
        if self.shape == "lean":
            user = lean_prompt(cmd, tail=tail, written=draft.text, remaining=asked,
                               tail_words=s.lean_tail_words + RETRY_TAIL_WORDS * retry)
        else:
            user = chunk_prompt(cmd, self.memory, tail=tail, written=draft.text, remaining=asked,
                                tail_words=s.tail_words + RETRY_TAIL_WORDS * retry)
        tail = template("memory_tail").format(gist_words=s.gist_words) if self.asks_tail else ""
        model = cmd.model or s.model_for("writer")
        rate = self.rates.per_word(model, s.tokens_per_word)
        tail_words = s.gist_words * 2 if self.asks_tail else 0  # gist and names
        head = job_block(cmd, self.memory) if self.shape == "full" else ""
        return Prompt(
            system=f"{template('system')}{tail}".strip(), user=user, model=model,
            max_tokens=math.ceil((needed * (1 + OVERSHOOT) + tail_words) * rate) + SLACK_TOKENS,
            headers={"x-longform-chunk": f"{self.log.job_id}:{cmd.chunk_index}"},
            stable_prefix=head if user.startswith(head) else "",
        )

    def _hopeless(self, cmd: WriteChunk, tail: str, draft: ChunkDraft, prompt: Prompt,
                  scaffold: Scaffold) -> Callable[[str], bool]:
        """What tells the adapter to stop reading a reply while it streams: one that would be
        rejected as mostly echo or repetition as it stands, and that goes round in a loop (a small
        model in a loop stays in it: Gemma 3 270M wrote 300-570 tokens a call of "The keeper", of
        "Write the next 159 words (the next 159 words(", or of its prompt again and again). Never one whose remnant
        would be kept (the chunk's echo retries spent and some text of its own left): that one
        is read whole. The reply so far is then judged as the whole would be, so its verdict
        stands: stopped early, it is rejected all the same, and the job is not charged the rest."""
        earlier, needed = f"{tail}\n\n{draft.text}", cmd.budget_words - draft.words
        asks_tail = self.asks_tail

        def hopeless(so_far: str) -> bool:
            if not goes_round(so_far):
                return False
            body, _, clean = self._cleaned_reply(so_far, True, asks_tail, scaffold, cmd, earlier)
            return (rejection_reason(body, prompt.user, earlier, clean, needed) == MOSTLY_ECHO
                    and (draft.echoes + 1 <= ECHO_RETRIES or not clean.text.split()))
        return hopeless

    @staticmethod
    def _cleaned_reply(text: str, truncated: bool, asks_tail: bool, scaffold: Scaffold, cmd: WriteChunk,
                       earlier: str) -> tuple[str, Tail | None, Cleaned]:
        """The reply without its memory tail, the tail, and the reply cleaned for judging."""
        memory = None
        if asks_tail:
            text, memory = split_reply(text, truncated=truncated)
        clean = cleaned(text, scaffold, earlier)
        without_headings(clean, [*cmd.section_title.split(" › "), cmd.title])  # the plan's headings are put in
        return text, memory, clean

    def _asked_words(self, cmd: WriteChunk, draft: ChunkDraft) -> tuple[int, int]:
        """The words still needed (max_tokens is made from them), and the words asked for: the first
        call asks a share of them, since a reply past the budget is paid for and trimmed while one
        short of it is continued."""
        s = self.settings
        needed = max(cmd.budget_words - draft.words, min(s.min_request_words, cmd.budget_words))
        model = cmd.model or s.model_for("writer")
        self.shape = "lean" if draft.echoes > 0 or self.echoes.lean(model) else "full"
        if self.shape == "lean":  # a model that echoes and loops: less to echo, less room to loop in
            needed = min(needed, s.lean_request_words)
        # A continuation's overshoot is small anyway, and a small chunk's waste costs less than a call.
        share = s.request_share if draft.rounds == 0 and needed >= SHARED_FROM * s.min_request_words else 1.0
        asked = max(min(needed, s.min_request_words), math.ceil(needed * share))
        # A model at temperature 0 (or a cache in front of one) answers the same prompt with the same
        # unusable reply: each retry after a rejected reply asks a little less, from a longer tail.
        return needed, max(1, math.ceil(asked * (1 - RETRY_SHRINK) ** draft.rejected_in_row))

    async def _failed(self, draft: ChunkDraft, prompt: Prompt, err: LlmError) -> None:
        draft.failures += 1
        draft.last_error = f"provider failed ({err})"
        await self.log.record(Call(draft.attempts, prompt, None, kept=False, error=str(err), latency_ms=err.latency_ms))

    async def _judge(self, draft: ChunkDraft, prompt: Prompt, whole: Completion, cmd: WriteChunk,
                     tail: str, scaffold: Scaffold) -> None:
        """`whole` is the reply as it came (so logged); it is judged and kept without its memory tail."""
        earlier = f"{tail}\n\n{draft.text}"
        text, memory, clean = self._cleaned_reply(whole.text, whole.truncated, self.asks_tail, scaffold, cmd, earlier)
        completion = replace(whole, text=text)
        if self.stored is not None and (digests := paragraph_digests(clean.text)):
            without_stored(clean, await self.stored(digests))
            draft.checked.update(digests)
        citations = _checked_citations(clean, cmd)
        reason = rejection_reason(completion.text, prompt.user, earlier, clean, cmd.budget_words - draft.words)
        notes = cut_notes(clean) | {"longform.prompt": self.shape} | citations | _tail_notes(memory)
        if whole.finish_reason == GAVE_UP:
            notes["longform.given_up"] = (f"stopped reading after {count_words(whole.text)} words: the reply went"
                                          " round in a loop of echo and repetition")  # see _hopeless
        if reason == MOSTLY_ECHO:
            draft.echoes += 1
            self.echoes.echoed(prompt.model, str(self.log.job_id), cmd.chunk_index)
            if draft.echoes > ECHO_RETRIES and clean.text.split():  # degrade: what is left is the model's own
                notes["longform.fallback"] = (f"mostly echo or repetition {draft.echoes} times in this chunk: kept"
                                              f" the {count_words(clean.text)} words left after cutting it")
                reason = None
        if reason:
            draft.failures += 1
            draft.rejected_in_row += 1
            draft.last_error = f"provider returned {_AS_PHRASE.get(reason, reason)}"
            await self.log.record(Call(draft.attempts, prompt, whole, kept=False, error=reason, notes=notes))
            return
        draft.rejected_in_row = 0
        piece = trim_to_last_sentence(clean.text) if completion.truncated else clean.text
        budget = cmd.budget_words
        kept = trim_to_budget(piece, budget - draft.words, TINY_SLACK if budget <= TINY_TARGET else None)
        notes |= _trimmed(draft, count_words(clean.text) - count_words(kept), whole)
        draft.extend(kept)
        notes |= await self._without_repeats(draft)
        draft.took_tail(memory)
        draft.rounds += 1
        await self.log.record(Call(draft.attempts, prompt, whole, kept=True, notes=notes),
                              *self._continuing(draft, budget))

    async def _without_repeats(self, draft: ChunkDraft) -> dict:
        """No paragraph twice in the document: the draft as joined is checked whole, against
        itself and the job's other stored chunks (a short reply becomes the draft's text less)."""
        # Only paragraphs not looked up in this chunk yet: the join's, and a trimmed last one.
        unchecked = [d for d in paragraph_digests(draft.text) if d not in draft.checked]
        stored = await self.stored(unchecked) if self.stored is not None and unchecked else set()
        draft.checked.update(unchecked)
        draft.text, cut = without_repeated_paragraphs(draft.text, stored)
        if not cut:
            return {}
        draft.words = count_words(draft.text)
        return {"longform.repeated_paragraphs_cut": len(cut)}

    def _continuing(self, draft: ChunkDraft, budget: int) -> list[ChunkContinued]:
        """`job.chunk_continued` when the kept text is short and the writer will ask for the rest."""
        words, s = draft.words, self.settings
        if words >= budget or draft.failures >= s.max_failures_per_chunk or draft.rounds >= s.max_rounds_per_chunk:
            return []
        return [ChunkContinued(chunk_index=self.log.chunk_index, words_so_far=words, budget_words=budget,
                               round=draft.rounds + 1)]


def _tail_notes(memory: Tail | None) -> dict:
    """What the `llm.call` event says of the reply's memory tail (its text is in the stored reply)."""
    if memory is None:
        return {}
    said = f"gist of {count_words(memory.gist)} words" if not memory.missing else memory.missing
    return {"longform.memory_tail": said, "longform.memory_tail_words": memory.words}


def _trimmed(draft: ChunkDraft, words: int, whole: Completion) -> dict:
    """A kept reply's words cut past the budget (or after a truncation's last sentence), and their
    tokens as the reply's share: written and paid for, never delivered."""
    if words <= 0:
        return {}
    tokens = math.ceil(words * (whole.output_tokens or 0) / max(1, count_words(whole.text)))
    draft.trimmed_words += words
    draft.trimmed_tokens += tokens
    return {"longform.trimmed_words": words, "longform.trimmed_tokens": tokens}
