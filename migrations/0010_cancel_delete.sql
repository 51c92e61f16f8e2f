-- owners: planner, generator, assembler, gateway, audit. Cancel and the owner's hard delete.
--
-- Cancel: the planner's plan carries an epoch, each chunk.write the epoch it was dispatched in;
-- a cancel stops every write of its epoch or before, and a resume starts the next epoch.
ALTER TABLE planner.plans ADD COLUMN epoch integer NOT NULL DEFAULT 0;
-- A cancel that arrives before the plan exists (the outline is still being written).
CREATE TABLE planner.stops (
    job_id        uuid PRIMARY KEY,
    requested_at  timestamptz NOT NULL DEFAULT now()
);
-- The generator abandons a write whose epoch is at or below its job's stop epoch.
CREATE TABLE generator.stops (
    job_id  uuid PRIMARY KEY,
    epoch   integer NOT NULL
);

-- Delete: each service erases its rows of the job (longform_meta.erase_job_rows) and marks the
-- job deleted; from then on a trigger drops any row a late, in-flight handler would write for it,
-- so nothing of a deleted job comes back. An advisory lock per job orders the two.
DO $$
DECLARE s text;
BEGIN
    FOREACH s IN ARRAY ARRAY['gateway', 'planner', 'generator', 'assembler'] LOOP
        EXECUTE format('CREATE TABLE %I.deleted_jobs (
            job_id      uuid PRIMARY KEY,
            deleted_at  timestamptz NOT NULL DEFAULT now())', s);
    END LOOP;
END $$;

CREATE FUNCTION longform_meta.job_lock_key(job uuid) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    SELECT hashtextextended(job::text, 7411020)
$$;

CREATE FUNCTION longform_meta.drop_rows_of_deleted_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE deleted boolean;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(longform_meta.job_lock_key(NEW.job_id));
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.deleted_jobs WHERE job_id = $1)', TG_TABLE_SCHEMA)
        INTO deleted USING NEW.job_id;
    IF deleted THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;

-- Erases a job's rows from every table of `service_schema` that has a job_id (and the published
-- outbox rows that carried its events), marks it deleted, and says how many rows each table lost.
CREATE FUNCTION longform_meta.erase_job_rows(service_schema text, job uuid) RETURNS jsonb
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
         WHERE c.table_schema = service_schema AND c.column_name = 'job_id' AND c.table_name <> 'deleted_jobs'
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

DO $$
DECLARE t record;
BEGIN
    FOR t IN
        SELECT c.table_schema, c.table_name FROM information_schema.columns c
          JOIN information_schema.tables k ON k.table_schema = c.table_schema AND k.table_name = c.table_name
         WHERE c.table_schema IN ('planner', 'generator', 'assembler', 'gateway') AND c.column_name = 'job_id'
           AND c.table_name <> 'deleted_jobs' AND k.table_type = 'BASE TABLE'
    LOOP
        EXECUTE format('CREATE TRIGGER drop_rows_of_deleted_jobs BEFORE INSERT ON %I.%I
                        FOR EACH ROW EXECUTE FUNCTION longform_meta.drop_rows_of_deleted_jobs()',
                       t.table_schema, t.table_name);
    END LOOP;
END $$;

-- The audit side: erased jobs are remembered, so a late event of one is dropped, not stored.
CREATE TABLE audit.erased_jobs (
    job_id     uuid PRIMARY KEY,
    user_id    uuid,
    events     bigint NOT NULL,
    erased_at  timestamptz NOT NULL DEFAULT now()
);

-- The owner's hard delete of a job removes its stream of events (the audit service then appends a
-- tombstone to the account's stream). The stream's head stays, so no seq is ever reused.
CREATE FUNCTION audit.erase_job(job uuid) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE erased bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(longform_meta.job_lock_key(job));
    PERFORM set_config('longform.erasing_stream', job::text, true);
    DELETE FROM audit.events WHERE stream_id = job::text;
    GET DIAGNOSTICS erased = ROW_COUNT;
    DELETE FROM audit.job_state WHERE job_id = job;
    PERFORM set_config('longform.erasing_stream', '', true);
    RETURN erased;
END $$;
REVOKE ALL ON FUNCTION audit.erase_job(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.erase_job(uuid) TO longform_audit;

-- The new tables, for their services' roles (as in 0009).
DO $$
DECLARE s text;
BEGIN
    FOREACH s IN ARRAY ARRAY['gateway', 'planner', 'generator', 'assembler', 'audit'] LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I', s, 'longform_' || s);
    END LOOP;
END $$;
REVOKE UPDATE, DELETE, TRUNCATE ON audit.events FROM longform_audit;
