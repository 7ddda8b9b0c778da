"""One mapping of redis-py's exceptions to soorma-lc's backend errors, for every component.

- Redis cannot be reached (connection refused or lost, timeout, a server still loading its
  data, a cluster that is down or failing over, a cluster none of whose seed nodes answers):
  :class:`BackendUnavailableError`, retrying later may help;
- Redis answered and refused the command (``WRONGTYPE``, a bad stream id, a failing script,
  out of memory, keys of one command in different cluster slots, a ``redis+cluster://`` URL
  naming a server not in cluster mode, ...): :class:`BackendResponseError`, a bug or a
  misconfiguration, not an outage.

Components pass what they were doing, so messages say what failed where, and may pass their own
subclasses of the two (the Redis registry raises the registry's errors). ``redis_errors`` is a
plain (sync) context manager, so it wraps blocking calls and ``await``-ed ones alike.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from redis.exceptions import (
    ClusterDownError,
    MasterDownError,
    ReadOnlyError,
    RedisClusterException,
    RedisError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from soorma_lc.backends.redis_cluster import is_failover_error
from soorma_lc.errors import BackendResponseError, BackendUnavailableError

T = TypeVar("T")
R = TypeVar("R")

UNREACHABLE: tuple[type[RedisError], ...] = (
    RedisConnectionError,  # refused, lost, authentication, server loading (BusyLoadingError)
    RedisTimeoutError,
    ClusterDownError,
    TryAgainError,
    MasterDownError,
    ReadOnlyError,  # a primary demoted by a failover, until the client reconnects
)
"""redis-py errors meaning that Redis cannot serve us right now (as opposed to refusing)."""


def backend_error(
    exc: RedisError | RedisClusterException,
    what: str,
    *,
    unavailable: type[BackendUnavailableError] = BackendUnavailableError,
    refused: type[BackendResponseError] = BackendResponseError,
) -> BackendUnavailableError | BackendResponseError:
    """The soorma-lc error for redis-py's ``exc`` (see the module docstring)."""
    if isinstance(exc, UNREACHABLE):
        return unavailable(f"{what}: Redis is unreachable ({exc})")
    if isinstance(exc, RedisError):
        return refused(f"{what}: Redis refused the command ({exc})")
    # redis-py's cluster client errors (no RedisError): no reachable node, or a misuse
    if is_failover_error(exc):
        return unavailable(f"{what}: Redis Cluster is unreachable ({exc})")
    return refused(f"{what}: Redis Cluster refused the command ({exc})")


@contextmanager
def redis_errors(
    what: str,
    *,
    unavailable: type[BackendUnavailableError] = BackendUnavailableError,
    refused: type[BackendResponseError] = BackendResponseError,
) -> Iterator[None]:
    """Raise ``unavailable`` ("<what>: Redis is unreachable (...)") or ``refused`` ("<what>:
    Redis refused the command (...)") for a redis-py error inside the block."""
    try:
        yield
    except (RedisError, RedisClusterException) as exc:
        raise backend_error(exc, what, unavailable=unavailable, refused=refused) from exc


def reports_redis_errors(component: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: every public coroutine method reports redis-py errors through
    :func:`redis_errors` ("<component> <method>: ..."), never as redis-py's own exceptions."""

    def decorate(cls: type[T]) -> type[T]:
        for name, method in list(vars(cls).items()):
            if not name.startswith("_") and inspect.iscoroutinefunction(method):
                setattr(cls, name, _guarded(method, f"{component} {name}"))
        return cls

    return decorate


def _guarded(method: Callable[..., Awaitable[R]], what: str) -> Callable[..., Awaitable[R]]:
    @functools.wraps(method)
    async def guarded(*args: Any, **kwargs: Any) -> R:
        with redis_errors(what):
            return await method(*args, **kwargs)

    return guarded
