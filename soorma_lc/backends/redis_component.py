"""The one way Redis-backed components are built and closed.

- ``Component(client, *, <options>, owns_client=False)`` works on an injected redis-py client:
  the caller keeps it, may share it, and closes it;
- ``Component.from_url(url, **options)`` builds a client for ``url`` and owns it; ``options``
  are the constructor's keywords;
- ``Component.from_settings(settings=None, **options)`` does the same for the configured Redis
  (the embedded server when none is configured), with the defaults the settings give the
  component (e.g. its tenant) unless ``options`` name them;
- ``aclose()`` closes what the component owns and nothing else; ``async with`` calls it.

Every ``from_*`` returns the class it is called on. :class:`RedisComponent` implements this for
components on one ``redis.asyncio`` client; the checkpointer, which LangGraph calls both sync
and async, implements :class:`RedisBacked` with a client of each kind.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Self

import redis.asyncio

from soorma_lc.backends.redis_clients import (
    async_client,
    clients_configured_by,
    resolve_redis_url,
)
from soorma_lc.config import Settings, resolve_settings


class RedisBacked(ABC):
    """The construction contract above: ``from_url``, ``from_settings``, ``aclose``."""

    @classmethod
    @abstractmethod
    def from_url(cls, url: str, **options: Any) -> Self:
        """A component on the Redis at ``url`` (redis://, rediss:// or unix://), owning the
        clients it builds; ``options`` are the constructor's keywords."""

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **options: Any) -> Self:
        """A component on the configured Redis (``SOORMA_REDIS_URL``, else the embedded
        server, started on first use), owning its clients."""
        settings = resolve_settings(settings)
        options = {**cls.settings_options(settings), **options}
        with clients_configured_by(settings):  # the settings' Redis timeouts
            return cls.from_url(resolve_redis_url(settings), **options)

    @classmethod
    def settings_options(cls, settings: Settings) -> dict[str, Any]:
        """Constructor options :meth:`from_settings` takes from ``settings`` (none here)."""
        return {}

    @abstractmethod
    async def aclose(self) -> None:
        """Close the clients this component built, and nothing else."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class RedisComponent(RedisBacked):
    """A component working on one ``redis.asyncio.Redis`` client (``client``)."""

    def __init__(self, client: redis.asyncio.Redis, *, owns_client: bool = False) -> None:
        self.client = client
        self.owns_client = owns_client

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Self:
        return cls(async_client(url), owns_client=True, **options)

    async def aclose(self) -> None:
        """Close the client if this component built it (``from_url`` / ``from_settings``)."""
        if self.owns_client:
            await self.client.aclose()
