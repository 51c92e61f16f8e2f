-- owner: audit. audit.events partitioned by hash of stream_id (issue 19, docs/scaling.md): every
-- read of the log names one stream (the gateway's pages and live replay by (stream_id, seq), the
-- projection rebuild, the hash chain's per-stream checks, erasure by stream), so each reads one
-- of 64 partitions, and the keys stay what they were: (stream_id, seq) one event a seq, and the
-- event id unique within its stream, which is the same guarantee as before because an event's
-- stream is a function of the event (its job or its user). By month, each of those reads would
-- probe every month and neither key could be kept without the month in it.
--
-- The rows are copied into the new table in this transaction; the append-only triggers, the
-- grant, the comments and the published views are carried over; audit.append_events and the
-- erasure are PL/pgSQL (names resolved when they run) and need no change. Partitions get no
-- grants: only the owner reaches them other than through audit.events.

ALTER TABLE audit.events RENAME TO events_unpartitioned;
ALTER INDEX audit.events_pkey RENAME TO events_unpartitioned_pkey;
ALTER INDEX audit.events_event_id_key RENAME TO events_unpartitioned_event_id_key;
ALTER INDEX audit.events_by_user RENAME TO events_unpartitioned_by_user;
ALTER INDEX audit.events_job_endings RENAME TO events_unpartitioned_job_endings;

CREATE TABLE audit.events (
    stream_id text NOT NULL,
    seq bigint NOT NULL,
    event_id uuid NOT NULL,
    job_id uuid,
    user_id uuid,
    type text NOT NULL,
    service text NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    data jsonb NOT NULL,
    hash bytea,
    step text,
    CONSTRAINT events_pkey PRIMARY KEY (stream_id, seq),
    CONSTRAINT events_event_id_key UNIQUE (stream_id, event_id)
) PARTITION BY HASH (stream_id);

CREATE INDEX events_by_user ON audit.events (user_id, recorded_at);
CREATE INDEX events_job_endings ON audit.events (job_id, recorded_at) WHERE type IN ('job.completed', 'job.failed');

-- A row trigger on the partitioned table is cloned onto every partition; a TRUNCATE trigger is
-- not, so each partition gets its own.
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON audit.events
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER events_never_truncated BEFORE TRUNCATE ON audit.events
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();

DO $$
BEGIN
    FOR remainder IN 0..63 LOOP
        EXECUTE format('CREATE TABLE audit.%I PARTITION OF audit.events FOR VALUES WITH (MODULUS 64, REMAINDER %s)',
                       format('events_p%s', lpad(remainder::text, 2, '0')), remainder);
        EXECUTE format('CREATE TRIGGER events_never_truncated BEFORE TRUNCATE ON audit.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change()',
                       format('events_p%s', lpad(remainder::text, 2, '0')));
        EXECUTE format('COMMENT ON TABLE audit.%I IS %L', format('events_p%s', lpad(remainder::text, 2, '0')),
                       format('Partition %s of 64 of audit.events (hash of stream_id); read it through audit.events.', remainder));
    END LOOP;
END $$;

INSERT INTO audit.events (stream_id, seq, event_id, job_id, user_id, type, service, occurred_at, recorded_at, data, hash, step)
SELECT stream_id, seq, event_id, job_id, user_id, type, service, occurred_at, recorded_at, data, hash, step
  FROM audit.events_unpartitioned;

-- The comments of the table and of each column, as the old table had them.
DO $$
DECLARE
    old oid := 'audit.events_unpartitioned'::regclass;
    col record;
BEGIN
    EXECUTE format('COMMENT ON TABLE audit.events IS %L',
                   obj_description(old, 'pg_class') || ' Partitioned by hash of stream_id (64).');
    FOR col IN SELECT attname, attnum FROM pg_attribute WHERE attrelid = old AND attnum > 0 AND NOT attisdropped LOOP
        EXECUTE format('COMMENT ON COLUMN audit.events.%I IS %L', col.attname, col_description(old, col.attnum));
    END LOOP;
END $$;

GRANT SELECT ON audit.events TO longform_audit;

-- The published reads, onto the new table (CREATE OR REPLACE keeps their grants and comments).
CREATE OR REPLACE VIEW audit.events_v1 WITH (security_invoker = false) AS
    SELECT stream_id, seq, event_id, job_id, user_id, type, service, occurred_at, data, hash FROM audit.events;
CREATE OR REPLACE VIEW audit.events_v2 WITH (security_invoker = false) AS
    SELECT stream_id, seq, event_id, job_id, user_id, type, service, occurred_at, data, hash, step FROM audit.events;

DROP TABLE audit.events_unpartitioned;
