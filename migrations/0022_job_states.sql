-- owner: planner and audit. The job's one state machine (contracts/jobstate.py) in the database:
-- the statuses as CHECK constraints, and the plan's moves as a table that a trigger enforces, so
-- no writer, however it reaches the row, can put a plan in a status the machine does not have or
-- move it along an edge the machine does not draw. tests/integration/test_job_states.py compares
-- both with contracts/jobstate.py.

-- Before this migration the planner never completed a plan: a completed job's plan stayed
-- `assembling`. Its job's status (the audit projection) says what it became.
UPDATE planner.plans p SET state = j.status
  FROM audit.job_state j
 WHERE j.job_id = p.job_id AND p.state = 'assembling' AND j.status IN ('completed', 'failed', 'cancelled');

ALTER TABLE planner.plans ADD CONSTRAINT plans_state_known
    CHECK (state IN ('writing', 'assembling', 'cancelling', 'completed', 'failed', 'cancelled'));
ALTER TABLE planner.chunks ADD CONSTRAINT chunks_status_known
    CHECK (status IN ('pending', 'dispatched', 'done', 'failed'));
ALTER TABLE audit.job_state ADD CONSTRAINT job_state_status_known
    CHECK (status IN ('requested', 'writing', 'assembling', 'extending', 'cancelling', 'completed', 'failed',
                      'cancelled'));

CREATE TABLE planner.plan_moves (
    from_state  text NOT NULL,
    to_state    text NOT NULL,
    events      text NOT NULL,
    PRIMARY KEY (from_state, to_state)
);
INSERT INTO planner.plan_moves (from_state, to_state, events) VALUES
    ('writing', 'assembling', 'chunk.processed then document.assemble'),
    ('writing', 'failed', 'chunk.processed then job.failed'),
    ('writing', 'cancelled', 'job.cancel_requested then job.cancelled'),
    ('assembling', 'writing', 'job.extend then job.extended'),
    ('assembling', 'completed', 'job.completed'),
    ('assembling', 'failed', 'job.failed'),
    ('assembling', 'cancelling', 'job.cancel_requested'),
    ('cancelling', 'completed', 'job.completed'),
    ('cancelling', 'cancelled', 'job.extend then job.cancelled'),
    ('cancelling', 'failed', 'job.failed'),
    ('failed', 'writing', 'job.resume_requested then job.resumed'),
    ('cancelled', 'writing', 'job.resume_requested then job.resumed');

CREATE FUNCTION planner.refuse_unknown_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM planner.plan_moves WHERE from_state = OLD.state AND to_state = NEW.state) THEN
        RAISE EXCEPTION 'the plan of job % cannot move from % to %', OLD.job_id, OLD.state, NEW.state
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER plans_move_along_the_machine BEFORE UPDATE OF state ON planner.plans
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION planner.refuse_unknown_move();

GRANT SELECT ON planner.plan_moves TO longform_planner;

COMMENT ON TABLE planner.plan_moves IS
    'The plan''s allowed status moves (contracts/jobstate.py PLAN_MOVES), enforced by a trigger on planner.plans.';
COMMENT ON COLUMN planner.plan_moves.from_state IS 'The status the plan is in.';
COMMENT ON COLUMN planner.plan_moves.to_state IS 'A status it may move to.';
COMMENT ON COLUMN planner.plan_moves.events IS 'The events of that move, as the job''s log holds them.';
COMMENT ON COLUMN planner.plans.state IS
    'writing, assembling, cancelling (asked while assembling), completed, failed or cancelled; moves only along planner.plan_moves.';
