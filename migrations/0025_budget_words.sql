-- owner: planner and generator. One name, one meaning: `target_words` is the job's target and
-- nothing else; a section's or a chunk's share of it is `budget_words` (contracts/README.md).
-- Renaming keeps each column's data, constraints and comment.
ALTER TABLE planner.sections RENAME COLUMN target_words TO budget_words;
ALTER TABLE planner.chunks RENAME COLUMN target_words TO budget_words;
ALTER TABLE generator.chunks RENAME COLUMN target_words TO budget_words;
ALTER TABLE planner.chunks RENAME CONSTRAINT chunks_target_words_check TO chunks_budget_words_check;

COMMENT ON COLUMN planner.sections.budget_words IS 'Its word budget: its share of the job''s target.';
COMMENT ON COLUMN planner.chunks.budget_words IS 'Its word budget: its share of its section''s.';
COMMENT ON COLUMN generator.chunks.budget_words IS 'The chunk''s word budget, as dispatched.';
