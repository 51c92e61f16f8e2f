-- owner: each service, in its own schema. The outbox (events committed with the state they
-- describe, published afterwards) and the ids of the events already handled (idempotency).
DO $$
DECLARE s text;
BEGIN
    FOREACH s IN ARRAY ARRAY['gateway', 'planner', 'generator', 'assembler', 'audit'] LOOP
        EXECUTE format('CREATE TABLE %I.outbox (
            id            bigserial PRIMARY KEY,
            event_id      uuid NOT NULL UNIQUE,
            type          text NOT NULL,
            payload       jsonb NOT NULL,
            created_at    timestamptz NOT NULL DEFAULT now(),
            published_at  timestamptz)', s);
        EXECUTE format('CREATE INDEX ON %I.outbox (id) WHERE published_at IS NULL', s);
        EXECUTE format('CREATE TABLE %I.processed_events (
            event_id      uuid PRIMARY KEY,
            processed_at  timestamptz NOT NULL DEFAULT now())', s);
    END LOOP;
END $$;
