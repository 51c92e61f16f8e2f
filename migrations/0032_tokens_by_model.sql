-- owner: audit. A job's tokens per model, so the gateway can price them (LONGFORM_PRICES) when it
-- shows the job: a job's calls may use several models (the planner's, the writer's, the
-- summariser's), each at its own price. Prices are applied at read time, never stored, so a
-- changed price table changes no history. Jobs projected before this migration have an empty
-- map until `longform db rebuild-projections`; the gateway then says their cost is unknown.
ALTER TABLE audit.job_state ADD COLUMN tokens_by_model jsonb NOT NULL DEFAULT '{}';
COMMENT ON COLUMN audit.job_state.tokens_by_model IS
    'Tokens of every LLM call of the job by model (gen_ai.request.model, else gen_ai.response.model):'
    ' {"<model>": {"input": n, "output": n, "cached_input": n}}, as the providers reported them (llm.call).';

CREATE OR REPLACE VIEW audit.job_state_v1 WITH (security_invoker = false) AS
    SELECT job_id, status, words, chunks_done, chunks_total, error, updated_at, section, tokens_in, tokens_out,
           started_at, ended_at, last_seq, heading_words, passages_total, passages_noted, tokens_by_model
      FROM audit.job_state;
COMMENT ON COLUMN audit.job_state_v1.tokens_by_model IS
    'Tokens by model: {"<model>": {"input": n, "output": n, "cached_input": n}}.';
