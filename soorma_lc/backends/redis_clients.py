"""Redis clients for every component: the configured server, or the embedded one.

``resolve_redis_url`` picks ``SOORMA_REDIS_URL`` or starts/attaches the embedded redis-server
(:mod:`soorma_lc.backends.embedded_redis`); ``sync_client`` / ``async_client`` build redis-py
clients named after this process, so the embedded server knows which connections are ours.

Every client is bounded: each command fails after ``redis_socket_timeout`` seconds, a
connection attempt after ``redis_connect_timeout``, idle pooled connections are checked every
``redis_health_check_interval`` seconds, and a command is retried once, only when its
connection was lost (a restarted server), never after a timeout. The values come from the
settings a component is built from (``from_settings``), else from the environment.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator
from typing import Any

import redis
import redis.asyncio
import redis.asyncio.retry
import redis.retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from soorma_lc.config import Settings, resolve_settings
from soorma_lc.errors import ConfigurationError

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


def client_options(settings: Settings | None = None) -> dict[str, Any]:
    """redis-py options bounding every call (see the module docstring), from ``settings``."""
    settings = settings or _building_with.get() or resolve_settings(None)
    return {
        "socket_timeout": settings.redis_socket_timeout,
        "socket_connect_timeout": settings.redis_connect_timeout,
        "health_check_interval": settings.redis_health_check_interval,
    }


def socket_timeout_of(client: redis.asyncio.Redis) -> float | None:
    """The socket timeout a client's connections use (None: unbounded)."""
    timeout = client.connection_pool.connection_kwargs.get("socket_timeout")
    return None if timeout is None else float(timeout)


_SUPPORTED_SCHEMES = ("redis://", "rediss://", "unix://")


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
            f"unsupported Redis URL {url!r}: use redis://, rediss:// or unix://"
        )
    return url


def sync_client(url: str, **options: Any) -> redis.Redis:
    """A synchronous redis-py client for ``url``, bounded as the module docstring says;
    ``options`` (and query parameters of ``url``) override the defaults."""
    options = {
        "client_name": client_name(),
        "retry": redis.retry.Retry(ExponentialBackoff(cap=1.0), 1, (RedisConnectionError,)),
        **client_options(),
        **options,
    }
    return redis.Redis.from_url(check_redis_url(url), **options)


def async_client(url: str, **options: Any) -> redis.asyncio.Redis:
    """A ``redis.asyncio`` client for ``url``, bounded as the module docstring says;
    ``options`` (and query parameters of ``url``) override the defaults."""
    options = {
        "client_name": client_name(),
        "retry": redis.asyncio.retry.Retry(ExponentialBackoff(cap=1.0), 1, (RedisConnectionError,)),
        **client_options(),
        **options,
    }
    return redis.asyncio.Redis.from_url(check_redis_url(url), **options)


def reply_text(value: bytes | str) -> str:
    """A Redis reply as ``str``, whatever the client's ``decode_responses`` setting."""
    return value.decode("utf-8") if isinstance(value, bytes) else value
