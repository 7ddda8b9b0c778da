"""One mapping of lost Redis connections to :class:`BackendUnavailableError`, for every component.

A plain (sync) context manager, so it wraps blocking calls and ``await``-ed ones alike.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from soorma_lc.errors import BackendUnavailableError

T = TypeVar("T")
R = TypeVar("R")

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


def reports_unreachable_redis(what: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: every public coroutine method of the class reports a lost Redis
    connection as :class:`BackendUnavailableError` instead of redis-py's own exception."""

    def decorate(cls: type[T]) -> type[T]:
        for name, method in list(vars(cls).items()):
            if not name.startswith("_") and inspect.iscoroutinefunction(method):
                setattr(cls, name, _guarded(method, what))
        return cls

    return decorate


def _guarded(method: Callable[..., Awaitable[R]], what: str) -> Callable[..., Awaitable[R]]:
    @functools.wraps(method)
    async def guarded(*args: Any, **kwargs: Any) -> R:
        with redis_unreachable(what):
            return await method(*args, **kwargs)

    return guarded
