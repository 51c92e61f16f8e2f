-- owner: audit. audit.append_lines replaces audit.append_events (0019, 0031): the same checks
-- and the same rows, for a quarter less of Postgres's time and a tenth less of the audit's
-- (issue 19, BENCHMARKS.md):
-- - each line is parsed into jsonb once (append_events parsed it more than once, see below);
-- - a batch's lines come as one bytea, newline-separated, and their hashes as one bytea, 32
--   bytes a line, instead of three arrays of 2,500 elements each, which the client encoded
--   element by element (asyncpg checks every one for a nested array): 13-16 ms of the audit's
--   CPU per batch against 5 ms. A canonical line is compact JSON, in which a newline is always
--   escaped, so a newline ends a line.
--
-- A line's stream is no longer given beside it: it is the one the line's job or account names,
-- so an event cannot be stored in another stream than its own (what append_events checked). The
-- old function is dropped: one way to append. An audit process of the release before fails its
-- batches until it is replaced; they are delivered again, nothing is lost.

CREATE FUNCTION audit.append_lines(lines bytea, hashes bytea) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    texts text[] := CASE WHEN length(lines) = 0 THEN '{}'::text[]
                         ELSE string_to_array(convert_from(lines, 'UTF8'), E'\n') END;
    appended bigint;
    bad_stream text;
    bad_seq bigint;
    bad_why text;
BEGIN
    IF length(hashes) <> 32 * cardinality(texts) THEN
        RAISE EXCEPTION 'audit.append_lines refused the batch: % lines and % bytes of hashes (32 a line)',
            cardinality(texts), length(hashes);
    END IF;
    -- One statement: each line judged against the one before it in its stream (or the stream's
    -- head), the sound ones stored and the heads moved; any broken one then undoes it all. Each
    -- line is parsed once: the CTEs are inlined, and Postgres computes an expression again where
    -- each use of it lands (append_events parsed a line for its seq and again for its columns),
    -- so the parse sits in a subquery the planner cannot pull up (OFFSET 0): 72-76 -> 53-55 us
    -- an event for this statement, on a slow machine (BENCHMARKS.md).
    WITH parsed AS (
        SELECT l AS line, substring(hashes FROM n::int * 32 - 31 FOR 32) AS hash, j.event
          FROM unnest(texts) WITH ORDINALITY AS g (l, n), LATERAL (SELECT l::jsonb AS event OFFSET 0) AS j
    ), given AS (
        SELECT p.*, coalesce(p.event ->> 'job_id', 'user:' || (p.event ->> 'user_id'), 'system') AS stream_id,
               (p.event ->> 'seq')::bigint AS seq
          FROM parsed p
    ), linked AS (
        SELECT g.*, lag(g.seq) OVER w AS prev_seq, lag(g.hash) OVER w AS prev_hash
          FROM given g WINDOW w AS (PARTITION BY g.stream_id ORDER BY g.seq)
    ), judged AS (
        SELECT l.*, CASE
            WHEN sh.stream_id IS NULL OR l.seq > sh.last_seq THEN 'its seq was not reserved'
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
        RAISE EXCEPTION 'audit.append_lines refused event % of stream %: %', bad_seq, bad_stream, bad_why;
    END IF;
    RETURN appended;
END $$;

COMMENT ON FUNCTION audit.append_lines(bytea, bytea) IS
    'The only way to append to audit.events: a batch''s canonical lines (newline-separated UTF-8) and their '
    'sha256 links (32 bytes a line), each line stored in the stream its job or account names, its seq reserved '
    'by audit.reserve_seqs and following the one before, its hash linking to the one before; else nothing is stored.';

REVOKE ALL ON FUNCTION audit.append_lines(bytea, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.append_lines(bytea, bytea) TO longform_audit;

DROP FUNCTION audit.append_events(text[], text[], bytea[]);
