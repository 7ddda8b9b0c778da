"""Examples use the public API: every soorma-lc name they import comes from ``soorma_lc``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import soorma_lc
from tests.example_runner import EXAMPLES

SCRIPTS = sorted(EXAMPLES.rglob("*.py"))


def soorma_imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) of every import of soorma_lc or one of its submodules."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "soorma_lc":
            found.append((node.lineno, node.module or "", [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [
                (node.lineno, alias.name, [])
                for alias in node.names
                if alias.name.split(".")[0] == "soorma_lc"
            ]
    return found


def test_there_are_examples() -> None:
    assert len(SCRIPTS) >= 12


COMMAND = ("soorma_lc.cli", ["main"])
"""The console script's entry point is public too: an example may hand over to the command."""


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_an_example_imports_only_the_public_api(script: Path) -> None:
    for line, module, names in soorma_imports(script):
        if (module, names) == COMMAND:
            continue
        assert module == "soorma_lc", f"{script.name}:{line} imports from {module}"
        unknown = [name for name in names if name not in soorma_lc.__all__]
        assert not unknown, f"{script.name}:{line} imports {unknown}, not in soorma_lc.__all__"
