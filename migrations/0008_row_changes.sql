-- owner: each service but audit. Row-level audit by construction: a trigger on every table a
-- service writes notes each inserted or updated row in the schema's `row_changes`, and the
-- service's access layer (services/common/db.py) moves the notes of its transaction into
-- `db.row_inserted` / `db.row_updated` events before it commits, so no write can escape the
-- log. Notes never outlive their transaction. Not watched: `outbox` (its rows are the events
-- themselves) and `row_changes`; nor the audit schema, whose own writes are summed up in one
-- `db.query` per batch (watching them would recurse).

-- A value as the audit log shows it: short values as they are; long text (over 200 characters)
-- as its length, sha256 and a 200-character preview; secrets never.
CREATE FUNCTION longform_meta.audit_value(column_name text, value jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN column_name ~* '(password|secret|token|api_?key|authorization)' THEN to_jsonb('[redacted]'::text)
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

-- The trigger: its arguments name the table's primary key columns (the row id).
CREATE FUNCTION longform_meta.note_row_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    new_row jsonb := to_jsonb(NEW);
    old_row jsonb;
    row_id  jsonb := '{}';
    fields  jsonb;
    key     text;
BEGIN
    FOREACH key IN ARRAY TG_ARGV LOOP
        row_id := row_id || jsonb_build_object(key, new_row -> key);
    END LOOP;
    IF TG_OP = 'INSERT' THEN
        SELECT coalesce(jsonb_object_agg(n.key, longform_meta.audit_value(n.key, n.value)), '{}')
          INTO fields FROM jsonb_each(new_row) n;
    ELSE
        old_row := to_jsonb(OLD);
        SELECT coalesce(jsonb_object_agg(n.key, jsonb_build_object(
                   'old', longform_meta.audit_value(n.key, old_row -> n.key),
                   'new', longform_meta.audit_value(n.key, n.value))), '{}')
          INTO fields FROM jsonb_each(new_row) n WHERE n.value IS DISTINCT FROM old_row -> n.key;
    END IF;
    EXECUTE format('INSERT INTO %I.row_changes (table_name, op, row_id, fields) VALUES ($1, $2, $3, $4)',
                   TG_TABLE_SCHEMA)
        USING TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, lower(TG_OP), row_id, fields;
    RETURN NULL;
END
$$;

DO $$
DECLARE
    s text;
    t record;
BEGIN
    FOREACH s IN ARRAY ARRAY['gateway', 'planner', 'generator', 'assembler'] LOOP
        EXECUTE format('CREATE TABLE %I.row_changes (
            id          bigserial PRIMARY KEY,
            xid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
            table_name  text NOT NULL,
            op          text NOT NULL,
            row_id      jsonb NOT NULL,
            fields      jsonb NOT NULL)', s);
        EXECUTE format('CREATE INDEX ON %I.row_changes (xid)', s);
        FOR t IN
            SELECT c.relname,
                   (SELECT string_agg(quote_literal(a.attname), ', ' ORDER BY array_position(i.indkey::int2[], a.attnum))
                      FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                     WHERE i.indrelid = c.oid AND i.indisprimary) AS key_columns
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = s AND c.relkind = 'r' AND c.relname NOT IN ('outbox', 'row_changes')
        LOOP
            EXECUTE format('CREATE TRIGGER note_row_change AFTER INSERT OR UPDATE ON %I.%I
                            FOR EACH ROW EXECUTE FUNCTION longform_meta.note_row_change(%s)',
                           s, t.relname, t.key_columns);
        END LOOP;
    END LOOP;
END $$;
