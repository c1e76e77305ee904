"""tests/ and bench/ share code through testkit/ only: neither imports the other, and testkit
imports neither (so a benchmark never depends on a test's helpers, nor a test on a benchmark).
Read from the files' syntax trees, so imports inside functions count too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> the top-level packages its modules must not import
FORBIDDEN = {
    "tests": {"bench"},
    "bench": {"tests"},
    "testkit": {"tests", "bench"},
}


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports by absolute name, anywhere in the file."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


def test_imported_packages_reads_every_kind_of_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "import bench.load\n"
        "from tests.webapp import helpers\n"
        "from . import sibling\n"
        "def late():\n"
        "    import os.path as p\n"
    )
    assert imported_packages(module) == {"bench", "tests", "os"}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_none_of_its_forbidden_neighbours(package):
    modules = sorted((ROOT / package).rglob("*.py"))
    assert modules, f"no modules under {package}/"
    offences = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules
        for name in sorted(imported_packages(path) & FORBIDDEN[package])
    ]
    assert not offences, offences


# The architecture's import rules (docs/architecture.md): a package of the server, and the
# packages or modules it must not import. Names match a module and everything under it.
HTTP = {"flask", "werkzeug", "flask_sqlalchemy", "server.extensions"}
ARCHITECTURE = {
    "server/domain": {"server", "flask", "werkzeug", "sqlalchemy", "marshmallow"},
    "server/sync": HTTP | {"server.web", "server.accounts", "server.commands", "server.jobs"},
    "server/storage": HTTP | {"server.sync", "server.web", "server.accounts", "server.jobs"},
    "server/fastpath": HTTP
    | {"server.sync", "server.storage.database", "server.web", "server.accounts"},
    "server/models": HTTP | {"server.sync", "server.web", "server.accounts", "server.jobs"},
    "server/schemas": HTTP | {"server.sync", "server.web", "server.accounts", "server.jobs"},
    "server/errors.py": HTTP,
    "server/accounts": {"server.web", "server.commands", "server.jobs"},
    "server/jobs": {"server.web", "server.commands"},
    "clients": {"server"},
}


def imported_modules(path: Path) -> set[str]:
    """The modules a file imports by absolute name (`from a.b import c` counts `a.b` and
    `a.b.c`, since c may be a module)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def breaks(module: str, rule: str) -> bool:
    return module == rule or module.startswith(rule + ".")


@pytest.mark.parametrize("place", sorted(ARCHITECTURE))
def test_each_part_of_the_server_imports_only_what_the_architecture_allows(place):
    target = ROOT / place
    modules = [target] if target.suffix == ".py" else sorted(target.rglob("*.py"))
    assert modules, f"nothing at {place}"
    own = place.removesuffix(".py").replace("/", ".")
    offences = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules
        for name in sorted(imported_modules(path))
        if not breaks(name, own) and any(breaks(name, rule) for rule in ARCHITECTURE[place])
    ]
    assert not offences, offences
