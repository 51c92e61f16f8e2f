-- owner: audit. The published job state also says how far the job's log reaches (`last_seq`), so
-- a client following a finished job (`longform audit JOB --follow`) knows when it has printed all
-- of it, events stored after the ending event included (a late memory fold, logged reads).
CREATE OR REPLACE VIEW audit.job_state_v1 WITH (security_invoker = false) AS
    SELECT job_id, status, words, chunks_done, chunks_total, error, updated_at, section, tokens_in, tokens_out,
           started_at, ended_at, last_seq
      FROM audit.job_state;
COMMENT ON COLUMN audit.job_state_v1.last_seq IS 'Seq of the last event of the job''s log applied to its state.';
