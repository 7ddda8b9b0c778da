"""Payload validation with ``jsonschema``: every violation, by JSON path, in words an LLM can fix.

These messages go back to the planner's model verbatim, so each one names where the problem is
(``$.items[0].quantity``), what is wrong, and what would be accepted.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import Any

from jsonschema import ValidationError
from jsonschema.protocols import Validator
from referencing.exceptions import Unresolvable

from soorma_lc.errors import InvalidSchemaError, PayloadValidationError
from soorma_lc.jsonvalues import json_value_problem
from soorma_lc.schema_safety import check_json_schema, safe_validator
from soorma_lc.toolkit.schema import apply_defaults

_TYPE_WORDS = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}
_MAX_SHOWN = 200


def json_path(parts: Iterable[Any]) -> str:
    """``$`` followed by ``.name`` and ``[index]`` parts, as in JSONPath."""
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _path_key(parts: Iterable[Any]) -> tuple[tuple[int, int, str], ...]:
    """Sort key for a path: array indexes numerically, object keys alphabetically."""
    return tuple((0, part, "") if isinstance(part, int) else (1, 0, str(part)) for part in parts)


def _shown(value: Any) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _describe(error: ValidationError) -> str:
    """One violation in words: path, problem, and what is allowed."""
    path = json_path(error.absolute_path)
    kind, expected, instance = error.validator, error.validator_value, error.instance
    if kind == "required":
        missing = [name for name in expected if name not in instance]
        fields = ", ".join(repr(name) for name in missing)
        noun = "field" if len(missing) == 1 else "fields"
        return f"{path}: missing required {noun} {fields}"
    if kind == "additionalProperties" and expected is False:
        allowed = sorted((error.schema.get("properties") or {}).keys())
        extra = sorted(set(instance) - set(allowed))
        hint = f"; allowed fields: {', '.join(allowed)}" if allowed else ""
        return f"{path}: unexpected field(s) {', '.join(map(repr, extra))}{hint}"
    if kind == "type":
        wanted = " or ".join(expected) if isinstance(expected, list) else expected
        got = _TYPE_WORDS.get(type(instance), type(instance).__name__)
        return f"{path}: expected {wanted}, got {got} {_shown(instance)}"
    if kind == "enum":
        return f"{path}: {_shown(instance)} is not allowed; use one of {_shown(expected)}"
    if kind == "const":
        return f"{path}: must be exactly {_shown(expected)}, got {_shown(instance)}"
    if kind in ("anyOf", "oneOf") and error.context:
        reasons = "; ".join(sorted({_describe(sub) for sub in error.context}))
        return f"{path}: matches none of the allowed shapes ({reasons})"
    message = error.message
    if len(message) > _MAX_SHOWN * 2:
        message = message[: _MAX_SHOWN * 2 - 3] + "..."
    return f"{path}: {message}"


def require_object(data: Any, *, event_name: str, what: str = "payload") -> None:
    """Raise :class:`PayloadValidationError` unless ``data`` is a JSON object (a dict)."""
    if not isinstance(data, dict):
        got = _TYPE_WORDS.get(type(data), type(data).__name__)
        message = f"$: the {what} must be a JSON object, got {got}"
        raise PayloadValidationError(
            f"invalid {what} for event {event_name!r}: {message}",
            [message],
            event_name=event_name,
        )


def require_plain_object(data: Any, *, event_name: str, what: str = "payload") -> None:
    """:func:`require_object`, and plain JSON inside (no NaN, no other objects, no lone
    surrogates, bounded depth): what may be validated, published, and even printed safely."""
    require_object(data, event_name=event_name, what=what)
    problem = json_value_problem(data, "$")
    if problem is not None:
        raise PayloadValidationError(
            f"invalid {what} for event {event_name!r}: {problem}", [problem], event_name=event_name
        )


class SchemaValidator:
    """A compiled validator for one JSON Schema, safe to share between threads.

    The schema is untrusted (it comes from the registry): it is checked and compiled by
    :mod:`soorma_lc.schema_safety`, so patterns run in linear time and a schema that cannot be
    used raises :class:`InvalidSchemaError` here, not a ``jsonschema`` error later.
    """

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = check_json_schema(schema)
        self._validator: Validator = safe_validator(schema)

    def errors(self, data: Any) -> list[str]:
        """Every violation of ``data`` against the schema, ordered by path, then message.

        ``data`` that is not plain JSON (NaN, objects of other types, lone surrogates, nesting
        deeper than the JSON depth limit) is one violation, reported without validating.
        """
        problem = json_value_problem(data, "$")
        if problem is not None:
            return [problem]
        try:
            found = [
                (_path_key(e.absolute_path), _describe(e))
                for e in self._validator.iter_errors(data)
            ]
        except RecursionError:
            raise InvalidSchemaError("the schema's references loop without end") from None
        except Unresolvable as exc:
            raise InvalidSchemaError(f"the schema has an unresolvable reference: {exc}") from None
        # "required" yields one error per missing field; each describes all of them: dedupe.
        return list(dict.fromkeys(message for _, message in sorted(found)))

    def validated(self, data: Any, *, event_name: str, what: str = "payload") -> dict[str, Any]:
        """``data`` with defaults applied; raises :class:`PayloadValidationError` if invalid."""
        require_plain_object(data, event_name=event_name, what=what)
        completed = apply_defaults(data, self.schema)
        problems = self.errors(completed)
        if problems:
            raise PayloadValidationError(
                f"invalid {what} for event {event_name!r}: " + "; ".join(problems),
                problems,
                event_name=event_name,
            )
        return completed


class ValidatorCache:
    """Compiled validators keyed by schema content, so a schema is compiled once per process."""

    def __init__(self) -> None:
        self._validators: dict[str, SchemaValidator] = {}
        self._lock = threading.Lock()

    def get(self, schema: dict[str, Any]) -> SchemaValidator:
        check_json_schema(schema)
        key = json.dumps(schema, sort_keys=True)
        with self._lock:
            validator = self._validators.get(key)
            if validator is None:
                validator = self._validators[key] = SchemaValidator(schema)
            return validator
