"""Shared material of the hostile suites: hostile values, and the one rule every probe checks.

A probe calls one public entry point with one hostile argument (the others valid) and accepts
exactly two outcomes: success, or a :class:`SoormaError` subclass with the stored state
unchanged. Anything else (a raw ``TypeError``, ``RecursionError``, a dependency's exception,
a changed store after a refusal) fails the test. Each probe is counted per entry point, so a
run can say how many entry points and probes it covered (``print_probe_counts``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from soorma_lc.errors import SoormaError

PROBES: Counter[str] = Counter()


def _deep_dict(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def _deep_list(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def _self_referencing() -> list[Any]:
    loop: list[Any] = []
    loop.append(loop)
    return loop


SPECIAL_VALUES: list[Any] = [
    None,
    True,
    0,
    -5,
    2**70,
    math.nan,
    math.inf,
    -math.inf,
    "",
    " ",
    "a b",
    "a\x00b",
    "line\nbreak",
    "\u200b",
    "\ud800",
    "x" * 100_000,
    "3",
    "-1",
    "garbage",
    "$",
    "0",
    "action-requests",
    "research.requested",
    b"bytes",
    b"\xff\xfe",
    bytearray(b"x"),
    [],
    ["a", "b"],
    [1, None],
    {},
    {"a": 1},
    {1: "a"},
    {"n": math.nan},
    {"s": "\ud800"},
    {"o": object()},
    _deep_dict(5000),
    _deep_list(5000),
    _self_referencing(),
    {"a", "b"},
    ("a", "b"),
    object(),
    lambda *args: None,
    Ellipsis,
    {"type": "string"},
    {"type": "object", "properties": {"a": {"type": "string", "pattern": "^(a+)+$"}}},
    {"$ref": "https://example.com/schema.json"},
    {"allOf": [{"$ref": "#"}]},
]

_json_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities included
    | st.text(max_size=20)  # lone surrogates included
)

HOSTILE = (
    st.sampled_from(SPECIAL_VALUES)
    | st.text(max_size=300)
    | st.integers()
    | st.floats()
    | st.binary(max_size=50)
    | st.recursive(
        _json_leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=15,
    )
)
"""Values no entry point should trust: wrong types, NaN, surrogates, control and invisible
characters, megabyte strings, nesting thousands deep, cycles, unrelated objects, schemas with
catastrophic patterns or remote references."""

HOSTILE_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
"""Per entry point: 25 values (the special ones come first), so the suite stays fast."""


def probe(entry_point: str, call: Callable[[], Any], state: Callable[[], Any] | None = None) -> Any:
    """Run ``call``: success or a SoormaError with ``state()`` unchanged; else fail."""
    PROBES[entry_point] += 1
    before = state() if state is not None else None
    try:
        return call()
    except SoormaError:
        if state is not None:
            assert state() == before, f"{entry_point}: a refused call changed stored state"
        return None
    except Exception as exc:  # the defect this suite exists to find
        pytest.fail(f"{entry_point} raised {type(exc).__name__}: {str(exc)[:300]}")


def print_probe_counts(suite: str) -> None:
    """One line for the report (``pytest -s``): public callables and (callable, argument)
    entry points covered, and probes run so far in this process."""
    callables = {name.split("(")[0] for name in PROBES}
    print(
        f"\n[hostile:{suite}] {len(callables)} callables, {len(PROBES)} entry points "
        f"(callable, argument), {sum(PROBES.values())} probes"
    )
