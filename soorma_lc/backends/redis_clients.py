"""Redis clients for every component: the configured server, or the embedded one.

``resolve_redis_url`` picks ``SOORMA_REDIS_URL`` or starts/attaches the embedded redis-server
(:mod:`soorma_lc.backends.embedded_redis`); ``sync_client`` / ``async_client`` build redis-py
clients named after this process, so the embedded server knows which connections are ours.
"""

from __future__ import annotations

import os
from typing import Any

import redis
import redis.asyncio

from soorma_lc.config import Settings, resolve_settings
from soorma_lc.errors import ConfigurationError

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
    if not url.startswith(_SUPPORTED_SCHEMES):
        raise ConfigurationError(
            f"unsupported Redis URL {url!r}: use redis://, rediss:// or unix://"
        )
    return url


def sync_client(url: str, **options: Any) -> redis.Redis:
    """A synchronous redis-py client for ``url``."""
    options.setdefault("client_name", client_name())
    return redis.Redis.from_url(check_redis_url(url), **options)


def async_client(url: str, **options: Any) -> redis.asyncio.Redis:
    """A ``redis.asyncio`` client for ``url``."""
    options.setdefault("client_name", client_name())
    return redis.asyncio.Redis.from_url(check_redis_url(url), **options)


def reply_text(value: bytes | str) -> str:
    """A Redis reply as ``str``, whatever the client's ``decode_responses`` setting."""
    return value.decode("utf-8") if isinstance(value, bytes) else value
