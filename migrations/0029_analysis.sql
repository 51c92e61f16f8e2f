-- owner: planner and generator (and audit, for the job's statuses). Analysis (`mode: analyze`,
-- SPEC "Modes"): the source is cut into passages, each passage is noted by the LLM, the report is
-- planned from the notes and each section is written from the notes of the passages it covers.
--
-- planner: the source's passages (numbered from 1), streamed from gateway.sources_v1 slice by
-- slice when the job is planned; each is sent for noting (`passage.note`), a bounded number at a
-- time, and marked noted when its `passage.noted` comes back. Each section of an analysis says
-- which passages it covers.
CREATE TABLE planner.passages (
    job_id         uuid NOT NULL REFERENCES planner.plans (job_id),
    passage        integer NOT NULL CHECK (passage >= 1),
    text           text NOT NULL,
    words          integer NOT NULL,
    status         text NOT NULL DEFAULT 'pending'
                   CONSTRAINT passages_status_known CHECK (status IN ('pending', 'dispatched', 'noted')),
    dispatched_at  timestamptz,
    noted_at       timestamptz,
    PRIMARY KEY (job_id, passage)
);
COMMENT ON TABLE planner.passages IS 'analyze: the source cut into passages (numbered from 1), each noted by the generator.';
COMMENT ON COLUMN planner.passages.job_id IS 'The job.';
COMMENT ON COLUMN planner.passages.passage IS 'Its number, from 1: what the report cites as (§N).';
COMMENT ON COLUMN planner.passages.text IS 'The passage of the source, verbatim.';
COMMENT ON COLUMN planner.passages.words IS 'Its words (contracts.wordcount).';
COMMENT ON COLUMN planner.passages.status IS 'pending, dispatched (sent for noting) or noted.';
COMMENT ON COLUMN planner.passages.dispatched_at IS 'When it was last sent for noting.';
COMMENT ON COLUMN planner.passages.noted_at IS 'When its passage.noted came back.';

ALTER TABLE planner.plans ADD COLUMN passages integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN planner.plans.passages IS 'analyze: how many passages the source was cut into (0 otherwise).';
ALTER TABLE planner.sections ADD COLUMN passage_first integer;
ALTER TABLE planner.sections ADD COLUMN passage_last integer;
COMMENT ON COLUMN planner.sections.passage_first IS 'analyze: the first source passage the section covers.';
COMMENT ON COLUMN planner.sections.passage_last IS 'analyze: the last source passage the section covers.';

-- generator: each passage's notes (claims, names, quotes worth keeping), the LLM's reply cleaned
-- and bounded, or made in code when no reply was usable. The calls are in generator.llm_calls
-- (purpose `note`), each announced by its llm.call event.
CREATE TABLE generator.passage_notes (
    job_id      uuid NOT NULL,
    passage     integer NOT NULL,
    notes       text NOT NULL,
    words       integer NOT NULL,
    made_by     text NOT NULL CONSTRAINT passage_notes_made_by_known CHECK (made_by IN ('llm', 'code')),
    fallback    text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, passage)
);
COMMENT ON TABLE generator.passage_notes IS 'analyze: the notes of each passage of the source, read when the report is planned and written.';
COMMENT ON COLUMN generator.passage_notes.job_id IS 'The job.';
COMMENT ON COLUMN generator.passage_notes.passage IS 'The passage''s number, from 1.';
COMMENT ON COLUMN generator.passage_notes.notes IS 'Its notes, one per line: claims, names, quotes worth keeping.';
COMMENT ON COLUMN generator.passage_notes.words IS 'Words of the notes.';
COMMENT ON COLUMN generator.passage_notes.made_by IS 'llm (the reply, cleaned and bounded) or code (its first and last sentences and names).';
COMMENT ON COLUMN generator.passage_notes.fallback IS 'What notes made in code replaced, empty when none was needed.';
COMMENT ON COLUMN generator.passage_notes.created_at IS 'When the notes were stored.';

-- The planner plans the report from a bounded digest of the notes: published for it.
CREATE VIEW generator.passage_notes_v1 WITH (security_invoker = false) AS
    SELECT job_id, passage, notes, words, made_by FROM generator.passage_notes;
COMMENT ON VIEW generator.passage_notes_v1 IS 'Published read (generator): each passage''s notes, for the planner''s report outline.';
COMMENT ON COLUMN generator.passage_notes_v1.job_id IS 'The job.';
COMMENT ON COLUMN generator.passage_notes_v1.passage IS 'The passage''s number, from 1.';
COMMENT ON COLUMN generator.passage_notes_v1.notes IS 'Its notes, one per line.';
COMMENT ON COLUMN generator.passage_notes_v1.words IS 'Words of the notes.';
COMMENT ON COLUMN generator.passage_notes_v1.made_by IS 'llm or code.';
GRANT SELECT ON generator.passage_notes_v1 TO longform_planner;

-- The row audit and the deleted-jobs guard, as 0008 and 0010 attach them to every table.
CREATE TRIGGER note_row_change AFTER INSERT OR UPDATE ON planner.passages
    FOR EACH ROW EXECUTE FUNCTION longform_meta.note_row_change('job_id', 'passage');
CREATE TRIGGER note_row_change AFTER INSERT OR UPDATE ON generator.passage_notes
    FOR EACH ROW EXECUTE FUNCTION longform_meta.note_row_change('job_id', 'passage');
CREATE TRIGGER drop_rows_of_deleted_jobs BEFORE INSERT ON planner.passages
    FOR EACH ROW EXECUTE FUNCTION longform_meta.drop_rows_of_deleted_jobs();
CREATE TRIGGER drop_rows_of_deleted_jobs BEFORE INSERT ON generator.passage_notes
    FOR EACH ROW EXECUTE FUNCTION longform_meta.drop_rows_of_deleted_jobs();
GRANT SELECT, INSERT, UPDATE, DELETE ON planner.passages TO longform_planner;
GRANT SELECT, INSERT, UPDATE, DELETE ON generator.passage_notes TO longform_generator;

-- The job's one state machine (contracts/jobstate.py) gains `noting`: its statuses (with 0028's
-- `awaiting_review`) and the plan's moves.
ALTER TABLE planner.plans DROP CONSTRAINT plans_state_known;
ALTER TABLE planner.plans ADD CONSTRAINT plans_state_known
    CHECK (state IN ('noting', 'awaiting_review', 'writing', 'assembling', 'cancelling', 'completed', 'failed',
                     'cancelled'));
ALTER TABLE audit.job_state DROP CONSTRAINT job_state_status_known;
ALTER TABLE audit.job_state ADD CONSTRAINT job_state_status_known
    CHECK (status IN ('requested', 'noting', 'awaiting_review', 'writing', 'assembling', 'extending', 'cancelling',
                      'completed', 'failed', 'cancelled'));
INSERT INTO planner.plan_moves (from_state, to_state, events) VALUES
    ('noting', 'writing', 'report.plan then job.planned'),
    ('noting', 'failed', 'job.failed'),
    ('noting', 'cancelled', 'job.cancel_requested then job.cancelled'),
    ('failed', 'noting', 'job.resume_requested then job.resumed then passage.note'),
    ('cancelled', 'noting', 'job.resume_requested then job.resumed then passage.note');
COMMENT ON COLUMN planner.plans.state IS
    'noting (analyze: passages being noted), awaiting_review (the owner reviews the outline), writing, assembling, cancelling (asked while assembling), completed, failed or cancelled; moves only along planner.plan_moves.';

-- The job's progress while noting: passages noted of the total (audit projection).
ALTER TABLE audit.job_state ADD COLUMN passages_total integer NOT NULL DEFAULT 0;
ALTER TABLE audit.job_state ADD COLUMN passages_noted integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN audit.job_state.passages_total IS 'analyze: passages the source was cut into.';
COMMENT ON COLUMN audit.job_state.passages_noted IS 'analyze: passages noted so far.';
CREATE OR REPLACE VIEW audit.job_state_v1 WITH (security_invoker = false) AS
    SELECT job_id, status, words, chunks_done, chunks_total, error, updated_at, section, tokens_in, tokens_out,
           started_at, ended_at, last_seq, heading_words, passages_total, passages_noted
      FROM audit.job_state;
COMMENT ON COLUMN audit.job_state_v1.passages_total IS 'analyze: passages the source was cut into.';
COMMENT ON COLUMN audit.job_state_v1.passages_noted IS 'analyze: passages noted so far.';

COMMENT ON COLUMN gateway.jobs.mode IS 'generate, rewrite or analyze.';
COMMENT ON COLUMN planner.plans.mode IS 'generate, rewrite or analyze.';
COMMENT ON COLUMN audit.job_state.mode IS 'generate, rewrite or analyze.';
