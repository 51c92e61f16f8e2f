-- owner: planner and generator. Every prompt and reply one click away: each service that calls
-- the LLM publishes its calls to the gateway, which shows one to the job's owner
-- (GET /v1/jobs/{id}/llm-calls/{seq}: the `llm.call` event at that seq of the job's log names
-- the row it stored, `longform.stored_as`).
DO $$
DECLARE s text;
BEGIN
    FOREACH s IN ARRAY ARRAY['planner', 'generator'] LOOP
        EXECUTE format('CREATE VIEW %1$I.llm_calls_v1 WITH (security_invoker = false) AS
            SELECT id, job_id, purpose, chunk_index, attempt, provider, model, system_prompt, prompt, response,
                   words, finish_reason, input_tokens, output_tokens, latency_ms, first_token_ms, kept, error,
                   created_at
              FROM %1$I.llm_calls', s);
        EXECUTE format('COMMENT ON VIEW %1$I.llm_calls_v1 IS %2$L', s,
                       'Published read (' || s || '): every LLM call it made, for the gateway to show the job''s owner.');
        EXECUTE format('COMMENT ON COLUMN %1$I.llm_calls_v1.id IS %2$L', s, 'The call''s id, named by its llm.call event.');
        EXECUTE format('COMMENT ON COLUMN %1$I.llm_calls_v1.job_id IS %2$L', s, 'The job.');
        EXECUTE format('COMMENT ON COLUMN %1$I.llm_calls_v1.purpose IS %2$L', s, 'outline, write or summarize.');
        EXECUTE format('COMMENT ON COLUMN %1$I.llm_calls_v1.chunk_index IS %2$L', s, 'The chunk; NULL for the outline.');
        EXECUTE format('COMMENT ON COLUMN %1$I.llm_calls_v1.attempt IS %2$L', s, 'Attempt number, from 1.');
        EXECUTE format('COMMENT ON COLUMN %1$I.llm_calls_v1.provider IS %2$L', s, 'The provider.');
        EXECUTE format('COMMENT ON COLUMN %1$I.llm_calls_v1.model IS %2$L', s, 'The model.');
        EXECUTE format('COMMENT ON COLUMN %1$I.llm_calls_v1.system_prompt IS %2$L', s, 'The system prompt sent.');
        EXECUTE format('COMMENT ON COLUMN %1$I.llm_calls_v1.prompt IS %2$L', s, 'The prompt sent.');
        EXECUTE format('COMMENT ON COLUMN %1$I.llm_calls_v1.response IS %2$L', s, 'The reply as received.');
        EXECUTE format('COMMENT ON COLUMN %1$I.llm_calls_v1.words IS %2$L', s, 'Words of the reply.');
        EXECUTE format('COMMENT ON COLUMN %1$I.llm_calls_v1.finish_reason IS %2$L', s, 'Why the reply ended.');
        EXECUTE format('COMMENT ON COLUMN %1$I.llm_calls_v1.input_tokens IS %2$L', s, 'Input tokens.');
        EXECUTE format('COMMENT ON COLUMN %1$I.llm_calls_v1.output_tokens IS %2$L', s, 'Output tokens.');
        EXECUTE format('COMMENT ON COLUMN %1$I.llm_calls_v1.latency_ms IS %2$L', s, 'Time to the whole reply.');
        EXECUTE format('COMMENT ON COLUMN %1$I.llm_calls_v1.first_token_ms IS %2$L', s, 'Time to its first token.');
        EXECUTE format('COMMENT ON COLUMN %1$I.llm_calls_v1.kept IS %2$L', s, 'Whether the reply was used.');
        EXECUTE format('COMMENT ON COLUMN %1$I.llm_calls_v1.error IS %2$L', s, 'Why not, or the provider''s error.');
        EXECUTE format('COMMENT ON COLUMN %1$I.llm_calls_v1.created_at IS %2$L', s, 'When it was stored.');
        EXECUTE format('GRANT USAGE ON SCHEMA %1$I TO longform_gateway', s);
        EXECUTE format('GRANT SELECT ON %1$I.llm_calls_v1 TO longform_gateway', s);
    END LOOP;
END $$;
