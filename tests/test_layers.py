"""The layer diagram of docs/architecture.md holds: a package imports only from layers below it
(and from itself), counting imports inside functions and under TYPE_CHECKING too."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "soorma_lc"

LAYERS: list[set[str]] = [
    {"_lazy"},
    {"errors"},
    {"checks"},
    {"config", "jsonvalues"},
    {"schema_safety"},
    {"events", "backends"},
    {"registry", "bus", "memory"},
    {"toolkit"},
    {"agents", "llm"},
    {"planners"},
    {"timeline", "evals"},
    {"cli", "__init__"},
]
"""Bottom to top, as in the diagram of docs/architecture.md (keep the two in step)."""

ALLOWED_UPWARD = {("agents/loading.py", "planners")}
"""``soorma-lc run`` loads a Worker or a ChoreographyPlanner; the import is lazy."""


def layer_of(unit: str) -> int:
    for index, layer in enumerate(LAYERS):
        if unit in layer:
            return index
    raise AssertionError(
        f"soorma_lc/{unit} is in no layer: place it in the diagram of docs/architecture.md "
        "and in LAYERS here"
    )


def unit_of(path: Path) -> str:
    """The top-level package or module a file belongs to."""
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def imported_units(path: Path) -> set[str]:
    """The soorma_lc top-level units a file imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        modules = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.append(node.module)
        elif isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        found |= {m.split(".")[1] for m in modules if m.startswith("soorma_lc.")}
    return found


def test_every_package_imports_only_from_layers_below() -> None:
    violations = []
    for path in sorted(PACKAGE.rglob("*.py")):
        unit = unit_of(path)
        for target in imported_units(path) - {unit}:
            relative = str(path.relative_to(PACKAGE))
            if layer_of(target) >= layer_of(unit) and (relative, target) not in ALLOWED_UPWARD:
                violations.append(f"{relative} imports soorma_lc.{target}")
    assert not violations, "\n".join(violations)


def test_the_check_sees_imports_inside_functions() -> None:
    assert "planners" in imported_units(PACKAGE / "agents" / "loading.py")
