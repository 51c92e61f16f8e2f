-- owner: gateway. The indexes behind what the gateway shows (migrations/0009_roles.sql lets it
-- read audit.events). Job History pages by the cursor (created_at, id), newest first: jobs_by_user
-- gains id, so two jobs created in the same microsecond are neither skipped nor repeated and each
-- page is one index range. A job's progress (when it was planned and ended, the tokens its LLM
-- calls used, the section being written) reads only the few event types it needs, never the
-- job's whole stream.
DROP INDEX gateway.jobs_by_user;
CREATE INDEX jobs_by_user ON gateway.jobs (user_id, created_at DESC, id DESC);
COMMENT ON INDEX gateway.jobs_by_user IS
    'Job History: a user''s jobs newest first, paged by the cursor (created_at, id).';

CREATE INDEX events_job_progress ON audit.events (job_id, type, seq)
    WHERE type IN ('job.planned', 'chunk.write', 'llm.call', 'job.completed', 'job.failed', 'job.cancelled');
COMMENT ON INDEX audit.events_job_progress IS
    'A job''s progress as the gateway shows it: started (job.planned), ended, tokens used (llm.call), current section (chunk.write).';
