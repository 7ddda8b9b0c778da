"""One contract suite, run against InMemoryRegistry, RedisRegistry (one server and a Redis
Cluster) and SoormaRegistryClient.

The HTTP client runs against tests/soorma_registry_fake.py (respx); Redis is the real embedded
server. ``expire_all`` makes every registered agent's TTL run out: the in-memory and fake
clocks jump forward; for Redis the stored expiry times are moved into the (server) past.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
import respx
from soorma_registry_fake import DEFAULT_TOKEN, FakeSoormaRegistry

from soorma_lc.errors import (
    InvalidAgentError,
    InvalidEventError,
    InvalidSchemaError,
    RegistryConflictError,
    UnknownAgentError,
)
from soorma_lc.events import (
    AgentCapability,
    AgentDefinition,
    EventDefinition,
    EventTopic,
    PayloadSchema,
)
from soorma_lc.registry import (
    InMemoryRegistry,
    RedisRegistry,
    Registry,
    SoormaRegistryClient,
)

TTL = 300.0


@dataclass
class Backend:
    registry: Registry
    expire_all: Callable[[], Awaitable[None]]
    versioned: bool


@pytest.fixture(params=["memory", "redis", "redis-cluster", "http"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    if request.param == "memory":
        now = [1000.0]
        registry = InMemoryRegistry(agent_ttl=TTL, clock=lambda: now[0])

        async def expire_memory() -> None:
            now[0] += TTL + 1

        yield Backend(registry, expire_memory, versioned=True)
    elif request.param.startswith("redis"):
        url = request.getfixturevalue("cluster_url" if "cluster" in request.param else "redis_url")
        registry = RedisRegistry.from_url(url, agent_ttl=TTL, tenant_id="t1")
        client = registry.client
        expiry_key = "soorma:registry:{t1}:expiry"

        async def expire_redis() -> None:
            seconds, _ = await client.time()  # a cluster answers from any node: one machine
            members = await client.zrange(expiry_key, 0, -1)
            if members:
                past = (seconds - 1) * 1000
                await client.zadd(expiry_key, dict.fromkeys(members, past))

        yield Backend(registry, expire_redis, versioned=True)
    else:
        fake = FakeSoormaRegistry(agent_ttl=TTL)
        with respx.mock(assert_all_called=False) as router:
            fake.mount(router)
            registry = SoormaRegistryClient(fake.base_url, token=DEFAULT_TOKEN, retries=0)

            async def expire_http() -> None:
                fake.now += TTL + 1

            yield Backend(registry, expire_http, versioned=False)
    await registry.aclose()


def event(
    name: str, topic: EventTopic | str = EventTopic.ACTION_REQUESTS, **fields
) -> EventDefinition:
    return EventDefinition(event_name=name, topic=topic, **fields)


def agent(agent_id: str, consumes: str, produces: str = "", name: str = "") -> AgentDefinition:
    capability = AgentCapability(
        task_name=f"handle {consumes}",
        description="does the work",
        consumed_event=event(consumes, description=f"request {consumes}"),
        produced_events=[event(produces, EventTopic.ACTION_RESULTS)] if produces else [],
    )
    return AgentDefinition(
        agent_id=agent_id,
        name=name or agent_id,
        description="test agent",
        capabilities=[capability],
    )


SEARCH = event(
    "web.search.request",
    description="Search the web",
    payload_schema={
        "type": "object",
        "properties": {
            "query_text": {"type": "string", "minLength": 1},
            "max_results": {"type": "integer", "enum": [5, 10]},
        },
        "required": ["query_text"],
    },
    response_schema={"type": "object", "properties": {"hit_urls": {"type": "array"}}},
    payload_schema_name="search_v1",
)


async def test_is_a_registry(backend: Backend) -> None:
    assert isinstance(backend.registry, Registry)


async def test_event_round_trip_keeps_schemas_verbatim(backend: Backend) -> None:
    reg = backend.registry
    await reg.register_event(SEARCH)
    found = await reg.get_event("web.search.request")
    assert found == SEARCH
    # snake_case keys inside the schema survive camelCase transport untouched
    assert set(found.payload_schema["properties"]) == {"query_text", "max_results"}
    assert await reg.get_event("web.search.unknown") is None


async def test_register_event_replaces_definition(backend: Backend) -> None:
    reg = backend.registry
    await reg.register_event(SEARCH)
    changed = SEARCH.model_copy(update={"description": "Search the whole web"})
    await reg.register_event(changed)
    assert (await reg.get_event(SEARCH.event_name)).description == "Search the whole web"
    assert len(await reg.list_events()) == 1


async def test_list_events_sorted_and_filtered_by_topic(backend: Backend) -> None:
    reg = backend.registry
    for name, topic in [
        ("b.request", EventTopic.ACTION_REQUESTS),
        ("a.request", EventTopic.ACTION_REQUESTS),
        ("a.done", EventTopic.ACTION_RESULTS),
    ]:
        await reg.register_event(event(name, topic))
    names = [e.event_name for e in await reg.list_events()]
    assert names == ["a.done", "a.request", "b.request"]
    by_enum = await reg.list_events(EventTopic.ACTION_REQUESTS)
    by_str = await reg.list_events("action-requests")
    assert (
        [e.event_name for e in by_enum]
        == ["a.request", "b.request"]
        == [e.event_name for e in by_str]
    )
    assert await reg.list_events(EventTopic.BILLING_EVENTS) == []
    assert await reg.list_events("no-such-topic") == []  # a custom topic nobody uses
    with pytest.raises(InvalidEventError, match="invalid topic 'no such topic'"):
        await reg.list_events("no such topic")


async def test_custom_topics_are_registered_listed_and_filtered(backend: Backend) -> None:
    reg = backend.registry
    custom = event("order.audited", "audit.orders-v2", description="An order was audited")
    await reg.register_event(custom)
    await reg.register_event(event("a.request"))
    assert await reg.get_event("order.audited") == custom
    assert (await reg.get_event("order.audited")).topic == "audit.orders-v2"
    assert await reg.list_events("audit.orders-v2") == [custom]
    assert [e.event_name for e in await reg.list_events()] == ["a.request", "order.audited"]
    worker = agent("auditor-1", "order.audited")
    worker = worker.model_copy(
        update={
            "capabilities": [worker.capabilities[0].model_copy(update={"consumed_event": custom})]
        }
    )
    await reg.register_agent(worker)
    assert [a.agent_id for a in await reg.list_agents("order.audited")] == ["auditor-1"]


ORDER_SCHEMA = PayloadSchema(
    schema_name="order_v1",
    json_schema={"type": "object", "properties": {"sku": {"type": "string"}}, "required": ["sku"]},
    description="An order",
)
ORDER_SCHEMA_2 = PayloadSchema(
    schema_name="order_v1",
    version="2.0.0",
    json_schema={"type": "object", "properties": {"sku": {"type": "integer"}}},
)
NAMED = event("order.place", payload_schema_name="order_v1", response_schema_name="receipt_v1")


async def test_schema_names_resolve_to_the_latest_registered_version(backend: Backend) -> None:
    reg = backend.registry
    await reg.register_event(NAMED)
    unresolved = await reg.get_event("order.place")
    assert unresolved == NAMED and unresolved.payload_schema is None
    await reg.register_schema(ORDER_SCHEMA)
    [listed] = await reg.list_events()
    found = await reg.get_event("order.place")
    assert found == listed
    assert found.payload_schema == ORDER_SCHEMA.json_schema
    assert found.payload_schema_name == "order_v1"
    assert found.response_schema is None  # receipt_v1 is not registered
    await reg.register_schema(ORDER_SCHEMA_2)
    assert (await reg.get_event("order.place")).payload_schema == ORDER_SCHEMA_2.json_schema
    assert await reg.get_schema("order_v1") == ORDER_SCHEMA_2
    assert await reg.get_schema("order_v1", "1.0.0") == ORDER_SCHEMA
    assert await reg.get_schema("order_v1", "3.0.0") is None
    assert await reg.get_schema("receipt_v1") is None
    # an inline schema wins over a name
    inline = NAMED.model_copy(update={"event_name": "order.inline", "payload_schema": {}})
    await reg.register_event(inline)
    assert (await reg.get_event("order.inline")).payload_schema == {}


async def test_a_schema_version_is_immutable(backend: Backend) -> None:
    reg = backend.registry
    await reg.register_schema(ORDER_SCHEMA)
    await reg.register_schema(ORDER_SCHEMA)  # identical again: nothing to do
    changed = ORDER_SCHEMA.model_copy(update={"json_schema": {"type": "object"}})
    with pytest.raises(RegistryConflictError, match="immutable"):
        await reg.register_schema(changed)
    assert await reg.get_schema("order_v1") == ORDER_SCHEMA
    with pytest.raises(InvalidSchemaError):
        await reg.register_schema(ORDER_SCHEMA.model_copy(update={"json_schema": {"type": 1}}))
    with pytest.raises(InvalidSchemaError):
        await reg.register_schema({"schema_name": "x"})  # type: ignore[arg-type]
    with pytest.raises(InvalidSchemaError):
        await reg.get_schema(" ")
    with pytest.raises(InvalidSchemaError):
        await reg.get_schema("order_v1", "v" * 51)


async def test_register_agent_registers_its_events(backend: Backend) -> None:
    reg = backend.registry
    worker = agent("worker-1", "summarize.request", "summarize.done")
    await reg.register_agent(worker)
    assert await reg.get_agent("worker-1") == worker
    consumed = await reg.get_event("summarize.request")
    assert consumed is not None and consumed.description == "request summarize.request"
    produced = await reg.get_event("summarize.done")
    assert produced is not None and produced.topic is EventTopic.ACTION_RESULTS


async def test_list_agents_sorted_and_filtered(backend: Backend) -> None:
    reg = backend.registry
    await reg.register_agent(agent("w-b", "x.request"))
    await reg.register_agent(agent("w-a", "x.request"))
    await reg.register_agent(agent("w-c", "y.request"))
    assert [a.agent_id for a in await reg.list_agents()] == ["w-a", "w-b", "w-c"]
    assert [a.agent_id for a in await reg.list_agents("x.request")] == ["w-a", "w-b"]
    assert await reg.list_agents(consumed_event="z.request") == []
    assert await reg.get_agent("w-unknown") is None


async def test_register_agent_replaces_it(backend: Backend) -> None:
    reg = backend.registry
    await reg.register_agent(agent("w-1", "x.request"))
    await reg.register_agent(agent("w-1", "y.request"))
    agents = await reg.list_agents()
    assert [(a.agent_id, a.consumed_events) for a in agents] == [("w-1", ["y.request"])]
    assert await reg.list_agents("x.request") == []


async def test_heartbeat_and_deregister(backend: Backend) -> None:
    reg = backend.registry
    await reg.register_agent(agent("w-1", "x.request"))
    await reg.heartbeat("w-1")
    with pytest.raises(UnknownAgentError) as raised:
        await reg.heartbeat("w-missing")
    assert raised.value.agent_id == "w-missing"
    assert await reg.deregister_agent("w-1") is True
    assert await reg.deregister_agent("w-1") is False
    assert await reg.get_agent("w-1") is None
    assert await reg.list_agents() == []
    with pytest.raises(UnknownAgentError):
        await reg.heartbeat("w-1")
    # events registered with the agent outlive it
    assert await reg.get_event("x.request") is not None


async def test_expired_agents_vanish_and_heartbeat_revives(backend: Backend) -> None:
    reg = backend.registry
    await reg.register_agent(agent("w-1", "x.request"))
    await reg.register_agent(agent("w-2", "x.request"))
    await backend.expire_all()
    assert await reg.get_agent("w-1") is None
    assert await reg.list_agents() == []
    assert await reg.list_agents("x.request") == []
    await reg.heartbeat("w-1")
    assert [a.agent_id for a in await reg.list_agents("x.request")] == ["w-1"]
    assert await reg.get_agent("w-2") is None


async def test_invalid_event_is_rejected_before_writing(backend: Backend) -> None:
    reg = backend.registry
    await reg.register_event(SEARCH)
    mutated = SEARCH.model_copy()
    mutated.event_name = "has whitespace"
    with pytest.raises(InvalidEventError, match="contains whitespace"):
        await reg.register_event(mutated)
    broken = SEARCH.model_copy()
    broken.payload_schema = {"type": "no-such-type"}
    with pytest.raises(InvalidSchemaError):
        await reg.register_event(broken)
    with pytest.raises(InvalidEventError, match="expected an EventDefinition"):
        await reg.register_event("web.search.request")  # type: ignore[arg-type]
    assert await reg.list_events() == [SEARCH]


async def test_conflicting_agent_is_rejected_before_writing(backend: Backend) -> None:
    reg = backend.registry
    conflicting = AgentDefinition(
        agent_id="w-1",
        name="w",
        capabilities=[
            AgentCapability(task_name="one", consumed_event=event("x.request")),
            AgentCapability(
                task_name="two", consumed_event=event("x.request", description="other")
            ),
        ],
    )
    with pytest.raises(InvalidAgentError, match=r"defines event 'x\.request' twice"):
        await reg.register_agent(conflicting)
    with pytest.raises(InvalidAgentError):
        await reg.register_agent({"agent_id": "", "name": "w"})  # type: ignore[arg-type]
    assert await reg.list_events() == []
    assert await reg.list_agents() == []


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda r: r.get_event(""), InvalidEventError),
        (lambda r: r.get_event("a" * 256), InvalidEventError),
        (lambda r: r.list_agents(consumed_event="two words"), InvalidEventError),
        (lambda r: r.get_agent(""), InvalidAgentError),
        (lambda r: r.heartbeat(""), InvalidAgentError),
        (lambda r: r.deregister_agent("x" * 256), InvalidAgentError),
    ],
)
async def test_bad_names_raise_typed_errors(backend: Backend, call, error) -> None:
    with pytest.raises(error):
        await call(backend.registry)


async def test_version_tracks_visible_changes(backend: Backend) -> None:
    reg = backend.registry
    if not backend.versioned:
        await reg.register_event(SEARCH)
        assert await reg.version() is None
        return
    seen = [await reg.version()]
    await reg.register_event(SEARCH)
    seen.append(await reg.version())
    await reg.register_event(SEARCH)  # identical: no change
    assert await reg.version() == seen[-1]
    await reg.register_agent(agent("w-1", "x.request"))
    seen.append(await reg.version())
    await reg.heartbeat("w-1")  # live agent refreshed: nothing visible changed
    assert await reg.version() == seen[-1]
    await backend.expire_all()
    seen.append(await reg.version())
    await reg.heartbeat("w-1")  # revived
    seen.append(await reg.version())
    await reg.deregister_agent("w-1")
    seen.append(await reg.version())
    await reg.register_schema(ORDER_SCHEMA)  # resolved events may change
    seen.append(await reg.version())
    await reg.register_schema(ORDER_SCHEMA)
    assert await reg.version() == seen[-1]
    assert len(set(seen)) == len(seen), seen
