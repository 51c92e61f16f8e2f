-- owner: audit. A job's progress as the page, the API and the CLI show it, kept by the audit
-- service's projection (services/audit/projection.py) with the rest of the job's state, so a
-- read is one row however long the job's log. Jobs projected before this migration show zero
-- tokens and no section or times until `longform db rebuild-projections` recomputes them.
ALTER TABLE audit.job_state
    ADD COLUMN section    text,
    ADD COLUMN tokens_in  bigint NOT NULL DEFAULT 0,
    ADD COLUMN tokens_out bigint NOT NULL DEFAULT 0,
    ADD COLUMN started_at timestamptz,
    ADD COLUMN ended_at   timestamptz;

COMMENT ON COLUMN audit.job_state.section IS
    'Title of the section of the chunk dispatched last (chunk.write), or "section N" when it has none.';
COMMENT ON COLUMN audit.job_state.tokens_in IS
    'Input tokens of every LLM call of the job, as the providers reported them (llm.call).';
COMMENT ON COLUMN audit.job_state.tokens_out IS
    'Output tokens of every LLM call of the job, as the providers reported them (llm.call).';
COMMENT ON COLUMN audit.job_state.started_at IS
    'When the job was first planned (job.planned occurred_at).';
COMMENT ON COLUMN audit.job_state.ended_at IS
    'When it completed, failed or was cancelled (occurred_at); null while it runs, again after a resume.';
