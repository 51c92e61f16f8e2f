"""The schema as Postgres's catalog holds it: tables, columns (type, default, nullability,
constraints) and the descriptions the migrations give them with COMMENT ON. Read from a
database migrated to the latest version, so the migrations are the one source of truth for
`longform db schema`, `db check` and docs/SCHEMA.md."""

from dataclasses import dataclass, field

import asyncpg

_TABLES = """
SELECT c.oid, n.nspname AS schema, c.relname AS name, obj_description(c.oid, 'pg_class') AS description
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition  -- a partitioned table once, not each partition
  AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT IN ('information_schema', 'public')
ORDER BY n.nspname, c.relname
"""
_COLUMNS = """
SELECT a.attrelid AS oid, a.attnum, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default,
       col_description(a.attrelid, a.attnum) AS description
FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""
_CONSTRAINTS = """
SELECT conrelid AS oid, conname AS name, contype AS kind, conkey AS columns, pg_get_constraintdef(oid) AS definition
FROM pg_constraint WHERE conrelid = ANY($1::oid[]) ORDER BY conrelid, contype, conname
"""
_SCHEMAS = """
SELECT nspname AS name, obj_description(oid, 'pg_namespace') AS description FROM pg_namespace
WHERE nspname = ANY($1::text[])
"""
_INDEXES = """
SELECT schemaname || '.' || indexname AS name, indexdef AS definition FROM pg_indexes
WHERE schemaname = ANY($1::text[])
"""
_PUBLISHED = r"""
SELECT n.nspname::text AS schema, c.relname::text AS name, 'view' AS kind,
       obj_description(c.oid, 'pg_class') AS description,
       array(SELECT a.attname::text FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS shows,
       array(SELECT DISTINCT pg_get_userbyid(g.grantee) FROM aclexplode(c.relacl) g
              WHERE g.privilege_type = 'SELECT' AND pg_get_userbyid(g.grantee) LIKE 'longform\_%' ORDER BY 1) AS readers
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'v' AND n.nspname = ANY($1::text[]) AND c.relname ~ '_v[0-9]+$'
UNION ALL
SELECT n.nspname, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', 'function',
       obj_description(p.oid, 'pg_proc'), ARRAY['returns ' || pg_get_function_result(p.oid)],
       array(SELECT DISTINCT pg_get_userbyid(g.grantee) FROM aclexplode(p.proacl) g
              WHERE g.privilege_type = 'EXECUTE' AND pg_get_userbyid(g.grantee) LIKE 'longform\_%' ORDER BY 1)
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY($1::text[]) AND p.proname ~ '_v[0-9]+$'
ORDER BY 1, 2
"""
_KINDS = {"p": "primary key", "u": "unique", "f": "foreign key", "c": "check", "x": "exclusion"}
SERVICES = ("gateway", "planner", "generator", "assembler", "audit")


@dataclass
class Column:
    name: str
    type: str
    not_null: bool
    default: str | None
    description: str | None
    constraints: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[str, bool, str | None]:
        """What `db check` compares: type, nullability, default."""
        return self.type, self.not_null, self.default


@dataclass
class Table:
    schema: str
    name: str
    description: str | None
    columns: dict[str, Column] = field(default_factory=dict)
    constraints: list[str] = field(default_factory=list)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class PublishedRead:
    """A view or function a service publishes for others' roles to read its data by (0023)."""
    schema: str
    name: str
    kind: str  # view or function
    description: str | None
    shows: list[str]  # a view's columns, or a function's result
    readers: list[str]  # the roles granted it


@dataclass
class Catalog:
    tables: dict[str, Table]
    schemas: dict[str, str | None]
    indexes: dict[str, str] = field(default_factory=dict)  # schema.index -> CREATE INDEX ...
    published: list[PublishedRead] = field(default_factory=list)

    def undescribed(self) -> list[str]:
        """Tables and columns with no COMMENT ON: a migration should describe them."""
        missing = [t.qualified for t in self.tables.values() if not t.description]
        return missing + [f"{t.qualified}.{c.name}" for t in self.tables.values()
                          for c in t.columns.values() if not c.description]


def owner_of(schema: str) -> str:
    return schema if schema in SERVICES else "operator"


async def read_catalog(url: str) -> Catalog:
    conn = await asyncpg.connect(url, statement_cache_size=0)
    try:
        tables = {r["oid"]: Table(r["schema"], r["name"], r["description"]) for r in await conn.fetch(_TABLES)}
        oids = list(tables)
        by_attnum = {}
        for r in await conn.fetch(_COLUMNS, oids):
            tables[r["oid"]].columns[r["name"]] = Column(r["name"], r["type"], r["not_null"], r["default"],
                                                         r["description"])
            by_attnum[(r["oid"], r["attnum"])] = r["name"]
        for r in await conn.fetch(_CONSTRAINTS, oids):
            table = tables[r["oid"]]
            table.constraints.append(f"{r['name']}: {r['definition']}")
            for attnum in r["columns"] or []:
                table.columns[by_attnum[(r["oid"], attnum)]].constraints.append(_column_constraint(r))
        names = sorted({t.schema for t in tables.values()})
        schemas = {r["name"]: r["description"] for r in await conn.fetch(_SCHEMAS, names)}
        indexes = {r["name"]: r["definition"] for r in await conn.fetch(_INDEXES, names)}
        published = [PublishedRead(**dict(r)) for r in await conn.fetch(_PUBLISHED, names)]
    finally:
        await conn.close()
    return Catalog({t.qualified: t for t in tables.values()}, schemas, indexes, published)


def _column_constraint(row) -> str:
    kind = row["kind"].decode() if isinstance(row["kind"], bytes) else row["kind"]
    if kind == "f":
        return "references " + row["definition"].split("REFERENCES ", 1)[1]
    if kind == "c":
        return row["definition"].replace("CHECK ", "check ", 1)
    return _KINDS.get(kind, kind)


def drift(live: Catalog, wanted: Catalog) -> list[str]:
    """How the live database differs from the migrations' schema (tables of schemas they define)."""
    found = []
    ours = set(wanted.schemas)
    for name in sorted(set(wanted.tables) - set(live.tables)):
        found.append(f"missing table {name}")
    for name in sorted(t for t in set(live.tables) - set(wanted.tables) if live.tables[t].schema in ours):
        found.append(f"extra table {name}")
    for name in sorted(set(live.tables) & set(wanted.tables)):
        found += _column_drift(name, live.tables[name].columns, wanted.tables[name].columns)
    found += [f"missing index {name}: {wanted.indexes[name]}" for name in sorted(wanted.indexes)
              if live.indexes.get(name) != wanted.indexes[name]]
    found += [f"extra index {name}: {live.indexes[name]}" for name in sorted(live.indexes)
              if name not in wanted.indexes]
    return found + _published_drift(live.published, wanted.published)


def _published_drift(live: list[PublishedRead], wanted: list[PublishedRead]) -> list[str]:
    """A published read missing, or showing other columns or granted to other roles than the migrations say."""
    have = {(r.schema, r.name): r for r in live}
    found = []
    for r in wanted:
        got = have.get((r.schema, r.name))
        if got is None:
            found.append(f"missing published {r.kind} {r.schema}.{r.name}")
        elif (got.shows, got.readers) != (r.shows, r.readers):
            found.append(f"published {r.kind} {r.schema}.{r.name}: shows {got.shows} to {got.readers}, "
                         f"migrations say {r.shows} to {r.readers}")
    return found


def _column_drift(table: str, live: dict[str, Column], wanted: dict[str, Column]) -> list[str]:
    found = [f"missing column {table}.{c}" for c in wanted if c not in live]
    found += [f"extra column {table}.{c}" for c in live if c not in wanted]
    labels = ("type", "nullability", "default")
    for name in wanted.keys() & live.keys():
        for label, have, want in zip(labels, live[name].shape, wanted[name].shape):
            if have != want:
                found.append(f"{table}.{name}: {label} is {_shown(label, have)}, migrations say {_shown(label, want)}")
    return sorted(found)


def _shown(label: str, value) -> str:
    if label == "nullability":
        return "NOT NULL" if value else "nullable"
    return "none" if value is None else str(value)
