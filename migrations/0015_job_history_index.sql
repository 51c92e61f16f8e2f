-- owner: gateway. Job History pages by the cursor (created_at, id), newest first: jobs_by_user
-- gains id, so two jobs created in the same microsecond are neither skipped nor repeated and each
-- page is one index range.
DROP INDEX gateway.jobs_by_user;
CREATE INDEX jobs_by_user ON gateway.jobs (user_id, created_at DESC, id DESC);
COMMENT ON INDEX gateway.jobs_by_user IS
    'Job History: a user''s jobs newest first, paged by the cursor (created_at, id).';
