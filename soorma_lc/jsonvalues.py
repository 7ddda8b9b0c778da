"""The strict JSON-value check shared by the bus (event data) and working memory (stored values).

``json.dumps`` and pydantic silently change some Python values (non-string keys become
strings, NaN becomes a non-standard token, sets or objects fail late or not at all); both
places refuse such values up front with :class:`SerializationError` naming where they are, so
what is read back is always what was written.
"""

from __future__ import annotations

import math
from typing import Any

from soorma_lc.errors import SerializationError


def check_json_value(value: Any, path: str, *, tuples: bool = False) -> None:
    """Raise :class:`SerializationError` unless ``value`` is plain JSON.

    Plain JSON: None, str, bool, int, finite float, and lists / string-keyed dicts of those.
    ``tuples=True`` also accepts tuples, for callers that are content to read them back as
    lists. ``path`` names ``value`` in the error (``data.x[1]``).
    """
    sequences = (list, tuple) if tuples else list
    try:
        _check(value, path, sequences)
    except RecursionError as exc:
        raise SerializationError(f"{path} is nested too deeply or refers to itself") from exc


def _check(value: Any, path: str, sequences: type | tuple[type, ...]) -> None:
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SerializationError(f"{path} is {value!r}: JSON has no non-finite numbers")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise SerializationError(f"{path} has a non-string key {key!r}")
            _check(item, f"{path}.{key}", sequences)
        return
    if isinstance(value, sequences):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]", sequences)
        return
    raise SerializationError(f"{path} is a {type(value).__name__}, which is not JSON-serialisable")
