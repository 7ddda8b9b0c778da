"""Validation and encoding shared by the memory layer: scopes, ids, counts, JSON values, keys.

Identifiers (tenant, user, plan, session, state key, agent, role, ...) follow one rule
everywhere in the memory layer, checked before anything is read or written: the library's
label rule (:func:`soorma_lc.checks.label_problem`: visible text, spaces allowed inside but not
around it, no control, zero-width or unassigned characters, no lone surrogates, which UTF-8
and so Redis and Chroma cannot store) with at most :data:`MAX_ID_LENGTH` characters.

Everything stored in Redis is JSON text in a compact canonical form (``json.dumps`` with no
spaces), so that Lua scripts can rely on the first byte to know a value's type. Reads decode
with the rules writes encode with (no NaN or Infinity, valid UTF-8): a value changed outside
soorma-lc raises :class:`CorruptedDataError` instead of coming back as something no write
could have stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import redis.asyncio

from soorma_lc.checks import check_int, label_problem, shown
from soorma_lc.errors import (
    ConfigurationError,
    CorruptedDataError,
    InvalidArgumentError,
    InvalidIdentifierError,
    ScopeError,
    SerializationError,
    SoormaError,
    SoormaValidationError,
    ValueTooLargeError,
)
from soorma_lc.jsonvalues import check_json_value, parse_json

DEFAULT_MAX_VALUE_BYTES = 1024 * 1024
"""Default limit on one stored value's JSON encoding (1 MiB)."""

MAX_ID_LENGTH = 512
"""Longest identifier (tenant, user, plan, session, key, agent, ...) the memory layer accepts."""


def id_problem(
    value: Any, *, max_length: int = MAX_ID_LENGTH, allow_empty: bool = False
) -> str | None:
    """Why ``value`` is not a usable identifier (None when it is): the library's label rule
    (:func:`soorma_lc.checks.label_problem`) with the memory layer's length limit.

    ``allow_empty`` accepts ``""`` (a root namespace), never a blank or invisible one.
    """
    if allow_empty and isinstance(value, str) and not value:
        return None
    return label_problem(value, max_length=max_length)


def require_id(
    value: Any, what: str, *, error: type[SoormaValidationError] = InvalidIdentifierError
) -> str:
    """``value`` if it is a usable identifier, else ``error`` (:class:`InvalidIdentifierError`)."""
    problem = id_problem(value)
    if problem is not None:
        raise error(f"{what} {problem}")
    return value


def require_scope(tenant_id: Any, user_id: Any) -> tuple[str, str]:
    """Return ``(tenant_id, user_id)``, or :class:`ScopeError` if either is missing or not a
    usable identifier."""
    for name, value in (("tenant_id", tenant_id), ("user_id", user_id)):
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ScopeError(f"{name} is required (got {shown(value)})")
        require_id(value, name, error=ScopeError)
    return tenant_id, user_id


def require_count(
    value: Any,
    what: str,
    *,
    minimum: int = 1,
    maximum: int | None = None,
    error: type[SoormaValidationError] = InvalidArgumentError,
) -> int:
    """``value`` if it is an int (not a bool, nor a numeric string) in ``[minimum, maximum]``
    (:func:`soorma_lc.checks.check_int`), else ``error`` (memory calls raise their own types)."""
    try:
        return check_int(value, what, minimum=minimum, maximum=maximum)
    except InvalidArgumentError as exc:
        if error is InvalidArgumentError:
            raise
        raise error(str(exc)) from None


MAX_TTL_MINUTES = 10**9
"""Longest TTL the memory layer accepts (about 1900 years): Redis expiry times are 64-bit
milliseconds, and an int past float range cannot be turned into a time at all."""


def is_ttl_minutes(value: Any) -> bool:
    """True when ``value`` is a number of minutes in ``(0, MAX_TTL_MINUTES]`` (not a bool,
    NaN or infinity; compared without float conversion, which overflows for huge ints)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return 0 < value <= MAX_TTL_MINUTES  # NaN fails both comparisons


def require_async_client(client: Any, component: str) -> Any:
    """``client`` if it is a ``redis.asyncio`` client (single server or cluster), else
    :class:`ConfigurationError`: a sync client would fail only at the first ``await``."""
    if not isinstance(client, redis.asyncio.Redis | redis.asyncio.RedisCluster):
        raise ConfigurationError(
            f"{component} needs a redis.asyncio client (async_client(url)), got {shown(client)}"
        )
    return client


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


# What decoding stored bytes raises when they are not what soorma-lc wrote: bad JSON or UTF-8
# (ValueError), missing fields (KeyError), wrong shapes (TypeError, IndexError, AttributeError),
# numbers out of range (OverflowError), nesting too deep (RecursionError).
_DECODE_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    RecursionError,
)


@contextmanager
def reading(
    what: str,
    *,
    error: type[CorruptedDataError] = CorruptedDataError,
    hint: str = "changed outside soorma-lc?",
    also: tuple[type[Exception], ...] = (),
    key: str | None = None,
) -> Iterator[None]:
    """Report stored data that fails to decode inside the block as ``error`` ("<what> cannot
    be read back (<hint>)", naming the Redis ``key``); SoormaErrors pass through. ``also`` adds
    exception types (e.g. a decompressor's own)."""
    try:
        yield
    except SoormaError:
        raise
    except (*_DECODE_ERRORS, *also) as exc:
        raise error(f"{what} cannot be read back ({hint}): {exc!r}", key=key) from exc


def stored_text(
    value: bytes | str,
    what: str,
    *,
    key: str | None = None,
    error: type[CorruptedDataError] = CorruptedDataError,
) -> str:
    """A stored name or id as text, decoded strictly: ``error`` for bytes that are not UTF-8
    (written by another tool), which no write of ours stores (``reply_text`` would escape
    them and hand out a name that matches nothing)."""
    try:
        return value.decode("utf-8") if isinstance(value, bytes | bytearray) else value
    except UnicodeDecodeError:
        raise error(
            f"{what} holds bytes that are not UTF-8 text (changed outside soorma-lc?)", key=key
        ) from None


def decode_json(data: bytes | str, *, what: str = "stored value", key: str | None = None) -> Any:
    """Inverse of :func:`encode_json`, with its rules (:func:`soorma_lc.jsonvalues.parse_json`
    on strict UTF-8): :class:`CorruptedDataError`, naming ``what`` and the Redis ``key``, for
    what no write of ours could store (bad UTF-8, NaN, overflowing numbers, lone surrogates,
    nesting past the JSON depth limit)."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
        return parse_json(text, what, CorruptedDataError)
    except (UnicodeDecodeError, CorruptedDataError) as exc:
        raise CorruptedDataError(
            f"{what} is not JSON written by soorma-lc (changed outside it?): {exc}", key=key
        ) from None
