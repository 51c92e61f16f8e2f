-- owner: planner and audit. Review the outline before writing (issue 17, part 3): a job that asks
-- for it (`review_plan`) stops after planning in `awaiting_review`, one more status of the job's
-- one state machine (contracts/jobstate.py). There the owner edits the plan (it stays) and approves
-- it (writing), or cancels it. tests/integration/test_job_states.py compares these with the contract.
ALTER TABLE planner.plans DROP CONSTRAINT plans_state_known;
ALTER TABLE planner.plans ADD CONSTRAINT plans_state_known
    CHECK (state IN ('awaiting_review', 'writing', 'assembling', 'cancelling', 'completed', 'failed', 'cancelled'));
ALTER TABLE audit.job_state DROP CONSTRAINT job_state_status_known;
ALTER TABLE audit.job_state ADD CONSTRAINT job_state_status_known
    CHECK (status IN ('requested', 'awaiting_review', 'writing', 'assembling', 'extending', 'cancelling',
                      'completed', 'failed', 'cancelled'));

INSERT INTO planner.plan_moves (from_state, to_state, events) VALUES
    ('awaiting_review', 'awaiting_review', 'job.plan_edit_requested then job.plan_edited'),
    ('awaiting_review', 'writing', 'job.approve_requested then job.approved'),
    ('awaiting_review', 'cancelled', 'job.cancel_requested then job.cancelled');

COMMENT ON COLUMN planner.plans.state IS
    'awaiting_review (the owner reviews the outline), writing, assembling, cancelling (asked while assembling),'
    ' completed, failed or cancelled; moves only along planner.plan_moves.';
