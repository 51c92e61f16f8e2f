"""Declared boundaries: a service's SQL names its own schema's tables, the operator's shared
`longform_meta`, and of another service only what that service publishes as a versioned read
(`<schema>.<name>_vN`, a view or function made in its migrations and granted to the reader).
The CLI speaks to the system through the public API and `contracts/`; its operator commands
reach the database through one module."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("gateway", "planner", "generator", "assembler", "audit")
SHARED = ("longform_meta",)  # the operator's: migrations ledger, erase_job_rows, job_lock_key
PUBLISHED = re.compile(r"_v\d+$")
_REFERENCE = re.compile(rf"(?<![\w.])({'|'.join(SERVICES + SHARED)})\.([a-z_][a-z0-9_]*)\b")
_SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|FROM|JOIN|TRUNCATE|WHERE|RETURNING)\b")  # as the code writes SQL
OPERATOR_MODULE = "services.operator"  # runs as the owner, not as a service role


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes: prose about the schema, not SQL."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _literals(tree: ast.AST) -> list[tuple[int, str]]:
    """Each string literal but docstrings; an f-string whole, its placeholders as `{}`."""
    skipped = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            skipped |= {id(part) for part in node.values}
            found.append((node.lineno, "".join(p.value if isinstance(p, ast.Constant) else "{}" for p in node.values)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped:
            found.append((node.lineno, node.value))
    return found


def _sql(path: Path) -> list[tuple[int, str]]:
    """The SQL of a file with its line: a .sql file whole, or the literals of a .py file that read as
    SQL (prose, such as a metric's help naming the table it counts, is not a read)."""
    if path.suffix == ".sql":
        return [(1, path.read_text())]
    return [(line, text) for line, text in _literals(ast.parse(path.read_text())) if _SQL.search(text)]


def crossings(package: Path, own: str | None) -> list[str]:
    """`file:line schema.name` for each name of another service's schema that is not a published read."""
    found = []
    for path in sorted(p for p in package.rglob("*") if p.suffix in (".py", ".sql")):
        for line, text in _sql(path):
            for schema, name in _REFERENCE.findall(text):
                if schema != own and schema not in SHARED and not PUBLISHED.search(name):
                    found.append(f"{package.name}/{path.relative_to(package)}:{line} {schema}.{name}")
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_names_only_its_own_tables_and_others_published_reads(service) -> None:
    assert crossings(ROOT / "services" / service, service) == [], (
        "read another service's data through a view or function it publishes (`<schema>.<name>_v1`, "
        "migrations/0023_read_views.sql shows how), granted to your role")


def test_shared_code_names_no_service_table() -> None:
    """services/common runs as every service's role, so it may name only what all of them may read."""
    assert crossings(ROOT / "services" / "common", None) == []


def test_the_check_catches_a_direct_read_of_another_schema(tmp_path) -> None:
    (tmp_path / "store.py").write_text(
        '"""audit.events in prose is fine."""\n'
        'HELP = "Events appended to audit.events"\n'
        'Q = "SELECT * FROM audit.events WHERE stream_id = $1"\n'
        'R = f"SELECT substr(body, $2, $3) FROM assembler.documents_v1 JOIN {x} ON true"\n'
        'S = "SELECT 1 FROM gateway.jobs j LEFT JOIN audit.job_state s ON s.job_id = j.id"\n')
    assert [c.split(" ", 1)[1] for c in crossings(tmp_path, "gateway")] == ["audit.events", "audit.job_state"]


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _from_services(path: Path) -> set[str]:
    return {name for name in _imports(path) if name == "services" or name.startswith("services.")}


@pytest.mark.parametrize("path", sorted((ROOT / "longform_cli" / "client").rglob("*.py")) + [
    ROOT / "longform_cli" / "demo.py"], ids=lambda p: str(p.relative_to(ROOT)))
def test_the_cli_client_uses_the_public_api_and_contracts_only(path) -> None:
    assert _from_services(path) == set()


def test_the_import_check_sees_every_import_of_services(tmp_path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text("import services.common.db\nfrom contracts.messages import JobRequested\n\n\n"
                       "def late():\n    from services.gateway import store\n")
    assert _from_services(planted) == {"services.common.db", "services.gateway"}


_LOCAL_STACK = ("supervisor.py",)  # it restarts the services with their own back-off policy (services/common/retry.py)


@pytest.mark.parametrize("path", [p for p in sorted((ROOT / "longform_cli").glob("*.py")) if p.name not in _LOCAL_STACK],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_the_operator_commands_reach_the_services_through_one_module(path) -> None:
    assert _from_services(path) <= {OPERATOR_MODULE}
