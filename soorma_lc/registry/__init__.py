"""Registries of event definitions and live agents: in memory, Redis, or a Soorma service."""

from soorma_lc.registry.base import Registry
from soorma_lc.registry.factory import registry_from_settings
from soorma_lc.registry.http import SoormaRegistryClient
from soorma_lc.registry.memory import InMemoryRegistry
from soorma_lc.registry.redis import RedisRegistry

__all__ = [
    "InMemoryRegistry",
    "RedisRegistry",
    "Registry",
    "SoormaRegistryClient",
    "registry_from_settings",
]
