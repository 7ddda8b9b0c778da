"""One construction pattern for every Redis-backed component: an injected client stays the
caller's, ``from_url`` / ``from_settings`` own theirs, every ``from_*`` returns its class."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import redis
import redis.asyncio
from langgraph.checkpoint.base import empty_checkpoint

from soorma_lc.backends.redis_component import RedisComponent
from soorma_lc.bus import RedisStreamsBus
from soorma_lc.config import Settings
from soorma_lc.errors import ConfigurationError
from soorma_lc.memory import RedisCheckpointSaver, SoormaStore
from soorma_lc.registry import RedisRegistry

CONFIG = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}


@dataclass(frozen=True)
class Case:
    """A component class and one call that makes it talk to Redis."""

    cls: type[RedisComponent]
    use: Callable[[Any], Awaitable[object]]


CASES = {
    "bus": Case(RedisStreamsBus, lambda bus: bus.dead_letter_count()),
    "registry": Case(RedisRegistry, lambda registry: registry.version()),
    "store": Case(SoormaStore, lambda store: store.aget(("ns",), "k")),
}


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.mark.parametrize("case", [CASES["bus"], CASES["registry"]], ids=["bus", "registry"])
async def test_an_injected_client_stays_open_unless_owned(
    case: Case, client: redis.asyncio.Redis
) -> None:
    for owns_client in (False, True):
        async with case.cls(client, owns_client=owns_client) as component:
            await case.use(component)
            assert component.client is client and component.owns_client is owns_client
            connection = await client.client_id()
        reconnected = await client.client_id() != connection
        assert reconnected is owns_client


@pytest.mark.parametrize("owns_client", [False, True])
async def test_the_store_leaves_an_injected_client_usable_on_our_loop(
    client: redis.asyncio.Redis, owns_client: bool
) -> None:
    # The store does its I/O on its own loop; closing it releases the connections made there.
    async with SoormaStore(client, owns_client=owns_client) as store:
        await store.aput(("ns",), "k", {"v": 1})
        assert store.get(("ns",), "k").value == {"v": 1}
    assert await client.hlen(b"nothing") == 0  # no connection bound to the store's loop left


@pytest.mark.parametrize("case", CASES.values(), ids=CASES)
async def test_from_url_and_from_settings_return_the_subclass_and_own_their_client(
    case: Case, redis_url: str, settings: Settings
) -> None:
    subclass = type(f"My{case.cls.__name__}", (case.cls,), {})
    for component in (subclass.from_url(redis_url), subclass.from_settings(settings)):
        assert type(component) is subclass and component.owns_client
        async with component:
            await case.use(component)


@pytest.mark.parametrize("cls", [RedisRegistry, SoormaStore, RedisCheckpointSaver])
async def test_from_settings_uses_the_settings_tenant_unless_told(
    cls: type[Any], settings: Settings
) -> None:
    settings = settings.model_copy(update={"tenant_id": "acme"})
    async with (
        cls.from_settings(settings) as default,
        cls.from_settings(settings, tenant_id="globex") as chosen,
    ):
        assert (default.tenant_id, chosen.tenant_id) == ("acme", "globex")


async def test_the_saver_takes_injected_sync_and_async_clients(
    redis_url: str, client: redis.asyncio.Redis
) -> None:
    sync = redis.Redis.from_url(redis_url)
    try:
        for owns_client in (False, True):
            with RedisCheckpointSaver(sync, aclient=client, owns_client=owns_client) as saver:
                async with saver:
                    stored = await saver.aput(CONFIG, empty_checkpoint(), {}, {})
                    assert saver.get_tuple(stored) is not None  # the sync API, the sync client
                    connections = (sync.client_id(), await client.client_id())
            reconnected = (sync.client_id(), await client.client_id()) != connections
            assert reconnected is owns_client
        async_only, sync_only = RedisCheckpointSaver(aclient=client), RedisCheckpointSaver(sync)
        with pytest.raises(ConfigurationError, match="async client only"):
            async_only.get_tuple(CONFIG)
        with pytest.raises(ConfigurationError, match="sync client only"):
            await sync_only.aget_tuple(CONFIG)
        with pytest.raises(ConfigurationError, match="a sync client, an async one or both"):
            RedisCheckpointSaver()
    finally:
        sync.close()


async def test_the_saver_from_url_owns_its_clients(redis_url: str) -> None:
    subclass = type("MySaver", (RedisCheckpointSaver,), {})
    saver = subclass.from_url(redis_url)
    assert type(saver) is subclass
    async with saver:
        stored = await saver.aput(CONFIG, empty_checkpoint(), {}, {})
        with saver:
            assert saver.get_tuple(stored) is not None
