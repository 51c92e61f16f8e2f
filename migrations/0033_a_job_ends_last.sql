-- owner: planner. A job's `job.completed` is the last step of its log (issue 18): nothing of the
-- job is done after it.
--   1. The document is assembled once every chunk is written and folded into the memory
--      (`chunk.summarized`), so no summary comes after the job completes. Chunks planned before
--      this migration count as folded in (their jobs were never made to wait for it).
--   2. The assembler asks the planner to complete the job (`job.complete`); the planner completes
--      its plan and says `job.completed` in one transaction, so no step of the planner follows it.
ALTER TABLE planner.chunks ADD COLUMN summarized boolean NOT NULL DEFAULT false;
UPDATE planner.chunks SET summarized = true;
COMMENT ON COLUMN planner.chunks.summarized IS
    'The generator folded the chunk into the memory (chunk.summarized); the assembly waits for every chunk''s.';

UPDATE planner.plan_moves SET events = 'job.complete then job.completed' WHERE to_state = 'completed';

-- generator: which chunks are folded into the memory, for the planner on start (a planner that
-- died holding `chunk.summarized` reports catches up from here, as it does for chunks stored).
CREATE VIEW generator.memory_v1 WITH (security_invoker = false) AS
    SELECT job_id, caused_by_chunk AS chunk_index FROM generator.coherence WHERE caused_by_chunk IS NOT NULL;
COMMENT ON VIEW generator.memory_v1 IS
    'Published read (generator): the chunks folded into each job''s memory, for the planner.';
COMMENT ON COLUMN generator.memory_v1.job_id IS 'The job.';
COMMENT ON COLUMN generator.memory_v1.chunk_index IS 'A chunk folded into the memory (chunk.summarized).';
GRANT SELECT ON generator.memory_v1 TO longform_planner;
