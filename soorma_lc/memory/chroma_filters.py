"""Safe metadata and filters for the Chroma-backed memories.

User metadata is checked before anything is written (Chroma would reject some values half-way,
silently turn NaN into null, or let a caller overwrite a scope key). User filters are checked
against a closed operator list and then AND-ed under the caller's scope, so no filter (``$or``
included) can reach another tenant, user or agent: a filter may only narrow the scope.

Both are size-limited, because Chroma fails in ways worse than an error past some size: a
record with a few thousand metadata keys (or list items) makes Chroma's compaction fail for
the whole collection, every later read and write of the tenant's memory included; a filter
nested about 60 deep, with about a thousand ``$or`` branches or tens of thousands of values is
refused by Chroma or SQLite with an internal error. The limits below sit well inside what
Chroma handles and are raised as :class:`InvalidMetadataError` / :class:`InvalidFilterError`
before anything reaches Chroma.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from soorma_lc.checks import shown
from soorma_lc.errors import InvalidFilterError, InvalidMetadataError
from soorma_lc.memory._values import id_problem

Where = dict[str, Any]

MAX_METADATA_KEYS = 64
"""Most user metadata keys on one record."""
MAX_METADATA_LIST = 256
"""Most items in one metadata list value."""
MAX_METADATA_BYTES = 64 * 1024
"""Largest user metadata of one record, as UTF-8 bytes of its keys and string values (numbers
count 8 bytes each): metadata is for filtering; text belongs in the content."""
MAX_KEY_LENGTH = 128
"""Longest metadata key (a filter field name), in characters."""
MAX_FILTER_DEPTH = 16
"""Deepest nesting of ``$and`` / ``$or`` in a filter."""
MAX_FILTER_CLAUSES = 100
"""Most field conditions in one filter."""
MAX_FILTER_VALUES = 1000
"""Most operand values in one filter (``$in`` / ``$nin`` list items included)."""

_SCALAR_TYPES = (str, bool, int, float)
_COMPARISON = frozenset({"$eq", "$ne"})
_RANGE = frozenset({"$gt", "$gte", "$lt", "$lte"})
_MEMBERSHIP = frozenset({"$in", "$nin"})
_ARRAY = frozenset({"$contains", "$not_contains"})
OPERATORS = _COMPARISON | _RANGE | _MEMBERSHIP | _ARRAY
LOGICAL = frozenset({"$and", "$or"})
_INT64 = 2**63
_NUMBER_BYTES = 8


def _scalar_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a Chroma metadata scalar, or None if it can."""
    if not isinstance(value, _SCALAR_TYPES):
        return f"unsupported type {type(value).__name__}"
    if isinstance(value, float) and not math.isfinite(value):
        return "non-finite number"
    if isinstance(value, int) and not isinstance(value, bool) and not -_INT64 <= value < _INT64:
        return "integer out of 64-bit range"
    if isinstance(value, str):
        if "\0" in value:
            return "text with a NUL character"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "text with a lone surrogate (not valid Unicode)"
    return None


def _list_problem(values: list[Any] | tuple[Any, ...], limit: int) -> str | None:
    if not values:
        return "empty list"
    if len(values) > limit:
        return f"list of {len(values)} items, over the {limit}-item limit"
    kinds = {type(value) for value in values}
    if len(kinds) > 1:
        return "list mixes types " + ", ".join(sorted(kind.__name__ for kind in kinds))
    for value in values:
        problem = _scalar_problem(value)
        if problem:
            return f"list item: {problem}"
    return None


def _key_problem(key: Any) -> str | None:
    problem = id_problem(key, max_length=MAX_KEY_LENGTH)
    if problem is None and key.startswith(("$", "chroma:")):
        problem = "must not start with $ or chroma:"
    return problem


def _size(value: Any) -> int:
    """Bytes ``value`` counts towards :data:`MAX_METADATA_BYTES`."""
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, list | tuple):
        return sum(_size(item) for item in value)
    return _NUMBER_BYTES


def clean_metadata(metadata: Mapping[str, Any] | None, reserved: frozenset[str]) -> dict[str, Any]:
    """A storable copy of user ``metadata``; None values are dropped.

    Raises :class:`InvalidMetadataError` listing every key that is reserved, malformed, or has
    a value Chroma cannot store (nested mappings, mixed lists, NaN, ...), or when the metadata
    is over one of the size limits above. Lists are stored as Chroma arrays (filter them with
    ``$contains``).
    """
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidMetadataError(f"metadata must be a mapping, got {type(metadata).__name__}")
    if len(metadata) > MAX_METADATA_KEYS:
        raise InvalidMetadataError(
            f"metadata has {len(metadata)} keys, over the {MAX_METADATA_KEYS}-key limit"
        )
    problems: list[str] = []
    cleaned: dict[str, Any] = {}
    for key, value in metadata.items():
        problem = _key_problem(key)
        if problem:
            problems.append(f"key {shown(key)} {problem}")
            continue
        if key in reserved:
            problems.append(f"{key!r}: reserved for the memory's own bookkeeping")
            continue
        if value is None:
            continue
        problem = (
            _list_problem(value, MAX_METADATA_LIST)
            if isinstance(value, list | tuple)
            else _scalar_problem(value)
        )
        if problem:
            problems.append(f"{key!r}: {problem}")
            continue
        cleaned[key] = list(value) if isinstance(value, tuple) else value
    if problems:
        raise InvalidMetadataError("metadata cannot be stored: " + "; ".join(problems), problems)
    size = sum(_size(key) + _size(value) for key, value in cleaned.items())
    if size > MAX_METADATA_BYTES:
        raise InvalidMetadataError(
            f"metadata is {size} bytes, over the {MAX_METADATA_BYTES}-byte limit "
            "(store long text as the content)"
        )
    return cleaned


@dataclass
class _Budget:
    """What a filter may still use of :data:`MAX_FILTER_CLAUSES` and :data:`MAX_FILTER_VALUES`."""

    clauses: int = MAX_FILTER_CLAUSES
    values: int = MAX_FILTER_VALUES

    def spend(self, path: str, values: int) -> None:
        self.clauses -= 1
        self.values -= values
        if self.clauses < 0:
            raise InvalidFilterError(f"{path}: over {MAX_FILTER_CLAUSES} conditions in one filter")
        if self.values < 0:
            raise InvalidFilterError(f"{path}: over {MAX_FILTER_VALUES} values in one filter")


def _translate(
    node: Any, scope_keys: frozenset[str], path: str, depth: int, budget: _Budget
) -> list[Where]:
    """Chroma clauses (to be AND-ed) for one user filter mapping."""
    if not isinstance(node, Mapping) or not node:
        raise InvalidFilterError(f"{path}: a filter must be a non-empty mapping, got {shown(node)}")
    clauses: list[Where] = []
    for key, condition in node.items():
        if key in LOGICAL:
            if depth >= MAX_FILTER_DEPTH:
                raise InvalidFilterError(
                    f"{path}.{key}: filters nest $and/$or at most {MAX_FILTER_DEPTH} deep"
                )
            if not isinstance(condition, list | tuple) or not condition:
                raise InvalidFilterError(f"{path}.{key}: needs a non-empty list of filters")
            parts = [
                _combine(
                    _translate(sub, scope_keys, f"{path}.{key}[{i}]", depth + 1, budget), "$and"
                )
                for i, sub in enumerate(condition)
            ]
            clauses.append(_combine(parts, key))
        elif isinstance(key, str) and key.startswith("$"):
            raise InvalidFilterError(
                f"{path}: unknown logical operator {key!r}; supported: $and, $or"
            )
        elif (problem := _key_problem(key)) is not None:
            raise InvalidFilterError(f"{path}: field name {shown(key)} {problem}")
        elif key in scope_keys:
            raise InvalidFilterError(
                f"{path}.{key}: the scope field {key!r} is set by the call's arguments, "
                "not by filters"
            )
        else:
            clauses.extend(_field_clauses(key, condition, f"{path}.{key}", budget))
    return clauses


def _field_clauses(field: str, condition: Any, path: str, budget: _Budget) -> list[Where]:
    if not isinstance(condition, Mapping):
        condition = {"$eq": condition}
    if not condition:
        raise InvalidFilterError(f"{path}: empty condition")
    clauses: list[Where] = []
    for op, operand in condition.items():
        if op not in OPERATORS:
            raise InvalidFilterError(
                f"{path}: unknown operator {shown(op)}; supported: {', '.join(sorted(OPERATORS))}"
            )
        if op in _MEMBERSHIP:
            problem = (
                _list_problem(operand, MAX_FILTER_VALUES)
                if isinstance(operand, list | tuple)
                else "needs a non-empty list"
            )
            operand = list(operand) if isinstance(operand, list | tuple) else operand
        else:
            problem = _scalar_problem(operand)
            if problem is None and op in _RANGE and isinstance(operand, str | bool):
                problem = "needs a number"
        if problem:
            raise InvalidFilterError(f"{path}.{op}: {problem} ({shown(operand)})")
        budget.spend(path, len(operand) if isinstance(operand, list) else 1)
        clauses.append({field: {op: operand}})
    return clauses


def _combine(clauses: list[Where], operator: str) -> Where:
    """One Chroma clause: Chroma wants at least two operands under $and/$or."""
    return clauses[0] if len(clauses) == 1 else {operator: clauses}


def check_filters(
    filters: Mapping[str, Any] | None, reserved: frozenset[str] = frozenset()
) -> None:
    """Raise :class:`InvalidFilterError` if ``filters`` would be refused by :func:`scoped_where`
    (so that a retriever refuses a bad filter when it is built, not at its first search)."""
    if filters is not None:
        _translate(filters, reserved, "filters", 0, _Budget())


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
    naming a scope field (or one of ``reserved``) raises :class:`InvalidFilterError`, as does
    one over the size limits of this module.
    """
    clauses: list[Where] = [{key: {"$eq": value}} for key, value in scope.items()]
    clauses.extend(extra)
    if filters is not None:
        clauses.extend(_translate(filters, frozenset(scope) | reserved, "filters", 0, _Budget()))
    return _combine(clauses, "$and")
