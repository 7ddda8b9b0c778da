"""Safe metadata and filters for the Chroma-backed memories.

User metadata is checked before anything is written (Chroma would reject some values half-way,
silently turn NaN into null, or let a caller overwrite a scope key). User filters are checked
against a closed operator list and then AND-ed under the caller's scope, so no filter (``$or``
included) can reach another tenant, user or agent: a filter may only narrow the scope.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from soorma_lc.errors import InvalidFilterError, InvalidMetadataError

Where = dict[str, Any]

_SCALAR_TYPES = (str, bool, int, float)
_COMPARISON = frozenset({"$eq", "$ne"})
_RANGE = frozenset({"$gt", "$gte", "$lt", "$lte"})
_MEMBERSHIP = frozenset({"$in", "$nin"})
_ARRAY = frozenset({"$contains", "$not_contains"})
OPERATORS = _COMPARISON | _RANGE | _MEMBERSHIP | _ARRAY
LOGICAL = frozenset({"$and", "$or"})
_INT64 = 2**63


def _scalar_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a Chroma metadata scalar, or None if it can."""
    if not isinstance(value, _SCALAR_TYPES):
        return f"unsupported type {type(value).__name__}"
    if isinstance(value, float) and not math.isfinite(value):
        return "non-finite number"
    if isinstance(value, int) and not isinstance(value, bool) and not -_INT64 <= value < _INT64:
        return "integer out of 64-bit range"
    return None


def _list_problem(values: list[Any] | tuple[Any, ...]) -> str | None:
    if not values:
        return "empty list"
    kinds = {type(value) for value in values}
    if len(kinds) > 1:
        return "list mixes types " + ", ".join(sorted(kind.__name__ for kind in kinds))
    for value in values:
        problem = _scalar_problem(value)
        if problem:
            return f"list item: {problem}"
    return None


def clean_metadata(metadata: Mapping[str, Any] | None, reserved: frozenset[str]) -> dict[str, Any]:
    """A storable copy of user ``metadata``; None values are dropped.

    Raises :class:`InvalidMetadataError` listing every key that is reserved, malformed, or has
    a value Chroma cannot store (nested mappings, mixed lists, NaN, ...). Lists are stored as
    Chroma arrays (filter them with ``$contains``).
    """
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidMetadataError(f"metadata must be a mapping, got {type(metadata).__name__}")
    problems: list[str] = []
    cleaned: dict[str, Any] = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not key or key.startswith(("$", "chroma:")):
            problems.append(f"{key!r}: keys must be non-empty strings not starting with $")
            continue
        if key in reserved:
            problems.append(f"{key!r}: reserved for the memory's own bookkeeping")
            continue
        if value is None:
            continue
        problem = (
            _list_problem(value) if isinstance(value, list | tuple) else _scalar_problem(value)
        )
        if problem:
            problems.append(f"{key!r}: {problem}")
            continue
        cleaned[key] = list(value) if isinstance(value, tuple) else value
    if problems:
        raise InvalidMetadataError("metadata cannot be stored: " + "; ".join(problems), problems)
    return cleaned


def _translate(node: Any, scope_keys: frozenset[str], path: str) -> list[Where]:
    """Chroma clauses (to be AND-ed) for one user filter mapping."""
    if not isinstance(node, Mapping) or not node:
        raise InvalidFilterError(f"{path}: a filter must be a non-empty mapping, got {node!r}")
    clauses: list[Where] = []
    for key, condition in node.items():
        if key in LOGICAL:
            if not isinstance(condition, list | tuple) or not condition:
                raise InvalidFilterError(f"{path}.{key}: needs a non-empty list of filters")
            parts = [
                _combine(_translate(sub, scope_keys, f"{path}.{key}[{i}]"), "$and")
                for i, sub in enumerate(condition)
            ]
            clauses.append(_combine(parts, key))
        elif not isinstance(key, str) or not key or key.startswith("$"):
            raise InvalidFilterError(
                f"{path}: unknown logical operator {key!r}; supported: $and, $or"
            )
        elif key in scope_keys:
            raise InvalidFilterError(
                f"{path}.{key}: the scope field {key!r} is set by the call's arguments, "
                "not by filters"
            )
        else:
            clauses.extend(_field_clauses(key, condition, f"{path}.{key}"))
    return clauses


def _field_clauses(field: str, condition: Any, path: str) -> list[Where]:
    if not isinstance(condition, Mapping):
        condition = {"$eq": condition}
    if not condition:
        raise InvalidFilterError(f"{path}: empty condition")
    clauses: list[Where] = []
    for op, operand in condition.items():
        if op not in OPERATORS:
            raise InvalidFilterError(
                f"{path}: unknown operator {op!r}; supported: {', '.join(sorted(OPERATORS))}"
            )
        if op in _MEMBERSHIP:
            problem = (
                _list_problem(operand)
                if isinstance(operand, list | tuple)
                else "needs a non-empty list"
            )
            operand = list(operand) if isinstance(operand, list | tuple) else operand
        else:
            problem = _scalar_problem(operand)
            if problem is None and op in _RANGE and isinstance(operand, str | bool):
                problem = "needs a number"
        if problem:
            raise InvalidFilterError(f"{path}.{op}: {problem} ({operand!r})")
        clauses.append({field: {op: operand}})
    return clauses


def _combine(clauses: list[Where], operator: str) -> Where:
    """One Chroma clause: Chroma wants at least two operands under $and/$or."""
    return clauses[0] if len(clauses) == 1 else {operator: clauses}


def scoped_where(
    scope: Mapping[str, Any],
    filters: Mapping[str, Any] | None = None,
    *,
    extra: Sequence[Where] = (),
    reserved: frozenset[str] = frozenset(),
) -> Where:
    """A Chroma ``where``: every ``scope`` field equal, AND the ``extra`` scope clauses, AND the
    validated user filters.

    Filters use Chroma's language (``{"role": "user"}``, ``{"n": {"$gte": 3}}``, ``$and``,
    ``$or``, ``$in``, ``$nin``, ``$contains``); several keys in one mapping mean AND. A filter
    naming a scope field (or one of ``reserved``) raises :class:`InvalidFilterError`.
    """
    clauses: list[Where] = [{key: {"$eq": value}} for key, value in scope.items()]
    clauses.extend(extra)
    if filters is not None:
        clauses.extend(_translate(filters, frozenset(scope) | reserved, "filters"))
    return _combine(clauses, "$and")
