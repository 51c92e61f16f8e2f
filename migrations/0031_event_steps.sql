-- owner: audit. Each event names the step of its job it belongs to (`plan`, `chunk:12`,
-- `summary:12`, `assemble`, ...: contracts/steps.py), so the panel tells a job's story from its
-- log alone, live or replayed. The step is part of the event's line, so the hash chain covers it;
-- a line has no `step` key when the event has none (every event written before this migration),
-- so the chains already written verify as they did. append_events stores it from the line, as it
-- stores every other column; the gateway reads it through a new version of the log's read.
ALTER TABLE audit.events ADD COLUMN step text;
COMMENT ON COLUMN audit.events.step IS
    'The step of the job the event belongs to (plan, chunk:12, assemble, ...); null before migration 0031.';

CREATE OR REPLACE FUNCTION audit.append_events(streams text[], lines text[], hashes bytea[]) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    appended bigint;
    bad_stream text;
    bad_seq bigint;
    bad_why text;
BEGIN
    -- One statement: each line judged against the one before it in its stream (or the stream's
    -- head), the sound ones stored and the heads moved; any broken one then undoes it all.
    WITH parsed AS (
        SELECT s AS stream_id, l AS line, h AS hash, l::jsonb AS event FROM unnest(streams, lines, hashes) AS g (s, l, h)
    ), given AS (
        SELECT p.*, (p.event ->> 'seq')::bigint AS seq FROM parsed p
    ), linked AS (
        SELECT g.*, lag(g.seq) OVER w AS prev_seq, lag(g.hash) OVER w AS prev_hash
          FROM given g WINDOW w AS (PARTITION BY g.stream_id ORDER BY g.seq)
    ), judged AS (
        SELECT l.*, CASE
            WHEN sh.stream_id IS NULL OR l.seq > sh.last_seq THEN 'its seq was not reserved'
            WHEN l.stream_id <> coalesce(l.event ->> 'job_id', 'user:' || (l.event ->> 'user_id'), 'system')
                THEN 'its stream is not the one its job or user names'
            WHEN l.seq <> coalesce(l.prev_seq, sh.chained_seq) + 1 THEN 'its seq does not follow the one before'
            WHEN l.hash IS DISTINCT FROM sha256(coalesce(l.prev_hash, sh.head,
                     '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)
                     || convert_to(l.line, 'UTF8')) THEN 'its hash does not link to the one before'
            END AS why
          FROM linked l LEFT JOIN audit.stream_heads sh ON sh.stream_id = l.stream_id
    ), stored AS (
        INSERT INTO audit.events (stream_id, seq, event_id, job_id, user_id, type, service, occurred_at, data, hash,
                                  step)
        SELECT stream_id, seq, (event ->> 'event_id')::uuid, (event ->> 'job_id')::uuid, (event ->> 'user_id')::uuid,
               event ->> 'type', event ->> 'service', (event ->> 'ts')::timestamptz, event -> 'data', hash,
               event ->> 'step'
          FROM judged WHERE why IS NULL
        RETURNING 1
    ), moved AS (
        UPDATE audit.stream_heads sh SET head = last.hash, chained_seq = last.seq
          FROM (SELECT DISTINCT ON (stream_id) stream_id, seq, hash FROM judged ORDER BY stream_id, seq DESC) last
         WHERE sh.stream_id = last.stream_id
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM stored), b.stream_id, b.seq, b.why INTO appended, bad_stream, bad_seq, bad_why
      FROM (SELECT 1) AS one
      LEFT JOIN LATERAL (SELECT stream_id, seq, why FROM judged WHERE why IS NOT NULL
                          ORDER BY stream_id, seq LIMIT 1) b ON true;
    IF bad_why IS NOT NULL THEN  -- (the rows stored above go with the transaction the exception aborts)
        RAISE EXCEPTION 'audit.append_events refused event % of stream %: %', bad_seq, bad_stream, bad_why;
    END IF;
    RETURN appended;
END $$;

CREATE VIEW audit.events_v2 WITH (security_invoker = false) AS
    SELECT stream_id, seq, event_id, job_id, user_id, type, service, occurred_at, data, hash, step FROM audit.events;
COMMENT ON VIEW audit.events_v2 IS
    'Published read (audit): the log as the gateway serves it, read a page at a time by (stream_id, seq), with each event''s step.';
COMMENT ON COLUMN audit.events_v2.stream_id IS 'The job id, user:<id> or system.';
COMMENT ON COLUMN audit.events_v2.seq IS 'Position in the stream, from 1, without gaps.';
COMMENT ON COLUMN audit.events_v2.event_id IS 'The event''s id.';
COMMENT ON COLUMN audit.events_v2.job_id IS 'The job it concerns, if any.';
COMMENT ON COLUMN audit.events_v2.user_id IS 'The account it concerns, if any.';
COMMENT ON COLUMN audit.events_v2.type IS 'The event type (job.requested, db.query, ...).';
COMMENT ON COLUMN audit.events_v2.service IS 'The service that emitted it.';
COMMENT ON COLUMN audit.events_v2.occurred_at IS 'When it happened, by the emitter''s clock.';
COMMENT ON COLUMN audit.events_v2.data IS 'The payload, redacted.';
COMMENT ON COLUMN audit.events_v2.hash IS 'Its link in the stream''s hash chain.';
COMMENT ON COLUMN audit.events_v2.step IS 'The step of the job it belongs to; null before migration 0031.';
GRANT SELECT ON audit.events_v2 TO longform_gateway;
