-- owner: each service but audit. Secrets are redacted by their exact names, not by words: a column
-- is shown as `[redacted]` only when it is named as one of contracts/redact.py SECRET_NAMES (the
-- hashes of passwords, session secrets and API tokens, and any column named for a secret itself).
-- 0008 matched any name containing "token" or "secret", which hid every LLM call's token counts
-- (input_tokens, output_tokens) from the log. tests/integration/test_redaction.py holds the two
-- lists together and checks every audited column both ways.
CREATE OR REPLACE FUNCTION longform_meta.audit_value(column_name text, value jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN lower(column_name) = ANY (ARRAY['access_token', 'api-key', 'api_key', 'apikey', 'authorization',
                                             'client_secret', 'password', 'password_hash', 'proxy-authorization',
                                             'refresh_token', 'secret', 'secret_hash', 'token', 'token_hash',
                                             'x-api-key'])
            THEN to_jsonb('[redacted]'::text)
        WHEN value IS NULL THEN 'null'::jsonb
        WHEN jsonb_typeof(value) = 'string' AND length(value #>> '{}') > 200 THEN jsonb_build_object(
            'length', length(value #>> '{}'),
            'sha256', encode(sha256(convert_to(value #>> '{}', 'UTF8')), 'hex'),
            'preview', left(value #>> '{}', 200))
        WHEN jsonb_typeof(value) IN ('object', 'array') AND length(value::text) > 200 THEN jsonb_build_object(
            'length', length(value::text),
            'sha256', encode(sha256(convert_to(value::text, 'UTF8')), 'hex'),
            'preview', left(value::text, 200))
        ELSE value
    END
$$;
