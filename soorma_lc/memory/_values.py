"""Validation and encoding shared by working memory and plans: scopes, ids, JSON values, keys.

Everything stored is JSON text in a compact canonical form (``json.dumps`` with no spaces), so
that Lua scripts can rely on the first byte to know a value's type.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from soorma_lc.errors import (
    InvalidIdentifierError,
    ScopeError,
    SerializationError,
    ValueTooLargeError,
)
from soorma_lc.jsonvalues import check_json_value

DEFAULT_MAX_VALUE_BYTES = 1024 * 1024
"""Default limit on one stored value's JSON encoding (1 MiB)."""

MAX_ID_LENGTH = 512


def require_scope(tenant_id: str | None, user_id: str | None) -> tuple[str, str]:
    """Return ``(tenant_id, user_id)`` or raise :class:`ScopeError` if either is missing."""
    for name, value in (("tenant_id", tenant_id), ("user_id", user_id)):
        if not isinstance(value, str) or not value.strip():
            raise ScopeError(f"{name} is required (got {value!r})")
    return tenant_id, user_id  # type: ignore[return-value]


def require_id(value: Any, what: str) -> str:
    """Return ``value`` if it is a usable identifier, else raise :class:`InvalidIdentifierError`."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidIdentifierError(f"{what} must be a non-empty string (got {value!r})")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidIdentifierError(f"{what} is longer than {MAX_ID_LENGTH} characters")
    return value


def key_segment(value: str) -> str:
    """``value`` escaped for a Redis key: no ``:``, ``{``, ``}`` or ``%`` left, injective."""
    return quote(value, safe="")


def encode_json(value: Any, *, limit: int, what: str = "value") -> bytes:
    """Compact UTF-8 JSON for ``value``; :class:`SerializationError` if it is not plain JSON,
    :class:`ValueTooLargeError` if the encoding is longer than ``limit`` bytes."""
    try:
        check_json_value(value, what, tuples=True)
        data = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
            "utf-8"
        )
    except SerializationError:
        raise
    except RecursionError as exc:
        raise SerializationError(f"{what} is nested too deeply or refers to itself") from exc
    except (TypeError, ValueError) as exc:  # lone surrogates, circular references
        raise SerializationError(f"{what} is not JSON-serialisable: {exc}") from exc
    check_size(len(data), limit=limit, what=what)
    return data


def check_size(size: int, *, limit: int, what: str) -> None:
    """Raise :class:`ValueTooLargeError` when ``size`` bytes exceed ``limit``."""
    if size > limit:
        raise ValueTooLargeError(
            f"{what} is {size} bytes of JSON, over the {limit}-byte limit", size=size, limit=limit
        )


def decode_json(data: bytes | str) -> Any:
    """Inverse of :func:`encode_json`."""
    return json.loads(data)
