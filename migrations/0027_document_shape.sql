-- owner: planner and assembler. The document has a shape (SPEC D1, D2): the plan's titles are its
-- headings in every format, and the plan is visible while the job runs.
--
-- planner: each section keeps its heading path as a list (part, chapter, section titles), not
-- only the joined `path` the prompts read, and where its own title comes from: `plan` (the
-- outline's), `text` (an outline made in code: the section's first sentence, once written,
-- titles it) or `none` (no heading of its own: a rewrite's passages). A plan may ask for no
-- headings at all (`headings`, the job's option).
ALTER TABLE planner.plans ADD COLUMN headings boolean NOT NULL DEFAULT true;
ALTER TABLE planner.sections ADD COLUMN titles text[] NOT NULL DEFAULT '{}';
ALTER TABLE planner.sections ADD COLUMN title_source text NOT NULL DEFAULT 'plan'
    CONSTRAINT sections_title_source_known CHECK (title_source IN ('plan', 'text', 'none'));
UPDATE planner.sections SET titles = string_to_array(path, ' › ');
COMMENT ON COLUMN planner.plans.headings IS 'Whether the document has headings (the job''s `headings` option).';
COMMENT ON COLUMN planner.sections.titles IS 'Its heading path: part, chapter and section titles, outermost first.';
COMMENT ON COLUMN planner.sections.title_source IS
    'Where its own title comes from: plan (the outline), text (its first sentence once written), none (no heading).';

-- The plan as its readers see it: the assembler (headings) and the gateway (GET /v1/jobs/{id}/plan,
-- the partial document). One row per section with its progress, counted from its chunks.
CREATE VIEW planner.sections_v1 WITH (security_invoker = false) AS
    SELECT s.job_id, s.section_index, s.titles, s.title_source, s.brief, s.budget_words,
           count(c.chunk_index)::int AS chunks,
           (count(c.chunk_index) FILTER (WHERE c.status = 'done'))::int AS chunks_done,
           (coalesce(sum(c.words) FILTER (WHERE c.status = 'done'), 0))::int AS words,
           min(c.chunk_index) AS first_chunk,
           CASE WHEN count(c.chunk_index) > 0 AND bool_and(c.status = 'done') THEN 'done'
                WHEN bool_or(c.status IN ('dispatched', 'done')) THEN 'writing'
                ELSE 'pending' END AS status
      FROM planner.sections s LEFT JOIN planner.chunks c USING (job_id, section_index)
     GROUP BY s.job_id, s.section_index;
COMMENT ON VIEW planner.sections_v1 IS
    'Published read (planner): each section of a job''s plan with its progress, for the assembler and the gateway.';
COMMENT ON COLUMN planner.sections_v1.job_id IS 'The job.';
COMMENT ON COLUMN planner.sections_v1.section_index IS 'Its place in the document.';
COMMENT ON COLUMN planner.sections_v1.titles IS 'Its heading path: part, chapter and section titles, outermost first.';
COMMENT ON COLUMN planner.sections_v1.title_source IS 'plan, text (its first sentence titles it) or none.';
COMMENT ON COLUMN planner.sections_v1.brief IS 'What it must cover.';
COMMENT ON COLUMN planner.sections_v1.budget_words IS 'Its word budget.';
COMMENT ON COLUMN planner.sections_v1.chunks IS 'Chunks planned.';
COMMENT ON COLUMN planner.sections_v1.chunks_done IS 'Chunks written.';
COMMENT ON COLUMN planner.sections_v1.words IS 'Words written (body words).';
COMMENT ON COLUMN planner.sections_v1.first_chunk IS 'Index of its first chunk.';
COMMENT ON COLUMN planner.sections_v1.status IS 'pending, writing or done.';

CREATE VIEW planner.plans_v1 WITH (security_invoker = false) AS
    SELECT job_id, mode, state, target_words, planned_words, outline_source, style, headings, extension_round
      FROM planner.plans;
COMMENT ON VIEW planner.plans_v1 IS 'Published read (planner): each job''s plan, for the gateway.';
COMMENT ON COLUMN planner.plans_v1.job_id IS 'The job.';
COMMENT ON COLUMN planner.plans_v1.mode IS 'generate, rewrite or analyze.';
COMMENT ON COLUMN planner.plans_v1.state IS 'The plan''s status (contracts/jobstate.py).';
COMMENT ON COLUMN planner.plans_v1.target_words IS 'The job''s target.';
COMMENT ON COLUMN planner.plans_v1.planned_words IS 'The sum of its chunks'' budgets.';
COMMENT ON COLUMN planner.plans_v1.outline_source IS 'single, llm, code or source.';
COMMENT ON COLUMN planner.plans_v1.style IS 'The style sheet.';
COMMENT ON COLUMN planner.plans_v1.headings IS 'Whether the document has headings.';
COMMENT ON COLUMN planner.plans_v1.extension_round IS 'Extension rounds so far.';

GRANT USAGE ON SCHEMA planner TO longform_assembler, longform_gateway;
GRANT SELECT ON planner.sections_v1 TO longform_assembler, longform_gateway;
GRANT SELECT ON planner.plans_v1 TO longform_gateway;

-- generator: the accepted chunks, for the gateway too (what is written so far, before the end).
GRANT USAGE ON SCHEMA generator TO longform_gateway;
GRANT SELECT ON generator.chunks_v1 TO longform_gateway;

-- assembler: the document's headings beside its body. The body holds body words only (the target
-- counts them); each heading says where in the body it stands (`at`, the 1-based character
-- position substr() takes), its level, number and title. Downloads put them in.
ALTER TABLE assembler.documents ADD COLUMN headings jsonb NOT NULL DEFAULT '[]';
ALTER TABLE assembler.documents ADD COLUMN heading_words integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN assembler.documents.headings IS
    'Its headings in order: [{at, level, number, title}], at = the character of the body it stands before.';
COMMENT ON COLUMN assembler.documents.heading_words IS 'Words of its headings (on top of the body''s words).';
CREATE OR REPLACE VIEW assembler.documents_v1 WITH (security_invoker = false) AS
    SELECT job_id, body, headings, heading_words, words FROM assembler.documents;
COMMENT ON COLUMN assembler.documents_v1.headings IS 'Its headings: [{at, level, number, title}].';
COMMENT ON COLUMN assembler.documents_v1.heading_words IS 'Words of its headings.';
COMMENT ON COLUMN assembler.documents_v1.words IS 'Words of its body (what the target counts).';

-- audit: the job state shows heading words beside body words.
ALTER TABLE audit.job_state ADD COLUMN heading_words integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN audit.job_state.heading_words IS 'Words of the document''s headings, on top of `words`.';
CREATE OR REPLACE VIEW audit.job_state_v1 WITH (security_invoker = false) AS
    SELECT job_id, status, words, chunks_done, chunks_total, error, updated_at, section, tokens_in, tokens_out,
           started_at, ended_at, last_seq, heading_words
      FROM audit.job_state;
COMMENT ON COLUMN audit.job_state_v1.heading_words IS 'Words of the document''s headings, on top of `words`.';
