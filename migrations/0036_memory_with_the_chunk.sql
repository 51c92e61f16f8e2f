-- owner: generator. The running summary written with the chunk (issue 19): the writer's reply
-- ends with a memory tail (a gist of its text and ledger lines), cut before the chunk is stored
-- and kept here, so the chunk is folded into the memory without a summary call of its own.
ALTER TABLE generator.chunks
    ADD COLUMN inline_summary text,
    ADD COLUMN inline_ledger text,
    ADD COLUMN tail_missing text;
COMMENT ON COLUMN generator.chunks.inline_summary IS
    'What the chunk says, from its write replies'' memory tails; NULL when one gave none (then a summary call folds it in).';
COMMENT ON COLUMN generator.chunks.inline_ledger IS
    'The ledger lines (- Name: what it is) of the chunk''s memory tails.';
COMMENT ON COLUMN generator.chunks.tail_missing IS
    'Why the chunk has no inline summary (a reply cut short, no tail, not asked), for the chunk.summarized fallback.';

ALTER TABLE generator.coherence DROP CONSTRAINT coherence_made_by_check;
ALTER TABLE generator.coherence ADD CONSTRAINT coherence_made_by_check
    CHECK (made_by IN ('inline', 'llm', 'prose', 'code'));
