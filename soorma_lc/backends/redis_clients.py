"""Redis clients for every component: the configured server, or the embedded one.

``resolve_redis_url`` picks ``SOORMA_REDIS_URL`` or starts/attaches the embedded redis-server
(:mod:`soorma_lc.backends.embedded_redis`); ``sync_client`` / ``async_client`` build redis-py
clients named after this process, so the embedded server knows which connections are ours. A
``redis+cluster://`` URL gives a Redis Cluster client instead
(:mod:`soorma_lc.backends.redis_cluster`), which rides out failovers.

Every client is bounded: each command fails after ``redis_socket_timeout`` seconds, a
connection attempt after ``redis_connect_timeout``, idle pooled connections are checked every
``redis_health_check_interval`` seconds, and a command is retried once, only when its
connection was lost (a restarted server), never after a timeout. The values come from the
settings a component is built from (``from_settings``), else from the environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import os
import sys
from collections.abc import Iterator
from typing import Any, TypeVar

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.asyncio.retry
import redis.cluster
import redis.exceptions
import redis.retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from soorma_lc.backends.redis_cluster import (
    CLUSTER_SCHEMES,
    AsyncClusterClient,
    SyncClusterClient,
    cluster_seeds,
    is_cluster_url,
)
from soorma_lc.backends.redis_errors import backend_error
from soorma_lc.config import Settings, resolve_settings
from soorma_lc.errors import ConfigurationError

T = TypeVar("T")

_building_with: contextvars.ContextVar[Settings | None] = contextvars.ContextVar(
    "soorma_lc_redis_settings", default=None
)


@contextlib.contextmanager
def clients_configured_by(settings: Settings) -> Iterator[None]:
    """Clients built inside the block (by ``from_url``) take their timeouts from ``settings``.

    ``from_settings`` wraps ``from_url`` in it, so a component built from explicit settings
    honours their timeouts without every ``from_url`` taking a settings argument.
    """
    token = _building_with.set(settings)
    try:
        yield
    finally:
        _building_with.reset(token)


def _current_settings() -> Settings:
    return _building_with.get() or resolve_settings(None)


def client_options(settings: Settings | None = None) -> dict[str, Any]:
    """redis-py options bounding every call (see the module docstring), from ``settings``."""
    settings = settings or _current_settings()
    return {
        "socket_timeout": settings.redis_socket_timeout,
        "socket_connect_timeout": settings.redis_connect_timeout,
        "health_check_interval": settings.redis_health_check_interval,
    }


def socket_timeout_of(client: redis.asyncio.Redis | redis.asyncio.RedisCluster) -> float | None:
    """The socket timeout a client's connections use (None: unbounded)."""
    timeout = client.get_connection_kwargs().get("socket_timeout")
    return None if timeout is None else float(timeout)


_SUPPORTED_SCHEMES = ("redis://", "rediss://", "unix://", *(f"{s}://" for s in CLUSTER_SCHEMES))


def client_name() -> str:
    """Connection name marking this process's clients, so exit hooks can tell them apart."""
    return f"soorma-lc-{os.getpid()}"


def resolve_redis_url(settings: Settings | None = None) -> str:
    """The Redis URL components should use: ``settings.redis_url`` or the embedded server's."""
    settings = resolve_settings(settings)
    if settings.redis_url:
        return check_redis_url(settings.redis_url)
    from soorma_lc.backends.embedded_redis import embedded_redis

    return embedded_redis(settings.data_dir).url


def check_redis_url(url: str) -> str:
    """Return ``url`` if its scheme is one we support, else raise :class:`ConfigurationError`."""
    if not isinstance(url, str) or not url.startswith(_SUPPORTED_SCHEMES):
        raise ConfigurationError(
            f"unsupported Redis URL {url!r}: use redis://, rediss://, unix:// or "
            "redis+cluster://host:port[,host:port...]"
        )
    if is_cluster_url(url):
        cluster_seeds(url)  # lists usable nodes, or ConfigurationError
    return url


def sync_client(url: str, **options: Any) -> redis.Redis | redis.RedisCluster:
    """A synchronous redis-py client for ``url`` (a cluster client for ``redis+cluster://``),
    bounded as the module docstring says; ``options`` (and query parameters of ``url``)
    override the defaults."""
    if is_cluster_url(check_redis_url(url)):
        return _cluster_client(SyncClusterClient, redis.cluster.ClusterNode, url, options)
    options = {
        "client_name": client_name(),
        "retry": redis.retry.Retry(ExponentialBackoff(cap=1.0), 1, (RedisConnectionError,)),
        **client_options(),
        **options,
    }
    return redis.Redis.from_url(url, **options)


def async_client(url: str, **options: Any) -> redis.asyncio.Redis | redis.asyncio.RedisCluster:
    """A ``redis.asyncio`` client for ``url`` (a cluster client for ``redis+cluster://``),
    bounded as the module docstring says; ``options`` (and query parameters of ``url``)
    override the defaults."""
    if is_cluster_url(check_redis_url(url)):
        client = _cluster_client(
            AsyncClusterClient, redis.asyncio.cluster.ClusterNode, url, options
        )
        if sys.version_info < (3, 12):
            kwargs = client.connection_kwargs
            kwargs["connection_class"] = _cancellable(kwargs["connection_class"])
            for node in client.startup_nodes:
                node.connection_class = kwargs["connection_class"]
        return client
    options = {
        "client_name": client_name(),
        "retry": redis.asyncio.retry.Retry(ExponentialBackoff(cap=1.0), 1, (RedisConnectionError,)),
        **client_options(),
        **options,
    }
    client = redis.asyncio.Redis.from_url(url, **options)
    pool = client.connection_pool
    if sys.version_info < (3, 12) and not issubclass(pool.connection_class, _CancellableWrites):
        pool.connection_class = _cancellable(pool.connection_class)
    return client


async def release_connections(client: redis.asyncio.Redis | redis.asyncio.RedisCluster) -> None:
    """Close ``client``'s pooled connections on the running loop and leave it usable: a
    single-server client reconnects on demand, a cluster client rediscovers its nodes."""
    if isinstance(client, redis.asyncio.RedisCluster):
        await client.aclose()
    else:
        await client.connection_pool.disconnect()


def _cluster_client(cls: type[T], node_class: type, url: str, options: dict[str, Any]) -> T:
    """A cluster client of ``cls`` on the seed nodes of ``url``, bounded like the others, with
    the settings' failover timeout."""
    first, others = cluster_seeds(url)
    settings = _current_settings()
    options = {
        "client_name": client_name(),
        "failover_timeout": settings.redis_failover_timeout,
        **client_options(settings),
        **options,
    }
    if others:
        options["startup_nodes"] = [node_class(host, port) for host, port in others]
    try:
        return cls.from_url(first, **options)  # type: ignore[attr-defined,no-any-return]
    except (TypeError, ValueError) as exc:  # an unknown or malformed query parameter
        raise ConfigurationError(f"unusable Redis Cluster URL {url!r}: {exc}") from exc
    except (redis.exceptions.RedisError, redis.exceptions.RedisClusterException) as exc:
        raise backend_error(exc, f"connecting to the Redis Cluster {url}") from exc  # sync: eager


class _CancellableWrites:
    """Socket writes bounded by ``asyncio.timeout`` instead of ``asyncio.wait_for``.

    redis-py bounds each write with ``asyncio.wait_for`` when a socket timeout is set. On
    Python 3.11, ``wait_for`` swallows a cancellation that arrives while the write completes
    (and a write usually completes at once), so a task cancelled during a Redis call may run on
    as if never cancelled. ``asyncio.timeout`` propagates it.
    """

    socket_timeout: float | None

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        timeout = self.socket_timeout
        if not timeout:
            await super().send_packed_command(command, check_health)  # type: ignore[misc]
            return
        self.socket_timeout = None  # the write itself then awaits without wait_for
        try:
            async with asyncio.timeout(timeout):
                await super().send_packed_command(command, check_health)  # type: ignore[misc]
        except TimeoutError:
            raise RedisTimeoutError("Timeout writing to socket") from None
        finally:
            self.socket_timeout = timeout


@functools.cache
def _cancellable(connection_class: type) -> type:
    return type(connection_class.__name__, (_CancellableWrites, connection_class), {})


def reply_text(value: bytes | str) -> str:
    """A Redis reply as ``str``, whatever the client's ``decode_responses`` setting; bytes
    that are not UTF-8 (written by another tool) come back escaped, never as an error."""
    return value.decode("utf-8", errors="backslashreplace") if isinstance(value, bytes) else value
