"""Namespace match conditions of ``list_namespaces`` (prefix/suffix patterns with ``"*"``)."""

from __future__ import annotations

from collections.abc import Iterable

from langgraph.store.base import MatchCondition


def until_wildcard(path: Iterable[str]) -> Iterable[str]:
    """The labels of a pattern before its first ``"*"`` (a literal prefix to narrow a scan)."""
    for label in path:
        if label == "*":
            return
        yield label


def matches_condition(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    """Whether ``namespace`` matches a prefix/suffix condition (``"*"`` matches any label)."""
    path = tuple(condition.path)
    if len(namespace) < len(path):
        return False
    part = namespace[: len(path)] if condition.match_type == "prefix" else namespace[-len(path) :]
    return all(p in ("*", n) for p, n in zip(path, part, strict=True)) if path else True
