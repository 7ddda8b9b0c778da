"""One Redis error mapping for every component: an outage is BackendUnavailableError, a command
Redis refuses (here: a key of the wrong type) is BackendResponseError, never redis-py's own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import redis
import redis.asyncio
from langgraph.checkpoint.base import empty_checkpoint
from redis.exceptions import (
    AuthenticationError,
    BusyLoadingError,
    ClusterDownError,
    ConnectionError,
    DataError,
    MasterDownError,
    NoScriptError,
    OutOfMemoryError,
    ReadOnlyError,
    ResponseError,
    TimeoutError,
    TryAgainError,
)

from soorma_lc.backends.redis_errors import redis_errors, reports_redis_errors
from soorma_lc.bus import RedisStreamsBus
from soorma_lc.config import Settings
from soorma_lc.errors import (
    BackendError,
    BackendResponseError,
    BackendUnavailableError,
    InvalidArgumentError,
    RegistryError,
    RegistryResponseError,
    RegistryUnavailableError,
    SoormaError,
)
from soorma_lc.events import (
    AgentCapability,
    AgentDefinition,
    EventDefinition,
    EventEnvelope,
    EventTopic,
)
from soorma_lc.memory import RedisCheckpointSaver, SoormaStore
from soorma_lc.memory.plans import PlanStore
from soorma_lc.memory.working import WorkingMemory
from soorma_lc.registry import RedisRegistry

SCOPE = {"tenant_id": "t1", "user_id": "u1"}
NOT_A_HASH = b"a string where a hash or stream belongs"


def retype_keys(client: redis.Redis, pattern: str) -> list[bytes]:
    """Replace every key matching ``pattern`` by a string: each command on it then fails."""
    keys = list(client.scan_iter(match=pattern))
    assert keys, f"no key matches {pattern}"
    for key in keys:
        client.delete(key)
        client.set(key, NOT_A_HASH)
    return keys


def assert_untouched(client: redis.Redis, keys: list[bytes]) -> None:
    assert all(client.get(key) == NOT_A_HASH for key in keys), "a failed call changed a key"


# -- the mapping itself ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raised",
    [
        ConnectionError("Connection refused"),
        TimeoutError("Timeout reading from socket"),
        BusyLoadingError("Redis is loading the dataset in memory"),
        AuthenticationError("invalid password"),
        ClusterDownError("CLUSTERDOWN"),
        TryAgainError("TRYAGAIN"),
        MasterDownError("MASTERDOWN"),
        ReadOnlyError("READONLY You can't write against a read only replica."),
    ],
)
def test_outages_are_unavailable(raised: Exception) -> None:
    unavailable = pytest.raises(BackendUnavailableError, match=r"^bus: Redis is unreachable \(")
    with unavailable, redis_errors("bus"):
        raise raised


@pytest.mark.parametrize(
    "raised",
    [
        ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"),
        ResponseError("ERR Invalid stream ID specified as stream command argument"),
        NoScriptError("NOSCRIPT"),
        OutOfMemoryError("OOM command not allowed"),
        DataError("Invalid input of type: 'dict'"),
    ],
)
def test_refused_commands_are_response_errors(raised: Exception) -> None:
    refused = pytest.raises(BackendResponseError, match=r"^store: Redis refused the command")
    with refused as e, redis_errors("store"):
        raise raised
    assert not isinstance(e.value, BackendUnavailableError)
    assert e.value.__cause__ is raised


def test_other_errors_pass_and_components_choose_their_classes() -> None:
    with pytest.raises(KeyError), redis_errors("x"):
        raise KeyError("not a Redis error")
    kinds = {"unavailable": RegistryUnavailableError, "refused": RegistryResponseError}
    with pytest.raises(RegistryUnavailableError), redis_errors("registry", **kinds):
        raise ConnectionError("gone")
    with pytest.raises(RegistryResponseError) as refused, redis_errors("registry", **kinds):
        raise ResponseError("WRONGTYPE")
    assert refused.value.status_code is None and "(status" not in str(refused.value)


def test_the_hierarchy() -> None:
    assert issubclass(BackendUnavailableError, BackendError)
    assert issubclass(BackendResponseError, BackendError)
    assert issubclass(BackendError, SoormaError)
    assert issubclass(RegistryUnavailableError, RegistryError | BackendUnavailableError)
    assert issubclass(RegistryResponseError, RegistryError | BackendResponseError)
    assert not issubclass(BackendResponseError, BackendUnavailableError)


async def test_the_class_decorator_names_component_and_method() -> None:
    @reports_redis_errors("widget")
    class Widget:
        async def spin(self) -> None:
            raise ResponseError("WRONGTYPE")

        async def _private(self) -> None:
            raise ResponseError("left alone")

    with pytest.raises(BackendResponseError, match=r"^widget spin: Redis refused"):
        await Widget().spin()
    with pytest.raises(ResponseError):
        await Widget()._private()


# -- every component on a real Redis -------------------------------------------------------------


@pytest.fixture
async def aclient(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_bus(redis_url: str, redis_client: redis.Redis) -> None:
    async with RedisStreamsBus.from_url(redis_url) as bus:
        # A start id that is no stream id is bad input, refused before Redis is asked.
        with pytest.raises(InvalidArgumentError, match="start_from"):
            await bus.ensure_group("g", [EventTopic.ACTION_REQUESTS], start_from="garbage")
        redis_client.set(bus.keys.stream(EventTopic.ACTION_REQUESTS), NOT_A_HASH)
        with pytest.raises(BackendResponseError, match="creating consumer group 'g'") as refused:
            await bus.ensure_group("g", [EventTopic.ACTION_REQUESTS])
        assert not isinstance(refused.value, BackendUnavailableError)
        await bus.announce("a.happened", {})
        [stream] = retype_keys(redis_client, bus.keys.stream(EventTopic.BUSINESS_FACTS))
        event = EventEnvelope(type="a.happened", topic=EventTopic.BUSINESS_FACTS)
        with pytest.raises(BackendResponseError, match=f"publishing event {event.id}"):
            await bus.publish(event)
        with pytest.raises(BackendResponseError, match="publishing 1 events"):
            await bus.publish_many([event])
        with pytest.raises(BackendResponseError, match="stats"):
            await bus.stats()
        redis_client.set(bus.keys.dead_letters, NOT_A_HASH)
        with pytest.raises(BackendResponseError, match="reading dead letters"):
            await bus.dead_letters()
        with pytest.raises(BackendResponseError, match="counting dead letters"):
            await bus.dead_letter_count()
        with pytest.raises(BackendResponseError, match="reading dead letter 1-0"):
            await bus.replay("1-0")
        assert_untouched(redis_client, [stream, bus.keys.dead_letters.encode()])


async def test_registry(aclient: redis.asyncio.Redis, redis_client: redis.Redis) -> None:
    registry = RedisRegistry(aclient, tenant_id="t1")
    event = EventDefinition(event_name="a.requested", topic=EventTopic.ACTION_REQUESTS)
    capability = AgentCapability(task_name="a", consumed_event=event)
    await registry.register_agent(
        AgentDefinition(agent_id="a1", name="a", capabilities=[capability])
    )
    keys = retype_keys(redis_client, "soorma:registry:{t1}:*")
    with pytest.raises(RegistryResponseError, match=r"Redis registry \(tenant 't1'\) list_events"):
        await registry.list_events()
    with pytest.raises(RegistryResponseError, match="register"):
        await registry.register_event(event)
    with pytest.raises(BackendResponseError, match="reading live agents"):
        await registry.list_agents()
    assert_untouched(redis_client, keys)


async def test_registry_outage_is_a_registry_error_too() -> None:
    registry = RedisRegistry.from_url("redis://127.0.0.1:1/0")
    async with registry:
        with pytest.raises(RegistryUnavailableError, match="version: Redis is unreachable"):
            await registry.version()


async def test_working_memory_and_plans(
    aclient: redis.asyncio.Redis, redis_client: redis.Redis
) -> None:
    working, plans = WorkingMemory(aclient), PlanStore(aclient)
    await working.set_plan_state("p1", "k", 1, **SCOPE)
    await plans.create_plan("p1", "goal.received", {}, **SCOPE)
    keys = retype_keys(redis_client, "soorma:wm:*") + retype_keys(redis_client, "soorma:plans:*")
    with pytest.raises(
        BackendResponseError, match=r"^working memory get_plan_state: Redis refused"
    ):
        await working.get_plan_state("p1", "k", **SCOPE)
    with pytest.raises(
        BackendResponseError, match=r"^working memory set_plan_state: Redis refused"
    ):
        await working.set_plan_state("p1", "k", 2, **SCOPE)
    with pytest.raises(BackendResponseError, match=r"^plan store get_plan: Redis refused"):
        await plans.get_plan("p1", **SCOPE)
    assert_untouched(redis_client, keys)


async def test_checkpointer_sync_and_async(redis_url: str, redis_client: redis.Redis) -> None:
    saver = RedisCheckpointSaver.from_url(redis_url)
    config = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
    await saver.aput(config, empty_checkpoint(), {}, {})
    keys = retype_keys(redis_client, "soorma:cp:*")
    with pytest.raises(BackendResponseError, match=r"^RedisCheckpointSaver: Redis refused"):
        await saver.aget_tuple(config)
    with pytest.raises(BackendResponseError, match=r"^RedisCheckpointSaver: Redis refused"):
        saver.get_tuple(config)
    assert_untouched(redis_client, keys)
    saver.close()
    await saver.aclose()


@pytest.fixture
def store(settings: Settings) -> Iterator[SoormaStore]:
    store = SoormaStore.from_settings(settings, index=False)
    yield store
    store.close()


async def test_store_sync_and_async(store: SoormaStore, redis_client: redis.Redis) -> None:
    store.put(("docs",), "k", {"v": 1})
    keys = retype_keys(redis_client, "soorma:store:*")
    with pytest.raises(BackendResponseError, match=r"^SoormaStore \(tenant '0{8}-"):
        store.get(("docs",), "k")
    with pytest.raises(BackendResponseError, match="Redis refused the command"):
        await store.aput(("docs",), "k", {"v": 2})
    assert_untouched(redis_client, keys)
