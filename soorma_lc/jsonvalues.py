"""The strict JSON rules shared by everything that stores or sends JSON (event data, schemas,
registry metadata, working memory), for encoding and decoding alike.

``json.dumps`` and pydantic silently change some Python values (non-string keys become
strings, NaN becomes a non-standard token or null, sets or objects fail late or not at all,
lone surrogates fail deep in a serialiser), and ``json.loads`` accepts ``NaN`` and raises
``RecursionError`` on deep nesting. These helpers refuse such values up front with a typed
error naming where they are, so what is read back is always what was written:

- :func:`check_json_value` for values about to be written;
- :func:`parse_json` for text read from outside (a stream entry, an HTTP body, a CloudEvent).
"""

from __future__ import annotations

import json
import math
from typing import Any

from soorma_lc.checks import is_utf8_encodable, shown
from soorma_lc.errors import SerializationError, SoormaError

MAX_JSON_DEPTH = 64
"""Deepest nesting of objects and arrays accepted (a payload deeper than this is an attack or
a bug; it would also exhaust Python's recursion limit in the validators)."""


def check_json_value(value: Any, path: str, *, tuples: bool = False) -> None:
    """Raise :class:`SerializationError` unless ``value`` is plain JSON.

    Plain JSON: None, str, bool, int, finite float, and lists / string-keyed dicts of those,
    nested at most :data:`MAX_JSON_DEPTH` deep, with every string encodable as UTF-8.
    ``tuples=True`` also accepts tuples, for callers that are content to read them back as
    lists. ``path`` names ``value`` in the error (``data.x[1]``).
    """
    sequences: tuple[type, ...] = (list, tuple) if tuples else (list,)
    _check(value, path, sequences, 0)


def json_value_problem(value: Any, path: str) -> str | None:
    """Why ``value`` is not plain JSON (None when it is); see :func:`check_json_value`."""
    try:
        check_json_value(value, path)
    except SerializationError as exc:
        return str(exc)
    return None


def _check(value: Any, path: str, sequences: tuple[type, ...], depth: int) -> None:
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, str):
        if not is_utf8_encodable(value):
            raise SerializationError(f"{path} contains a lone surrogate, which JSON cannot carry")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SerializationError(f"{path} is {value!r}: JSON has no non-finite numbers")
        return
    if isinstance(value, (dict, *sequences)) and depth >= MAX_JSON_DEPTH:
        raise SerializationError(
            f"{path} is nested more than {MAX_JSON_DEPTH} levels deep (or refers to itself)"
        )
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise SerializationError(f"{path} has a non-string key {shown(key)}")
            if not is_utf8_encodable(key):
                raise SerializationError(f"{path} has a key with a lone surrogate")
            _check(item, f"{path}.{key}", sequences, depth + 1)
        return
    if isinstance(value, sequences):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]", sequences, depth + 1)
        return
    raise SerializationError(f"{path} is a {type(value).__name__}, which is not JSON-serialisable")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(text: str | bytes | bytearray, what: str, error: type[SoormaError]) -> Any:
    """``text`` parsed as strict JSON (no NaN/Infinity, nesting within :data:`MAX_JSON_DEPTH`),
    or ``error`` saying why not, naming ``what`` was parsed."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise error(f"{what} is nested too deeply") from None
    except (ValueError, TypeError) as exc:  # JSONDecodeError, bad UTF-8, not text at all
        raise error(f"{what} is not valid JSON: {exc}") from None
    try:
        check_json_value(value, "$")
    except SerializationError as exc:
        raise error(f"{what}: {exc}") from None
    return value
