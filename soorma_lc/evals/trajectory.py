"""Trajectories: the events a plan published, against the events a good run publishes.

Match modes follow agentevals' trajectory match: ``strict`` (the same events in the same
order), ``unordered`` (the same events, any order), ``subset`` (nothing beyond the reference:
every published event is in it) and ``superset`` (at least the reference: every reference
event was published). Events are counted with multiplicity, so publishing something twice
is not the same as publishing it once.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from soorma_lc.evals.scenario import MatchMode


def matches(actual: Sequence[str], expected: Sequence[str], mode: MatchMode) -> bool:
    """Whether ``actual`` matches the reference ``expected`` in ``mode``."""
    if mode == "strict":
        return list(actual) == list(expected)
    have, want = Counter(actual), Counter(expected)
    if mode == "unordered":
        return have == want
    if mode == "subset":
        return have <= want
    return have >= want


def precision_recall_f1(
    actual: Sequence[str], expected: Sequence[str]
) -> tuple[float, float, float]:
    """Shares of the published events that were expected (precision) and of the expected
    events that were published (recall), with multiplicity. Both empty is a perfect 1;
    publishing nothing when something was expected has precision 0."""
    common = sum((Counter(actual) & Counter(expected)).values())
    precision = common / len(actual) if actual else (0.0 if expected else 1.0)
    recall = common / len(expected) if expected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def next_action_hits(actual: Sequence[str], expected: Sequence[str]) -> int:
    """How many expected decisions the run made at their position (step i against step i)."""
    return sum(1 for a, e in zip(actual, expected, strict=False) if a == e)


@dataclass(frozen=True)
class DiffRow:
    """One line of a trajectory diff: both sides the same, or one side missing or different."""

    op: Literal["same", "missing", "extra", "changed"]
    expected: str | None
    actual: str | None


def diff(expected: Sequence[str], actual: Sequence[str]) -> list[DiffRow]:
    """``actual`` against ``expected``, aligned as a line diff aligns them."""
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=list(expected), b=list(actual), autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            rows += [DiffRow("same", e, e) for e in expected[a0:a1]]
        elif tag == "delete":
            rows += [DiffRow("missing", e, None) for e in expected[a0:a1]]
        elif tag == "insert":
            rows += [DiffRow("extra", None, a) for a in actual[b0:b1]]
        else:
            left, right = list(expected[a0:a1]), list(actual[b0:b1])
            for index in range(max(len(left), len(right))):
                e = left[index] if index < len(left) else None
                a = right[index] if index < len(right) else None
                op = "changed" if e and a else ("missing" if e else "extra")
                rows.append(DiffRow(op, e, a))
    return rows
