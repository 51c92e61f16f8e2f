-- owner: each service, in its own schema. The outbox (events committed with the state they
-- describe, published afterwards), the ids of the events already handled (idempotency), and,
-- for the services that call an LLM, every call: prompt, reply, usage, kept or discarded.
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

DO $$
DECLARE s text;
BEGIN
    FOREACH s IN ARRAY ARRAY['planner', 'generator'] LOOP
        EXECUTE format('CREATE TABLE %I.llm_calls (
            id             bigserial PRIMARY KEY,
            job_id         uuid NOT NULL,
            purpose        text NOT NULL,
            chunk_index    integer,
            attempt        integer NOT NULL,
            provider       text NOT NULL,
            model          text NOT NULL,
            system_prompt  text NOT NULL,
            prompt         text NOT NULL,
            response       text NOT NULL DEFAULT '''',
            words          integer NOT NULL DEFAULT 0,
            finish_reason  text,
            input_tokens   integer,
            output_tokens  integer,
            latency_ms     integer,
            first_token_ms integer,
            kept           boolean NOT NULL,
            error          text,
            created_at     timestamptz NOT NULL DEFAULT now())', s);
        EXECUTE format('CREATE INDEX ON %I.llm_calls (job_id, chunk_index, attempt)', s);
    END LOOP;
END $$;
