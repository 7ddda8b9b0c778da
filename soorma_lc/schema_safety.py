"""Untrusted JSON Schemas: checked once when defined, then validated in bounded time.

Event schemas come from the registry, written by any agent (or any tool with access to Redis
or the registry service), so a schema is untrusted input. ``jsonschema`` alone would let one
schema hang or crash a process:

- ``pattern``, ``patternProperties`` (and ``additionalProperties`` next to them) run with
  Python's backtracking ``re``: ``{"pattern": "^(a+)+$"}`` takes exponential time on a short
  string. Here they run on RE2 (linear time); a pattern RE2 cannot compile (lookaround,
  backreferences) makes the schema invalid. The ``regex`` format is checked with RE2 too.
  ``unevaluatedProperties`` in a schema that uses ``patternProperties`` is refused, since
  ``jsonschema`` evaluates those patterns with ``re`` internally.
- ``uniqueItems`` compares every pair of unsortable items; here it hashes a canonical form.
- ``$ref`` to another document makes ``jsonschema`` raise its own errors (it never fetches):
  only local references (``#...``) are allowed, and they must resolve.
- Deep nesting: schemas, like any JSON here, nest at most
  :data:`~soorma_lc.jsonvalues.MAX_JSON_DEPTH` levels, and a ``$ref`` cycle that never
  consumes input is reported as an invalid schema instead of a ``RecursionError``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache, lru_cache
from typing import Any

import re2
from jsonschema import FormatChecker, SchemaError, ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import extend, validator_for
from referencing.exceptions import Unresolvable

from soorma_lc.errors import InvalidSchemaError, SerializationError
from soorma_lc.jsonvalues import check_json_value

_REF_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef")
_ANCHOR_KEYWORDS = ("$anchor", "$dynamicAnchor")
_INSTANCE_KEYWORDS = frozenset({"enum", "const", "default", "examples", "example"})
_SCHEMA_FAILURES = (
    SchemaError,
    Unresolvable,
    RecursionError,
    TypeError,
    ValueError,
    LookupError,
    AttributeError,
)
"""What jsonschema raises on schemas it cannot use (e.g. a ``$schema`` that is a list)."""


class UnsafePatternError(Exception):
    """A schema pattern RE2 cannot compile (internal; surfaces as InvalidSchemaError)."""


@lru_cache(maxsize=4096)
def compiled_pattern(pattern: str) -> Any:
    """``pattern`` compiled by RE2, or :class:`UnsafePatternError` saying why not."""
    try:
        options = re2.Options()
        options.log_errors = False
        return re2.compile(pattern, options)
    except (re2.error, TypeError, ValueError, UnicodeEncodeError) as exc:
        raise UnsafePatternError(
            f"pattern {pattern!r} is not supported (patterns run on RE2, which has no "
            f"lookaround or backreferences): {exc}"
        ) from None


def _search(pattern: str, text: str) -> bool:
    try:
        return compiled_pattern(pattern).search(text) is not None
    except UnicodeEncodeError:  # a lone surrogate; refused elsewhere before validation
        return False


def _is_regex(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    try:
        compiled_pattern(instance)
    except UnsafePatternError:
        return False
    return True


def _format_checker(base: FormatChecker) -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checkers = dict(base.checkers)
    checker.checkers["regex"] = (_is_regex, ())
    return checker


# -- keyword implementations on RE2 (same results as jsonschema's, in linear time) -----------


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _search(pattern, instance):
        shown = instance if len(instance) <= 80 else instance[:77] + "..."
        yield ValidationError(f"{shown!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, patterns: dict[str, Any], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional(instance: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    properties = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    return [
        key
        for key in instance
        if key not in properties and not any(_search(p, key) for p in patterns)
    ]


def _additional_properties(
    validator: Any, allowed: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    extras = _additional(instance, schema)
    if validator.is_type(allowed, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], allowed, path=extra)
    elif not allowed and extras:
        shown = ", ".join(repr(extra) for extra in sorted(extras))
        yield ValidationError(f"Additional properties are not allowed ({shown} unexpected)")


def _canonical(value: Any) -> Any:
    """A hashable form under which two JSON values are equal exactly when JSON Schema says
    so (``1 == 1.0``, ``True != 1``, object key order ignored)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, dict):
        return ("object", frozenset((key, _canonical(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("array", tuple(_canonical(item) for item in value))
    return ("value", value)


def _unique_items(
    validator: Any, unique: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set[Any] = set()
    for index, item in enumerate(instance):
        key = _canonical(item)
        if key in seen:
            yield ValidationError(f"item {index} repeats an earlier item (items must be unique)")
            return
        seen.add(key)


_SAFE_KEYWORDS = {
    "pattern": _pattern,
    "patternProperties": _pattern_properties,
    "additionalProperties": _additional_properties,
    "uniqueItems": _unique_items,
}


@cache
def _safe_class(base: type[Validator]) -> type[Validator]:
    keywords = {name: fn for name, fn in _SAFE_KEYWORDS.items() if name in base.VALIDATORS}
    return extend(base, validators=keywords)


@cache
def _safe_format_checker(base: type[Validator]) -> FormatChecker:
    return _format_checker(base.FORMAT_CHECKER)


def safe_validator(schema: dict[str, Any]) -> Validator:
    """A validator for ``schema`` whose patterns, formats and uniqueness checks run in linear
    time. ``schema`` must have passed :func:`check_json_schema`."""
    base = validator_for(schema)
    return _safe_class(base)(schema, format_checker=_safe_format_checker(base))


# -- checking a schema once, when it is defined ---------------------------------------------


def check_json_schema(schema: Any) -> dict[str, Any]:
    """``schema`` if it is a JSON Schema that can be validated safely, else
    :class:`InvalidSchemaError` saying why.

    The check is memoised on the schema's canonical JSON: registries rebuild definitions on
    every read, and re-checking a thousand unchanged schemas costs seconds.
    """
    if not isinstance(schema, dict):
        raise InvalidSchemaError(f"a JSON Schema must be an object, got {type(schema).__name__}")
    try:
        check_json_value(schema, "schema")
    except SerializationError as exc:
        raise InvalidSchemaError(f"not a valid JSON Schema: {exc}") from None
    canonical = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    problem = _schema_problem(canonical)
    if problem is not None:
        raise InvalidSchemaError(problem)
    return schema


@lru_cache(maxsize=4096)
def _schema_problem(canonical_schema: str) -> str | None:
    schema = json.loads(canonical_schema)
    try:
        base = validator_for(schema)
        _safe_class(base).check_schema(schema, format_checker=_safe_format_checker(base))
        _check_patterns_and_refs(schema)
        # Compiling once resolves the root and surfaces referencing problems now, not later.
        safe_validator(schema).is_valid({})
    except SchemaError as exc:
        path = "/".join(str(p) for p in exc.path) or "<root>"
        return f"not a valid JSON Schema at {path}: {exc.message}"
    except UnsafePatternError as exc:
        return f"not a usable JSON Schema: {exc}"
    except InvalidSchemaError as exc:
        return str(exc)
    except RecursionError:
        return "not a usable JSON Schema: its references loop without end"
    except _SCHEMA_FAILURES as exc:
        return f"not a usable JSON Schema: {type(exc).__name__}: {exc}"
    return None


def _check_patterns_and_refs(schema: dict[str, Any]) -> None:
    anchors = set(_anchors(schema))
    uses_pattern_properties = False
    uses_unevaluated_properties = False
    for node in _subschemas(schema):
        pattern = node.get("pattern")
        if isinstance(pattern, str):
            compiled_pattern(pattern)
        patterns = node.get("patternProperties")
        if isinstance(patterns, dict):
            uses_pattern_properties = True
            for key in patterns:
                compiled_pattern(key)
        if "unevaluatedProperties" in node:
            uses_unevaluated_properties = True
        for keyword in _REF_KEYWORDS:
            ref = node.get(keyword)
            if isinstance(ref, str):  # the meta-schema check refused other types already
                _check_ref(ref, schema, anchors)
    _check_in_place_cycles(schema)
    if uses_pattern_properties and uses_unevaluated_properties:
        raise InvalidSchemaError(
            "not a usable JSON Schema: unevaluatedProperties cannot be combined with "
            "patternProperties (their patterns would run on a backtracking regex engine)"
        )


def _check_ref(ref: str, root: dict[str, Any], anchors: set[str]) -> None:
    if not ref.startswith("#"):
        raise InvalidSchemaError(
            f"not a usable JSON Schema: $ref {ref!r} points outside the schema; only local "
            "references ('#/$defs/name', '#anchor') are allowed"
        )
    fragment = ref[1:]
    if fragment and not fragment.startswith("/"):
        if fragment not in anchors:
            raise InvalidSchemaError(f"not a usable JSON Schema: $ref {ref!r}: no such $anchor")
        return
    target = _pointer_target(ref, root)
    if target is None:
        raise InvalidSchemaError(f"not a usable JSON Schema: $ref {ref!r} does not resolve")
    if not isinstance(target, dict | bool):
        raise InvalidSchemaError(f"not a usable JSON Schema: $ref {ref!r} is not a schema")


_IN_PLACE_LISTS = ("allOf", "anyOf", "oneOf")
_IN_PLACE_SINGLE = ("not", "if", "then", "else")


def _in_place_children(node: dict[str, Any], root: dict[str, Any]) -> Iterator[Any]:
    """Subschemas applied to the same instance as ``node`` (no input consumed on the way)."""
    for keyword in _IN_PLACE_LISTS:
        options = node.get(keyword)
        if isinstance(options, list):
            yield from options
    for keyword in _IN_PLACE_SINGLE:
        if keyword in node:
            yield node[keyword]
    dependent = node.get("dependentSchemas")
    if isinstance(dependent, dict):
        yield from dependent.values()
    for keyword in _REF_KEYWORDS:
        ref = node.get(keyword)
        if isinstance(ref, str) and (ref == "#" or ref.startswith("#/")):
            yield _pointer_target(ref, root)


def _check_in_place_cycles(root: dict[str, Any]) -> None:
    """Refuse a schema whose references loop without consuming input (``{"$ref": "#"}`` in
    ``allOf``, a property that refers to itself): validating it would never end."""
    state: dict[int, bool] = {}  # id -> True while on the current path, False when done
    for node in _subschemas(root):
        if id(node) in state:
            continue
        state[id(node)] = True
        stack: list[tuple[dict[str, Any], Iterator[Any]]] = [(node, _in_place_children(node, root))]
        while stack:
            current, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[id(current)] = False
                stack.pop()
                continue
            if not isinstance(child, dict):
                continue
            seen = state.get(id(child))
            if seen is True:
                raise InvalidSchemaError(
                    "not a usable JSON Schema: its references loop without consuming input"
                )
            if seen is None:
                state[id(child)] = True
                stack.append((child, _in_place_children(child, root)))


def _pointer_target(ref: str, root: dict[str, Any]) -> Any:
    """What the local JSON pointer ``ref`` (``#/a/b``) points at in ``root``, or None."""
    target: Any = root
    for part in ref[1:].split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(target, dict) and part in target:
            target = target[part]
        elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
            target = target[int(part)]
        else:
            return None
    return target


def _subschemas(value: Any) -> Iterator[dict[str, Any]]:
    """Every object nested in ``value``, except inside instance values (``enum``, ``const``,
    ``default``, ``examples``), which are data, not schemas."""
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            yield current
            stack.extend(v for k, v in current.items() if k not in _INSTANCE_KEYWORDS)
        elif isinstance(current, list):
            stack.extend(current)


def _anchors(schema: dict[str, Any]) -> Iterator[str]:
    for node in _subschemas(schema):
        for keyword in _ANCHOR_KEYWORDS:
            anchor = node.get(keyword)
            if isinstance(anchor, str):
                yield anchor
