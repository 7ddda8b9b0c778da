"""Validation and encoding shared by the memory layer: scopes, ids, counts, JSON values, keys.

Identifiers (tenant, user, plan, session, state key, agent, role, ...) follow one rule
everywhere in the memory layer, checked before anything is read or written: a string of at
most :data:`MAX_ID_LENGTH` characters, not blank (nor made of invisible characters only),
without control characters, and valid Unicode: a lone surrogate cannot be encoded as UTF-8,
which is what Redis and Chroma store.

Everything stored in Redis is JSON text in a compact canonical form (``json.dumps`` with no
spaces), so that Lua scripts can rely on the first byte to know a value's type. Reads decode
with the rules writes encode with (no NaN or Infinity, valid UTF-8): a value changed outside
soorma-lc raises :class:`CorruptedDataError` instead of coming back as something no write
could have stored.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import redis.asyncio

from soorma_lc.errors import (
    ConfigurationError,
    CorruptedDataError,
    InvalidIdentifierError,
    ScopeError,
    SerializationError,
    SoormaError,
    SoormaValidationError,
    ValueTooLargeError,
    shown,
)
from soorma_lc.jsonvalues import check_json_value

DEFAULT_MAX_VALUE_BYTES = 1024 * 1024
"""Default limit on one stored value's JSON encoding (1 MiB)."""

MAX_ID_LENGTH = 512
"""Longest identifier (tenant, user, plan, session, key, agent, ...) the memory layer accepts."""

_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs"})  # control characters, lone surrogates


def id_problem(
    value: Any, *, max_length: int = MAX_ID_LENGTH, allow_empty: bool = False
) -> str | None:
    """Why ``value`` is not a usable identifier (None when it is); see the module docstring.

    ``allow_empty`` accepts ``""`` (a root namespace), never a blank or invisible one.
    """
    if not isinstance(value, str):
        return f"must be a string, got {shown(value)}"
    if not value:
        return None if allow_empty else "must not be empty"
    if len(value) > max_length:
        return f"is {len(value)} characters long, over the {max_length}-character limit"
    for char in value:
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            return f"contains {char!r}: control characters and lone surrogates are refused"
    if all(char.isspace() or unicodedata.category(char) == "Cf" for char in value):
        return f"must not be blank, got {shown(value)}"
    return None


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
    error: type[SoormaValidationError] = SoormaValidationError,
) -> int:
    """``value`` if it is an int (not a bool, nor a numeric string) in ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(f"{what} must be an integer, got {shown(value)}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"at least {minimum}" if maximum is None else f"in {minimum}..{maximum}"
        raise error(f"{what} must be {bound}, got {shown(value)}")
    return value


MAX_TTL_MINUTES = 10**9
"""Longest TTL the memory layer accepts (about 1900 years): Redis expiry times are 64-bit
milliseconds, and an int past float range cannot be turned into a time at all."""


def is_ttl_minutes(value: Any) -> bool:
    """True when ``value`` is a number of minutes in ``(0, MAX_TTL_MINUTES]`` (not a bool,
    NaN or infinity; compared without float conversion, which overflows for huge ints)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return 0 < value <= MAX_TTL_MINUTES  # NaN fails both comparisons


def as_list(value: Any, what: str, *, error: type[SoormaValidationError]) -> list[Any]:
    """``value`` as a list of items, where one string is one item, not its characters.

    Lists, tuples, sets and other iterables are listed; None, a mapping (its keys would be
    taken silently), bytes and other scalars raise ``error``.
    """
    if isinstance(value, str):
        return [value]
    if isinstance(value, bytes | bytearray | Mapping) or not isinstance(value, Iterable):
        raise error(f"{what} must be a list (or one string), got {shown(value)}")
    return list(value)


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


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode_json(data: bytes | str, *, what: str = "stored value", key: str | None = None) -> Any:
    """Inverse of :func:`encode_json`, with its rules: :class:`CorruptedDataError` (naming
    ``what`` and the Redis ``key``) for text that is not valid UTF-8 or not strict JSON (NaN,
    Infinity, numbers that overflow, lone surrogates), as no write of ours could store it."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
        value = json.loads(text, parse_constant=_refuse_constant)
        # Encoding back refuses what the text may still hold and no write of ours stores: a
        # number that overflowed to infinity (1e999), an escaped lone surrogate ("\\ud800").
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except RecursionError:
        raise CorruptedDataError(f"{what} is nested too deeply to decode", key=key) from None
    except (ValueError, TypeError) as exc:  # JSONDecodeError, bad UTF-8, overflowing numbers
        raise CorruptedDataError(
            f"{what} is not JSON written by soorma-lc (changed outside it?): {exc}", key=key
        ) from None
    return value
