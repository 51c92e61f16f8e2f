-- owner: gateway and planner. Many jobs at once (issue 19, part 4): at most
-- LONGFORM_MAX_ACTIVE_JOBS_PER_USER jobs of a user run at once; more wait here, in the order they
-- were submitted, up to LONGFORM_MAX_QUEUED_JOBS_PER_USER (beyond it POST /v1/jobs answers 429 and
-- stores nothing). One row per job submitted since this migration:
--   queued    waiting; its job.requested is not sent yet (the job's log says job.queued)
--   active    running: its job.requested was sent (at submit, or when one of the user's jobs ended)
--   ended     it completed, failed or was cancelled while active: its place was given on
--   cancelled cancelled while queued: it never started
-- The gateway admits a job (active or queued) and the planner, in the transaction that ends a job
-- (completed, failed, cancelled), moves the job from active to ended and the user's oldest queued
-- job to active, sending its job.requested. Both take the user's advisory lock
-- (longform_meta.queue_lock_key) first, so a submit and an end, or two ends, never decide on the
-- same counts; the move from active to ended happens once per start, so one end starts one job.
CREATE TABLE longform_meta.job_queue (
    job_id      uuid PRIMARY KEY REFERENCES gateway.jobs (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL,
    state       text NOT NULL CHECK (state IN ('queued', 'active', 'ended', 'cancelled')),
    queued_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    request     jsonb NOT NULL
);
CREATE INDEX job_queue_waiting ON longform_meta.job_queue (user_id, queued_at, job_id) WHERE state = 'queued';
CREATE INDEX job_queue_running ON longform_meta.job_queue (user_id) WHERE state = 'active';

CREATE FUNCTION longform_meta.queue_lock_key(owner uuid) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    SELECT hashtextextended(owner::text, 1919)
$$;

GRANT USAGE ON SCHEMA longform_meta TO longform_gateway, longform_planner;
GRANT SELECT, INSERT, UPDATE ON longform_meta.job_queue TO longform_gateway;
GRANT SELECT, UPDATE ON longform_meta.job_queue TO longform_planner;
GRANT EXECUTE ON FUNCTION longform_meta.queue_lock_key(uuid) TO longform_gateway, longform_planner;

COMMENT ON TABLE longform_meta.job_queue IS
    'Per-user job queue: which jobs run (active) and which wait (queued), in submit order.';
COMMENT ON COLUMN longform_meta.job_queue.job_id IS 'The job (gateway.jobs).';
COMMENT ON COLUMN longform_meta.job_queue.user_id IS 'Its owner: the cap and the queue are per user.';
COMMENT ON COLUMN longform_meta.job_queue.state IS 'queued, active, ended (its place given on) or cancelled (while queued).';
COMMENT ON COLUMN longform_meta.job_queue.queued_at IS 'When it was submitted: the queue''s order.';
COMMENT ON COLUMN longform_meta.job_queue.request IS 'The job.requested message sent when it starts.';

-- The job's one state machine gains `queued` (contracts/jobstate.py).
ALTER TABLE audit.job_state DROP CONSTRAINT job_state_status_known;
ALTER TABLE audit.job_state ADD CONSTRAINT job_state_status_known
    CHECK (status IN ('queued', 'requested', 'noting', 'awaiting_review', 'writing', 'assembling', 'extending',
                      'cancelling', 'completed', 'failed', 'cancelled'));
