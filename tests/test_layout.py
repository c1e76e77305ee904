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
