-- owner: gateway. Per-client rate limits on sign-up, sign-in, token creation and job creation
-- (services/gateway/limiter.py), shared by every gateway replica through this table: one row per
-- client and action, a fixed window of `window_seconds`, how many requests it used and how many
-- were refused in it. A request takes its place in one statement (gateway.take_rate_limit).
CREATE TABLE gateway.rate_limits (
    client        text NOT NULL,
    action        text NOT NULL,
    window_start  timestamptz NOT NULL,
    used          integer NOT NULL,
    refused       integer NOT NULL DEFAULT 0,
    PRIMARY KEY (client, action)
);

CREATE FUNCTION gateway.take_rate_limit(who text, what text, per_window integer, window_seconds integer)
RETURNS TABLE (allowed boolean, retry_after integer, refused integer)
LANGUAGE sql AS $$
    INSERT INTO gateway.rate_limits AS r (client, action, window_start, used, refused)
    VALUES (who, what, now(), 1, 0)
    ON CONFLICT (client, action) DO UPDATE SET
        window_start = CASE WHEN r.window_start <= now() - make_interval(secs => window_seconds)
                            THEN now() ELSE r.window_start END,
        used = CASE WHEN r.window_start <= now() - make_interval(secs => window_seconds) THEN 1 ELSE r.used + 1 END,
        refused = CASE WHEN r.window_start <= now() - make_interval(secs => window_seconds) THEN 0
                       WHEN r.used + 1 > per_window THEN r.refused + 1 ELSE r.refused END
    RETURNING r.used <= per_window,
              greatest(1, ceil(extract(epoch FROM r.window_start + make_interval(secs => window_seconds) - now())))::integer,
              r.refused
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON gateway.rate_limits TO longform_gateway;
GRANT EXECUTE ON FUNCTION gateway.take_rate_limit(text, text, integer, integer) TO longform_gateway;

COMMENT ON TABLE gateway.rate_limits IS 'Per-client request counts in the current window, per rate-limited action.';
COMMENT ON COLUMN gateway.rate_limits.client IS 'Who: "ip:<address>" before sign-in, "user:<id>" after.';
COMMENT ON COLUMN gateway.rate_limits.action IS 'signup, signin, token or job.';
COMMENT ON COLUMN gateway.rate_limits.window_start IS 'When the current window began.';
COMMENT ON COLUMN gateway.rate_limits.used IS 'Requests taken in it (refused ones included).';
COMMENT ON COLUMN gateway.rate_limits.refused IS 'Requests refused in it.';
