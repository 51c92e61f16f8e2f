-- owner: the operator. The client-side LLM rate limit (LONGFORM_LLM_MAX_REQUESTS_PER_MINUTE,
-- services/common/llm/ratelimit.py), shared by every planner and generator process: one row per
-- provider holds the earliest time its next request may leave. A request takes the next free slot
-- in one statement (longform_meta.take_llm_slot), under the row's lock, so the processes together
-- send at most the configured rate, however many of them there are.
CREATE TABLE longform_meta.llm_slots (
    provider  text PRIMARY KEY,
    next_at   timestamptz NOT NULL
);

-- The seconds the caller waits before its request leaves (0 when the provider is idle). A slot
-- taken and not used (the caller cancelled) is lost: the limit errs on the slow side.
CREATE FUNCTION longform_meta.take_llm_slot(of_provider text, per_minute double precision)
RETURNS double precision
LANGUAGE sql AS $$
    INSERT INTO longform_meta.llm_slots AS s (provider, next_at)
    VALUES (of_provider, clock_timestamp() + make_interval(secs => 60 / per_minute))
    ON CONFLICT (provider) DO UPDATE
        SET next_at = greatest(s.next_at, clock_timestamp()) + make_interval(secs => 60 / per_minute)
    RETURNING greatest(0, extract(epoch FROM s.next_at - make_interval(secs => 60 / per_minute) - clock_timestamp()))::double precision
$$;

GRANT SELECT, INSERT, UPDATE ON longform_meta.llm_slots TO longform_planner, longform_generator;
GRANT EXECUTE ON FUNCTION longform_meta.take_llm_slot(text, double precision) TO longform_planner, longform_generator;

COMMENT ON TABLE longform_meta.llm_slots IS 'The shared client-side LLM rate limit: when each provider may next be called.';
COMMENT ON COLUMN longform_meta.llm_slots.provider IS 'The provider, as LONGFORM_LLM_PROVIDER names it.';
COMMENT ON COLUMN longform_meta.llm_slots.next_at IS 'The earliest time the next request to it may leave.';
