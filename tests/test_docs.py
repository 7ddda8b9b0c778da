"""The docs stay true to the code: links resolve, Python snippets compile, and every soorma-lc
name a snippet imports exists."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(
    [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "examples").rglob("*.md")]
)
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_PYTHON = re.compile(r"```python\n(.*?)```", re.S)


def page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for the page's headings."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(), re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_relative_links_resolve(page: Path) -> None:
    for target in _LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve()
        assert resolved.exists(), f"{page_id(page)} links to {target}, which does not exist"
        if anchor:
            assert anchor in anchors(resolved), f"{page_id(page)}: no heading for #{anchor}"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_python_snippets_compile_and_import_real_names(page: Path) -> None:
    for snippet in _PYTHON.findall(page.read_text()):
        tree = compile(
            snippet, page_id(page), "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        )
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("soorma_lc"):
                module = importlib.import_module(node.module or "")
                missing = [a.name for a in node.names if not hasattr(module, a.name)]
                assert not missing, f"{page_id(page)} imports {missing} from {node.module}"


def test_the_package_docstring_names_the_architecture_page() -> None:
    import soorma_lc

    assert "docs/architecture.md" in (soorma_lc.__doc__ or "")
    assert (ROOT / "docs" / "architecture.md").is_file()
