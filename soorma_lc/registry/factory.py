"""registry_from_settings: the registry a deployment is configured to use."""

from __future__ import annotations

from soorma_lc.config import Settings, resolve_settings
from soorma_lc.registry.base import Registry
from soorma_lc.registry.http import SoormaRegistryClient
from soorma_lc.registry.redis import RedisRegistry


def registry_from_settings(settings: Settings | None = None) -> Registry:
    """A Soorma Registry client when ``registry_url`` is set, else a RedisRegistry.

    The Redis registry uses ``redis_url`` or, when that is unset, the embedded redis-server
    under ``data_dir`` (started on first use).
    """
    settings = resolve_settings(settings)
    if settings.registry_url:
        return SoormaRegistryClient.from_settings(settings)
    return RedisRegistry.from_settings(settings)
