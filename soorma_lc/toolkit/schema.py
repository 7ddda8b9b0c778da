"""Event JSON Schemas as tool argument schemas: normalisation, local ``$ref`` resolution, defaults.

The tool's argument schema is the event's payload schema itself (nested objects, arrays, enums,
``required``, defaults and descriptions kept); only what LLM providers cannot use is dropped
(``$schema``, ``$id``). Events without a schema take any JSON object.
"""

from __future__ import annotations

import copy
from typing import Any

from soorma_lc.errors import InvalidSchemaError
from soorma_lc.events import EventDefinition

PERMISSIVE_OBJECT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {},
    "additionalProperties": True,
}
_DROPPED_KEYS = ("$schema", "$id")
_MAX_REF_DEPTH = 32


def object_schema(schema: dict[str, Any] | None, *, event_name: str) -> dict[str, Any]:
    """The argument schema for an event payload: always a JSON object schema.

    Raises :class:`InvalidSchemaError` when the schema describes something other than an object,
    since event data (and tool arguments) are always JSON objects.
    """
    if schema is None:
        return copy.deepcopy(PERMISSIVE_OBJECT_SCHEMA)
    declared = schema.get("type")
    if declared is not None and declared != "object" and "object" not in _as_list(declared):
        raise InvalidSchemaError(
            f"event {event_name!r}: payload schema has type {declared!r}; event data must be a "
            "JSON object, so the schema needs type 'object'"
        )
    normalised = {k: v for k, v in schema.items() if k not in _DROPPED_KEYS}
    normalised["type"] = "object"
    normalised.setdefault("properties", {})
    return normalised


def unresolved_payload_schema(event: EventDefinition) -> str | None:
    """The payload schema name ``event`` gives without the schema (the registry filled in
    every name it holds a schema for), or None."""
    return event.payload_schema_name if event.payload_schema is None else None


def check_schema_resolved(event: EventDefinition, which: str) -> None:
    """Raise :class:`InvalidSchemaError` when ``event``'s ``which`` (payload or response)
    schema is only named, by a name the registry holds no schema for: checking the data
    against nothing would accept anything."""
    schema = getattr(event, f"{which}_schema")
    name = getattr(event, f"{which}_schema_name")
    if schema is None and name is not None:
        raise InvalidSchemaError(
            f"event {event.event_name!r} names {which} schema {name!r}, which the registry "
            "does not hold: register it (registry.register_schema) or give the event its "
            f"{which}_schema"
        )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def resolve_ref(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Follow local ``#/...`` references from ``schema`` within ``root`` (others left as is)."""
    for _ in range(_MAX_REF_DEPTH):
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#"):
            return schema
        target: Any = root
        for part in ref[1:].split("/")[1:] if ref != "#" else []:
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                return schema
            target = target[part]
        if not isinstance(target, dict):
            return schema
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def apply_defaults(data: Any, schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    """A copy of ``data`` with schema defaults filled in for absent object properties.

    Walks nested objects and arrays (``items``) through local ``$ref``; never mutates ``data``.
    """
    root = schema if root is None else root
    schema = resolve_ref(schema, root)
    if isinstance(data, dict):
        result = dict(data)
        for name, prop in (schema.get("properties") or {}).items():
            if not isinstance(prop, dict):
                continue
            prop = resolve_ref(prop, root)
            if name in result:
                result[name] = apply_defaults(result[name], prop, root)
            elif "default" in prop:
                result[name] = copy.deepcopy(prop["default"])
        return result
    items = schema.get("items")
    if isinstance(data, list) and isinstance(items, dict):
        return [apply_defaults(item, items, root) for item in data]
    return data


def example_value(schema: dict[str, Any], root: dict[str, Any], depth: int = 0) -> Any:
    """A plausible value for ``schema``: its example, default, first enum value, or by type."""
    schema = resolve_ref(schema, root)
    for key in ("examples", "example", "default", "const", "enum"):
        if key in schema:
            value = schema[key]
            if key in ("examples", "enum") and isinstance(value, list):
                if value:
                    return copy.deepcopy(value[0])
                continue
            return copy.deepcopy(value)
    if depth > 6:
        return None
    for combinator in ("anyOf", "oneOf", "allOf"):
        options = schema.get(combinator)
        if isinstance(options, list) and options and isinstance(options[0], dict):
            return example_value(options[0], root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or (kind is None and "properties" in schema):
        return example_object(schema, root, depth + 1)
    if kind == "array":
        items = schema.get("items")
        return [example_value(items, root, depth + 1)] if isinstance(items, dict) else []
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return schema.get("minimum", 0.0)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return "string_value"


def example_object(schema: dict[str, Any], root: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """An example object holding every property of ``schema``."""
    schema = resolve_ref(schema, root)
    return {
        name: example_value(prop, root, depth)
        for name, prop in (schema.get("properties") or {}).items()
        if isinstance(prop, dict)
    }
