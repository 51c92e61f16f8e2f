-- owner: each schema's service publishes what others read of it. Declared boundaries: a service
-- reads another's data only through a versioned read (`<schema>.<name>_vN`, a view or a function)
-- that the owning service publishes here, exposing only the columns its readers use and granted
-- only to their roles. The direct grants those reads needed (0009, 0013, 0019) are revoked, so
-- Postgres, not convention, keeps a service out of another's tables; a test
-- (tests/unit/test_boundaries.py) refuses SQL in services/ that names another schema's table.
-- A published read changes only by a new version beside it (`_v2`), so its readers move when
-- they are ready.
--
-- Security: the views run with their owner's rights (security_invoker = false, said explicitly),
-- on purpose: the grant on the view is the whole door, and a reader holds no right on the table
-- behind it, which it would need with security_invoker. Nothing else changes for the reader: a
-- view this simple is inlined into the reader's query, so the same indexes serve it (checked with
-- EXPLAIN: the job state by its primary key, a log page by (stream_id, seq), a document or source
-- slice by job_id; substr still reads a slice of the uncompressed column, not the whole value).

-- generator: the accepted chunks, for the assembler (the document is built from them inside
-- Postgres) and the planner (on start, which dispatched chunks are already written).
CREATE VIEW generator.chunks_v1 WITH (security_invoker = false) AS
    SELECT job_id, chunk_index, text, words FROM generator.chunks;
COMMENT ON VIEW generator.chunks_v1 IS
    'Published read (generator): each accepted chunk''s text and word count, for the assembler and the planner.';
COMMENT ON COLUMN generator.chunks_v1.job_id IS 'The job.';
COMMENT ON COLUMN generator.chunks_v1.chunk_index IS 'The chunk''s place in the plan.';
COMMENT ON COLUMN generator.chunks_v1.text IS 'The accepted text.';
COMMENT ON COLUMN generator.chunks_v1.words IS 'Its words (contracts.wordcount).';
GRANT USAGE ON SCHEMA generator TO longform_assembler, longform_planner;
GRANT SELECT ON generator.chunks_v1 TO longform_assembler, longform_planner;
REVOKE ALL ON generator.chunks FROM longform_assembler, longform_planner;

-- gateway: a rewrite's source text, for the planner, which cuts it into passages slice by slice.
CREATE VIEW gateway.sources_v1 WITH (security_invoker = false) AS
    SELECT job_id, text FROM gateway.sources;
COMMENT ON VIEW gateway.sources_v1 IS
    'Published read (gateway): a rewrite''s source text, for the planner (read in substr slices).';
COMMENT ON COLUMN gateway.sources_v1.job_id IS 'The job.';
COMMENT ON COLUMN gateway.sources_v1.text IS 'The source as uploaded, stored uncompressed.';
GRANT SELECT ON gateway.sources_v1 TO longform_planner;
REVOKE ALL ON gateway.sources FROM longform_planner;

-- assembler: the finished document, for the gateway's downloads (read in substr slices).
CREATE VIEW assembler.documents_v1 WITH (security_invoker = false) AS
    SELECT job_id, body FROM assembler.documents;
COMMENT ON VIEW assembler.documents_v1 IS
    'Published read (assembler): each job''s assembled document, for the gateway''s downloads (read in substr slices).';
COMMENT ON COLUMN assembler.documents_v1.job_id IS 'The job.';
COMMENT ON COLUMN assembler.documents_v1.body IS 'The document, stored uncompressed.';
GRANT SELECT ON assembler.documents_v1 TO longform_gateway;
REVOKE ALL ON assembler.documents FROM longform_gateway;

-- audit: what the gateway shows of the log (pages of a stream, its head to verify the chain
-- against) and of the job state the projection keeps (the job's page, the job list, /metrics).
CREATE VIEW audit.events_v1 WITH (security_invoker = false) AS
    SELECT stream_id, seq, event_id, job_id, user_id, type, service, occurred_at, data, hash FROM audit.events;
COMMENT ON VIEW audit.events_v1 IS
    'Published read (audit): the log as the gateway serves it, read a page at a time by (stream_id, seq).';
COMMENT ON COLUMN audit.events_v1.stream_id IS 'The job id, user:<id> or system.';
COMMENT ON COLUMN audit.events_v1.seq IS 'Position in the stream, from 1, without gaps.';
COMMENT ON COLUMN audit.events_v1.event_id IS 'The event''s id.';
COMMENT ON COLUMN audit.events_v1.job_id IS 'The job it concerns, if any.';
COMMENT ON COLUMN audit.events_v1.user_id IS 'The account it concerns, if any.';
COMMENT ON COLUMN audit.events_v1.type IS 'The event type (job.requested, db.query, ...).';
COMMENT ON COLUMN audit.events_v1.service IS 'The service that emitted it.';
COMMENT ON COLUMN audit.events_v1.occurred_at IS 'When it happened, by the emitter''s clock.';
COMMENT ON COLUMN audit.events_v1.data IS 'The payload, redacted.';
COMMENT ON COLUMN audit.events_v1.hash IS 'Its link in the stream''s hash chain.';

CREATE VIEW audit.stream_heads_v1 WITH (security_invoker = false) AS
    SELECT stream_id, head, chained_seq FROM audit.stream_heads;
COMMENT ON VIEW audit.stream_heads_v1 IS
    'Published read (audit): each stream''s chain head, for the gateway to verify a log against.';
COMMENT ON COLUMN audit.stream_heads_v1.stream_id IS 'The stream.';
COMMENT ON COLUMN audit.stream_heads_v1.head IS 'Hash of the last chained event.';
COMMENT ON COLUMN audit.stream_heads_v1.chained_seq IS 'Seq of that event.';

CREATE VIEW audit.job_state_v1 WITH (security_invoker = false) AS
    SELECT job_id, status, words, chunks_done, chunks_total, error, updated_at, section, tokens_in, tokens_out,
           started_at, ended_at
      FROM audit.job_state;
COMMENT ON VIEW audit.job_state_v1 IS
    'Published read (audit): each job''s state and progress as the projection keeps it, for the gateway and /metrics.';
COMMENT ON COLUMN audit.job_state_v1.job_id IS 'The job.';
COMMENT ON COLUMN audit.job_state_v1.status IS 'Its state.';
COMMENT ON COLUMN audit.job_state_v1.words IS 'Words written so far (of the document once assembled).';
COMMENT ON COLUMN audit.job_state_v1.chunks_done IS 'Chunks written.';
COMMENT ON COLUMN audit.job_state_v1.chunks_total IS 'Chunks planned.';
COMMENT ON COLUMN audit.job_state_v1.error IS 'Why it failed, with the resume advice.';
COMMENT ON COLUMN audit.job_state_v1.updated_at IS 'When the last event was applied.';
COMMENT ON COLUMN audit.job_state_v1.section IS 'Section of the chunk dispatched last.';
COMMENT ON COLUMN audit.job_state_v1.tokens_in IS 'Input tokens of every LLM call of the job.';
COMMENT ON COLUMN audit.job_state_v1.tokens_out IS 'Output tokens of every LLM call of the job.';
COMMENT ON COLUMN audit.job_state_v1.started_at IS 'When the job was first planned.';
COMMENT ON COLUMN audit.job_state_v1.ended_at IS 'When it ended; null while it runs.';

GRANT SELECT ON audit.events_v1, audit.stream_heads_v1, audit.job_state_v1 TO longform_gateway;
GRANT SELECT ON audit.job_state_v1 TO longform_audit;  -- /metrics reads the one way, whichever service serves it
REVOKE ALL ON audit.events, audit.stream_heads, audit.job_state FROM longform_gateway;

-- audit: which jobs the retention policy may prune, for the generator: (job, owner, status) and
-- nothing else of the log. A function, not a view, since the windows are the caller's settings.
-- It replaces the unversioned audit.jobs_due_for_retention of 0011, which only the generator
-- called. SECURITY DEFINER for the reason the views run as their owner: the generator has no
-- right on audit.job_state or audit.events, only on this function.
CREATE FUNCTION audit.jobs_due_for_retention_v1(completed_for interval, failed_for interval, only_job uuid DEFAULT NULL)
RETURNS TABLE (job_id uuid, user_id uuid, status text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT j.job_id, j.user_id, j.status FROM audit.job_state j
     WHERE j.status IN ('completed', 'failed') AND (only_job IS NULL OR j.job_id = only_job)
       AND (SELECT max(e.recorded_at) FROM audit.events e
             WHERE e.job_id = j.job_id AND e.type = 'job.' || j.status)
           < now() - CASE j.status WHEN 'completed' THEN completed_for ELSE failed_for END
$$;
COMMENT ON FUNCTION audit.jobs_due_for_retention_v1(interval, interval, uuid) IS
    'Published read (audit): jobs completed (failed) longer ago than the window, for the generator''s retention policy.';
REVOKE ALL ON FUNCTION audit.jobs_due_for_retention_v1(interval, interval, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.jobs_due_for_retention_v1(interval, interval, uuid) TO longform_generator;
DROP FUNCTION audit.jobs_due_for_retention(interval, interval, uuid);

-- A published view has a job_id but holds no rows of its own: erasing a job's rows (0010) walks
-- the schema's base tables only, so a view is never asked to delete (a reader has no such right).
CREATE OR REPLACE FUNCTION longform_meta.erase_job_rows(service_schema text, job uuid) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    t       record;
    erased  bigint;
    counts  jsonb := '{}';
BEGIN
    PERFORM pg_advisory_xact_lock(longform_meta.job_lock_key(job));
    EXECUTE format('INSERT INTO %I.deleted_jobs (job_id) VALUES ($1) ON CONFLICT DO NOTHING', service_schema)
        USING job;
    FOR t IN
        SELECT c.table_name FROM information_schema.columns c
          JOIN information_schema.tables k ON k.table_schema = c.table_schema AND k.table_name = c.table_name
         WHERE c.table_schema = service_schema AND c.column_name = 'job_id' AND c.table_name <> 'deleted_jobs'
           AND k.table_type = 'BASE TABLE'
         -- a table after those that refer to it (planner.chunks, then .sections, then .plans)
         ORDER BY (SELECT count(*) FROM pg_constraint f
                    WHERE f.contype = 'f' AND f.confrelid = format('%I.%I', c.table_schema, c.table_name)::regclass),
                  c.table_name
    LOOP
        EXECUTE format('DELETE FROM %I.%I WHERE job_id = $1', service_schema, t.table_name) USING job;
        GET DIAGNOSTICS erased = ROW_COUNT;
        counts := counts || jsonb_build_object(service_schema || '.' || t.table_name, erased);
    END LOOP;
    IF service_schema = 'gateway' THEN
        DELETE FROM gateway.jobs WHERE id = job;
        GET DIAGNOSTICS erased = ROW_COUNT;
        counts := counts || jsonb_build_object('gateway.jobs', erased);
    END IF;
    EXECUTE format('DELETE FROM %I.outbox WHERE published_at IS NOT NULL AND payload->>''job_id'' = $1',
                   service_schema) USING job::text;
    GET DIAGNOSTICS erased = ROW_COUNT;
    RETURN counts || jsonb_build_object(service_schema || '.outbox', erased);
END $$;
