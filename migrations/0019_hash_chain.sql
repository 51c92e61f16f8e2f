-- owner: audit. A tamper-evident log. Each stream (a job's, an account's) is a hash chain: every
-- event stores hash = sha256(previous event's hash || its own canonical line), the first event's
-- previous hash being 32 zero bytes, and the stream's head row keeps the last hash and seq. The
-- canonical line is the event as downloads give it (contracts/auditlog.py `canonical`: compact
-- JSON, keys sorted, without the hash), so anyone can recompute a chain from a download.
--
-- Events are appended only through audit.append_events (SECURITY DEFINER): it checks that each
-- stream's events continue its head seq by seq and that each hash links to the one before, then
-- stores them and moves the head. No role may INSERT into audit.events directly, the audit
-- service's included. Erasure only follows an owner's delete request that is itself in the log:
-- audit.erase_job takes the request's event id, checks it, and records a tombstone carrying the
-- erased stream's final seq and hash; the delete trigger lets an event go only when its stream
-- has that tombstone (the `longform.erasing_stream` setting, which any session could set, goes).
--
-- What the chain does not protect against: the owner of the database rewriting a whole stream
-- and its head together (docs/architecture.md, "A tamper-evident log", says how heads are
-- anchored outside the database), and the writer itself appending a false event as it writes.
ALTER TABLE audit.events ADD COLUMN hash bytea;  -- null only for events written before this migration
ALTER TABLE audit.stream_heads
    ADD COLUMN head bytea,
    ADD COLUMN chained_seq bigint NOT NULL DEFAULT 0;

UPDATE audit.stream_heads SET chained_seq = last_seq;  -- the chains of existing streams start after their events

ALTER TABLE audit.erased_jobs
    ADD COLUMN request_event_id uuid,
    ADD COLUMN final_seq bigint,
    ADD COLUMN final_hash bytea;

-- Seqs are taken off a stream's head under its row lock (held to commit, so seq stays gapless
-- with several replicas, and the chain is extended by one transaction at a time); with each
-- stream's first seq comes the hash its first new event links to.
CREATE FUNCTION audit.reserve_seqs(streams text[], counts bigint[])
RETURNS TABLE (stream_id text, first_seq bigint, head bytea)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO audit.stream_heads AS h (stream_id, last_seq)
    SELECT * FROM unnest(streams, counts) AS taken (stream_id, seqs) ORDER BY 1
    ON CONFLICT (stream_id) DO UPDATE SET last_seq = h.last_seq + excluded.last_seq
    RETURNING h.stream_id, h.last_seq - (SELECT c FROM unnest(streams, counts) AS t (s, c) WHERE s = h.stream_id) + 1,
              coalesce(h.head, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)
$$;

CREATE FUNCTION audit.append_events(streams text[], lines text[], hashes bytea[]) RETURNS bigint
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
        INSERT INTO audit.events (stream_id, seq, event_id, job_id, user_id, type, service, occurred_at, data, hash)
        SELECT stream_id, seq, (event ->> 'event_id')::uuid, (event ->> 'job_id')::uuid, (event ->> 'user_id')::uuid,
               event ->> 'type', event ->> 'service', (event ->> 'ts')::timestamptz, event -> 'data', hash
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

REVOKE ALL ON FUNCTION audit.reserve_seqs(text[], bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION audit.append_events(text[], text[], bytea[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.reserve_seqs(text[], bigint[]) TO longform_audit;
GRANT EXECUTE ON FUNCTION audit.append_events(text[], text[], bytea[]) TO longform_audit;
REVOKE INSERT ON audit.events FROM longform_audit;
GRANT SELECT ON audit.stream_heads TO longform_gateway;  -- to verify a log against its head
REVOKE INSERT, UPDATE, DELETE ON audit.stream_heads, audit.erased_jobs FROM longform_audit;

-- Erasure: only for an owner's delete request that is in the job's log, leaving a tombstone.
DROP FUNCTION audit.erase_job(uuid);
CREATE FUNCTION audit.erase_job(job uuid, request uuid)
RETURNS TABLE (events bigint, final_seq bigint, final_hash bytea)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    owner uuid;
    erased bigint;
    last_seq bigint;
    last_hash bytea;
BEGIN
    PERFORM pg_advisory_xact_lock(longform_meta.job_lock_key(job));
    SELECT user_id INTO owner FROM audit.events
     WHERE event_id = request AND stream_id = job::text AND type = 'job.delete_requested';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'audit.erase_job: % is not a delete request in the log of job %', request, job;
    END IF;
    SELECT chained_seq, head INTO last_seq, last_hash FROM audit.stream_heads WHERE stream_id = job::text;
    INSERT INTO audit.erased_jobs (job_id, user_id, events, request_event_id, final_seq, final_hash)
    VALUES (job, owner, 0, request, last_seq, last_hash);
    DELETE FROM audit.events WHERE stream_id = job::text;
    GET DIAGNOSTICS erased = ROW_COUNT;
    UPDATE audit.erased_jobs SET events = erased WHERE job_id = job;
    DELETE FROM audit.job_state WHERE job_id = job;
    RETURN QUERY SELECT erased, last_seq, last_hash;
END $$;
REVOKE ALL ON FUNCTION audit.erase_job(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.erase_job(uuid, uuid) TO longform_audit;

-- Even the owner cannot change an event, nor delete one but of a stream with a tombstone.
CREATE OR REPLACE FUNCTION audit.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM audit.erased_jobs e
                                     WHERE e.job_id::text = OLD.stream_id AND e.request_event_id IS NOT NULL) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit.events is append-only (% refused)', TG_OP;
END $$;

COMMENT ON COLUMN audit.events.hash IS
    'sha256(previous event''s hash || this event''s canonical line): the stream''s hash chain (null before migration 0019).';
COMMENT ON COLUMN audit.stream_heads.head IS 'The hash of the stream''s last appended event: its chain head.';
COMMENT ON COLUMN audit.stream_heads.chained_seq IS 'The seq of that event.';
COMMENT ON COLUMN audit.erased_jobs.request_event_id IS 'The owner''s delete request (job.delete_requested) that allowed the erasure.';
COMMENT ON COLUMN audit.erased_jobs.final_seq IS 'The erased stream''s last seq.';
COMMENT ON COLUMN audit.erased_jobs.final_hash IS 'The erased stream''s chain head: the tombstone keeps what was erased provable.';
