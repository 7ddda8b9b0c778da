"""LangGraph store filters: validated up front, then matched against item values in Python.

Semantics follow LangGraph's ``InMemoryStore`` (and PostgreSQL JSONB): a plain value must be
equal, a nested mapping matches field by field, a list matches element by element, and a
mapping whose keys start with ``$`` applies operators (``$eq $ne $gt $gte $lt $lte``). Two
deliberate differences: an unknown operator or a non-numeric range operand is a typed error
raised before anything runs, and a range operator on a missing or non-numeric field is simply
no match (``InMemoryStore`` crashes there). Filters never reach Chroma, so no filter can widen
the tenant/user scope.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from soorma_lc.checks import shown
from soorma_lc.errors import InvalidFilterError, StoreFilterTypeError

_RANGE: dict[str, Callable[[float, float], bool]] = {
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$lt": operator.lt,
    "$lte": operator.le,
}
OPERATORS = frozenset({"$eq", "$ne", *_RANGE})


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def validate_filter(filter: Mapping[str, Any] | None, *, max_depth: int) -> None:
    """Raise :class:`InvalidFilterError` if ``filter`` is not a well-formed store filter, or
    nests mappings and lists more than ``max_depth`` deep.

    Wrong types (a filter that is not a mapping, a field name or range operand of the wrong
    type) raise :class:`StoreFilterTypeError`, also a ``TypeError`` as in ``InMemoryStore``.
    """
    if filter is None:
        return
    if not isinstance(filter, Mapping):
        raise StoreFilterTypeError(f"a store filter must be a mapping, got {type(filter).__name__}")
    for field, condition in filter.items():
        if not isinstance(field, str):
            raise StoreFilterTypeError(f"filter field names must be strings, got {shown(field)}")
        _validate_condition(field, condition, max_depth)


def _validate_condition(path: str, condition: Any, depth: int) -> None:
    if isinstance(condition, Mapping | list | tuple) and depth <= 1:
        raise InvalidFilterError(f"the filter at {path[:80]!r}... is nested too deeply")
    if isinstance(condition, Mapping):
        if any(isinstance(k, str) and k.startswith("$") for k in condition):
            for op, operand in condition.items():
                if op not in OPERATORS:
                    raise InvalidFilterError(
                        f"unknown filter operator {shown(op)} at {path[:80]!r}; "
                        f"supported: {', '.join(sorted(OPERATORS))}"
                    )
                if op in _RANGE and not _is_number(operand):
                    raise StoreFilterTypeError(
                        f"{op} at {path[:80]!r} needs a number, got {shown(operand)}"
                    )
            return
        for key, sub in condition.items():
            _validate_condition(f"{path}.{key}", sub, depth - 1)
    elif isinstance(condition, list | tuple):
        for index, sub in enumerate(condition):
            _validate_condition(f"{path}[{index}]", sub, depth - 1)


def matches(value: Mapping[str, Any], filter: Mapping[str, Any] | None) -> bool:
    """Whether a stored value satisfies a (validated) filter."""
    if not filter:
        return True
    return all(_compare(value.get(field), condition) for field, condition in filter.items())


def _compare(actual: Any, condition: Any) -> bool:
    if isinstance(condition, Mapping):
        if any(k.startswith("$") for k in condition):
            return all(_apply(actual, op, operand) for op, operand in condition.items())
        return isinstance(actual, Mapping) and all(
            _compare(actual.get(k), sub) for k, sub in condition.items()
        )
    if isinstance(condition, list | tuple):
        return (
            isinstance(actual, list | tuple)
            and len(actual) == len(condition)
            and all(_compare(a, c) for a, c in zip(actual, condition, strict=True))
        )
    return actual == condition


def _apply(actual: Any, op: str, operand: Any) -> bool:
    if op == "$eq":
        return actual == operand
    if op == "$ne":
        return actual != operand
    # Python compares ints and floats exactly; float() would overflow on huge ints.
    return _is_number(actual) and _RANGE[op](actual, operand)
