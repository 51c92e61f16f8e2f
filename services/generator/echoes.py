"""Models that echo their prompt. A model that answers the full prompt (state blocks, labels,
instructions) mostly with an echo of it, as a small base model does, is asked with the lean
prompt instead: the user's request, the title and the text to carry on from, nothing to echo
but them. Within a chunk this follows its first mostly-echo reply; a model that did it in
LEAN_AFTER chunks gets the lean prompt for every chunk from then on (per process). The shape of
each prompt is in its `llm.call` event. The summariser keeps one too: a model that gave no
usable summary for LEAN_AFTER chunks is not asked again, the memory is made in code (logged)."""

LEAN_AFTER = 2


class EchoMemory:
    def __init__(self) -> None:
        self._chunks: dict[str, set[tuple[str, int]]] = {}

    def lean(self, model: str) -> bool:
        return len(self._chunks.get(model, ())) >= LEAN_AFTER

    def echoed(self, model: str, job: str, chunk_index: int) -> None:
        self._chunks.setdefault(model, set()).add((job, chunk_index))
