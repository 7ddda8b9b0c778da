"""References in scripts and worker replies, and JSON paths in expectations."""

from __future__ import annotations

import re

import pytest

from soorma_lc.evals.paths import PathError, json_path, parse
from soorma_lc.evals.templates import TemplateError, render

SCOPE = {
    "goal": {"topic": "Docker", "nights": 3},
    "last": {"items": [{"id": "P-1"}, {"id": "P-2"}]},
    "result": {"draft.completed": {"draft": "# Docker"}},
}


def test_a_whole_reference_keeps_its_type_an_embedded_one_becomes_text() -> None:
    assert render("${goal.nights}", SCOPE) == 3
    assert render({"n": "${goal.nights} nights"}, SCOPE) == {"n": "3 nights"}
    assert render(["${last.items[-1].id}", "${last.items}"], SCOPE) == [
        "P-2",
        [{"id": "P-1"}, {"id": "P-2"}],
    ]
    assert render("${result[draft.completed].draft}!", SCOPE) == "# Docker!"


def test_a_fallback_covers_a_missing_value_only() -> None:
    assert render("${goal.note|none}", SCOPE) == "none"
    assert render("${goal.topic|none}", SCOPE) == "Docker"
    assert render("[${goal.note|}]", SCOPE) == "[]"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("${goal.missing}", "nothing at 'missing'"),
        ("${last.items[5].id}", "nothing at 5"),
        ("${result[x.completed].a}", "no x.completed result (results: draft.completed)"),
        ("${request.topic}", "nothing named 'request' here"),
        ("${result}", "name the event"),
    ],
)
def test_a_reference_to_nothing_says_what_is_missing(text: str, problem: str) -> None:
    with pytest.raises(TemplateError, match=re.escape(problem)):
        render(text, SCOPE)


def test_json_paths() -> None:
    value = {"a": {"b": [10, {"c": "x"}]}, "odd.key": 1}
    assert json_path(value, "$") == value
    assert json_path(value, "$.a.b[1].c") == "x"
    assert json_path(value, "$['odd.key']") == 1
    assert parse("result[a.b].c[0]") == ("result", ["a.b", "c", 0])
    with pytest.raises(PathError, match="must start with"):
        json_path(value, "a.b")
    with pytest.raises(PathError, match="cannot read"):
        json_path(value, "$.a..b")
