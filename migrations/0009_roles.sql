-- owner: the operator. One role per service (NOLOGIN: an operator grants it to the login role a
-- service connects as, or `longform up` lets it log in locally). Each reads and writes only its
-- own schema, reads the few tables of others it shows or builds on, and finds the audit table
-- append-only: it may insert and read events, never change or delete them. The only deletion is
-- the owner's erasure of a job (audit.erase_job, migrations/0010), which runs as the owner.
DO $$
DECLARE r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['longform_gateway', 'longform_planner', 'longform_generator', 'longform_assembler',
                             'longform_audit'] LOOP
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- roles belong to the cluster: another database (or a concurrent migrate) made it
        END;
    END LOOP;
END $$;

GRANT USAGE ON SCHEMA longform_meta
    TO longform_gateway, longform_planner, longform_generator, longform_assembler, longform_audit;
GRANT SELECT ON longform_meta.migrations
    TO longform_gateway, longform_planner, longform_generator, longform_assembler, longform_audit;

DO $$
DECLARE s text;
BEGIN
    FOREACH s IN ARRAY ARRAY['gateway', 'planner', 'generator', 'assembler', 'audit'] LOOP
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', s, 'longform_' || s);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I', s, 'longform_' || s);
        EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO %I', s, 'longform_' || s);
    END LOOP;
END $$;

-- The event table: append-only for the service that writes it.
REVOKE UPDATE, DELETE, TRUNCATE ON audit.events FROM longform_audit;

-- What a service reads of another's: the gateway shows job state, events and documents; the
-- planner cuts a rewrite's source; the assembler joins the generator's chunks.
GRANT USAGE ON SCHEMA audit, assembler TO longform_gateway;
GRANT SELECT ON audit.events, audit.job_state, assembler.documents TO longform_gateway;
GRANT USAGE ON SCHEMA gateway TO longform_planner;
GRANT SELECT ON gateway.sources TO longform_planner;
GRANT USAGE ON SCHEMA generator TO longform_assembler;
GRANT SELECT ON generator.chunks TO longform_assembler;

-- Even the owner cannot change an event, nor delete one outside audit.erase_job.
CREATE OR REPLACE FUNCTION audit.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('longform.erasing_stream', true) = OLD.stream_id THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit.events is append-only (% refused)', TG_OP;
END $$;
DROP TRIGGER events_append_only ON audit.events;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON audit.events
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER events_never_truncated BEFORE TRUNCATE ON audit.events
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
