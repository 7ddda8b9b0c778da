"""One mapping of lost Redis connections to :class:`BackendUnavailableError`, for every component.

A plain (sync) context manager, so it wraps blocking calls and ``await``-ed ones alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from soorma_lc.errors import BackendUnavailableError

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
"""What redis-py raises when the server is down, refuses connections or does not answer."""


@contextmanager
def redis_unreachable(what: str = "Redis") -> Iterator[None]:
    """Raise :class:`BackendUnavailableError` ("<what> is unreachable: ...") for a lost
    connection inside the block; any other error passes through unchanged."""
    try:
        yield
    except UNREACHABLE as exc:
        raise BackendUnavailableError(f"{what} is unreachable: {exc}") from exc
