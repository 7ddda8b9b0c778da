"""SoormaRegistryClient against the fake of the real soorma-core 0.9.1 Registry service.

Each test names one thing the service does that the written reference does not say (JWT only,
``name:version``, stripped capability events, one agent per name, its 30 s caches, routes
that cannot address an id with ``/``), checks that the fake does it (the raw answer), and
that the client, or soorma-core's own SDK next to it, copes. See tests/soorma_registry_fake.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
import respx
from soorma.registry.client import RegistryClient
from soorma_common import AgentCapability as SoormaCapability
from soorma_common import AgentDefinition as SoormaAgent
from soorma_common import EventDefinition as SoormaEvent
from soorma_common import PayloadSchema as SoormaSchema
from soorma_registry_fake import DEFAULT_TOKEN, FakeSoormaRegistry

from soorma_lc.errors import (
    InvalidSchemaError,
    RegistryConflictError,
    RegistryResponseError,
    UnknownAgentError,
)
from soorma_lc.events import (
    AgentCapability,
    AgentDefinition,
    EventDefinition,
    EventTopic,
    PayloadSchema,
)
from soorma_lc.registry import SoormaRegistryClient
from soorma_lc.toolkit import EventToolkit

BASE = "http://registry.test"
TTL = 300.0

REQUEST = EventDefinition(
    event_name="doc.summarize",
    topic="docs.work",  # a custom topic: the service hands capability events back on its own
    description="Summarize a document",
    payload_schema={"type": "object", "properties": {"doc_id": {"type": "string"}}},
)
RESULT = EventDefinition(
    event_name="doc.summarized", topic=EventTopic.BUSINESS_FACTS, description="A summary"
)


def summarizer(agent_id: str = "summarizer-1", name: str = "summarizer") -> AgentDefinition:
    return AgentDefinition(
        agent_id=agent_id,
        name=name,
        description="Summarizes",
        capabilities=[
            AgentCapability(
                task_name="summarize",
                description="Summarize one doc",
                consumed_event=REQUEST,
                produced_events=[RESULT],
            )
        ],
    )


@dataclass
class Service:
    fake: FakeSoormaRegistry
    client: SoormaRegistryClient
    sdk: RegistryClient
    raw: httpx.AsyncClient

    async def raw_agents(self, **params: str) -> list[dict]:
        answer = await self.raw.get("/v1/agents", params=params)
        return answer.json()["agents"]


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.fixture
async def service(router: respx.MockRouter) -> AsyncIterator[Service]:
    fake = FakeSoormaRegistry(BASE, agent_ttl=TTL)
    fake.mount(router)
    headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    async with httpx.AsyncClient(base_url=BASE, headers=headers) as raw:
        service = Service(
            fake,
            SoormaRegistryClient(BASE, DEFAULT_TOKEN, retries=0),
            RegistryClient(BASE, auth_token=DEFAULT_TOKEN),
            raw,
        )
        yield service
        await service.client.aclose()
        await service.sdk.close()


# --- auth ------------------------------------------------------------------------------------


async def test_the_service_requires_a_bearer_jwt(router: respx.MockRouter) -> None:
    FakeSoormaRegistry(BASE).mount(router)
    for token, detail in [(None, "Missing bearer token"), ("not-a-jwt", "Invalid JWT")]:
        client = SoormaRegistryClient(BASE, token, retries=0, headers={"X-Tenant-ID": "t1"})
        with pytest.raises(RegistryResponseError, match="SOORMA_REGISTRY_TOKEN") as raised:
            await client.list_events()
        assert (raised.value.status_code, raised.value.body) == (401, {"detail": detail})
        await client.aclose()


async def test_the_tenant_is_the_token_s(router: respx.MockRouter) -> None:
    FakeSoormaRegistry(BASE, tokens={"jwt-a": "tenant-a", "jwt-b": "tenant-b"}).mount(router)
    a = SoormaRegistryClient(BASE, "jwt-a", retries=0)
    b = SoormaRegistryClient(BASE, "jwt-b", retries=0)
    await a.register_agent(summarizer())
    assert [e.event_name for e in await a.list_events()] == ["doc.summarize", "doc.summarized"]
    assert await b.list_events() == []
    assert await b.list_agents() == []
    await a.aclose()
    await b.aclose()


# --- agent names and capabilities ------------------------------------------------------------


async def test_agent_names_carry_a_version_at_the_service(service: Service) -> None:
    await service.client.register_agent(summarizer())
    [raw] = await service.raw_agents()
    assert raw["name"] == "summarizer:1.0.0"
    assert (await service.client.get_agent("summarizer-1")).name == "summarizer"
    [discovered] = await service.sdk.discover_agents(consumed_event="doc.summarize")
    assert (discovered.name, discovered.version) == ("summarizer", "1.0.0")
    # a name that contains a colon reads back whole
    await service.client.register_agent(summarizer("ns-1", "team:summarizer"))
    assert (await service.client.get_agent("ns-1")).name == "team:summarizer"


async def test_capability_events_come_back_as_registered(service: Service) -> None:
    await service.client.register_agent(summarizer())
    [raw] = await service.raw_agents()
    [capability] = raw["capabilities"]
    # the service keeps names only and answers placeholders on forced topics
    assert capability["consumedEvent"]["topic"] == "action-requests"
    assert capability["consumedEvent"]["payloadSchema"] is None
    assert capability["producedEvents"][0]["topic"] == "action-results"
    assert await service.client.get_agent("summarizer-1") == summarizer()
    assert await service.client.list_agents() == [summarizer()]


async def test_agents_registered_by_the_soorma_sdk_are_read(service: Service) -> None:
    indexing = SoormaEvent(
        event_name="doc.index", topic="action-requests", description="Index a document"
    )
    await service.sdk.register_event(indexing)
    agent = SoormaAgent(
        version="2.0.0",  # soorma-core registers it as indexer:2.0.0
        agent_id="indexer-7",
        name="indexer",
        description="Indexes",
        capabilities=[
            SoormaCapability(
                task_name="index",
                description="Index one doc",
                consumed_event=indexing,
                produced_events=[],
            )
        ],
    )
    await service.sdk.register_agent(agent)
    [read] = await service.client.list_agents()
    assert (read.agent_id, read.name, read.consumed_events) == (
        "indexer-7",
        "indexer",
        ["doc.index"],
    )
    assert read.capabilities[0].consumed_event.description == "Index a document"
    toolkit = EventToolkit(service.client)
    assert [e.event_name for e in await toolkit.discover_actionable_events()] == ["doc.index"]
    # and the other way: the SDK reads what soorma-lc registered
    await service.client.register_agent(summarizer())
    found = await service.sdk.get_event("doc.summarize")
    assert (found.topic, found.payload_schema) == ("docs.work", REQUEST.payload_schema)
    assert {a.name for a in await service.sdk.query_agents()} == {
        "indexer:2.0.0",
        "summarizer:1.0.0",
    }


async def test_the_service_lists_one_instance_per_agent_name(service: Service) -> None:
    client = service.client
    await client.register_agent(summarizer("summarizer-1"))
    service.fake.now = 10
    await client.register_agent(summarizer("summarizer-2"))
    assert [a["agentId"] for a in await service.raw_agents()] == ["summarizer-2"]
    assert [a.agent_id for a in await client.list_agents()] == ["summarizer-2"]
    assert [a.agent_id for a in await client.list_agents("doc.summarize")] == ["summarizer-2"]
    service.fake.now = 20
    await client.heartbeat("summarizer-1")  # now the latest heartbeat
    assert [a.agent_id for a in await client.list_agents()] == ["summarizer-1"]
    # each instance is still reachable by id, and liveness holds while any instance beats
    assert (await client.get_agent("summarizer-2")).agent_id == "summarizer-2"
    assert await client.deregister_agent("summarizer-1") is True
    assert [a.agent_id for a in await client.list_agents()] == ["summarizer-2"]


# --- liveness and the 30 s caches ------------------------------------------------------------


async def test_expired_agents_the_service_still_lists_are_left_out(service: Service) -> None:
    client = service.client
    await client.register_agent(summarizer())
    await client.register_event(EventDefinition(event_name="idle.request", topic="action-requests"))
    toolkit = EventToolkit(client, cache_ttl=0)
    service.fake.now = TTL - 10
    assert len(await client.list_agents()) == 1  # read: the service caches its answer 30 s
    assert (await client.get_agent("summarizer-1")) is not None
    assert [e.event_name for e in await toolkit.discover_actionable_events(None)] == [
        "doc.summarize"
    ]
    service.fake.now = TTL + 5  # expired, within the service's cache
    assert [a["agentId"] for a in await service.raw_agents(include_expired="false")] == [
        "summarizer-1"
    ]
    assert len(await service.raw_agents(agent_id="summarizer-1")) == 1
    assert await client.list_agents() == []
    assert await client.get_agent("summarizer-1") is None
    assert await toolkit.discover_actionable_events(None) == []
    await client.heartbeat("summarizer-1")  # revived before the cleanup deleted it
    assert [a.agent_id for a in await client.list_agents()] == ["summarizer-1"]


async def test_the_cleanup_deletes_expired_agents(service: Service) -> None:
    await service.client.register_agent(summarizer())
    service.fake.now = TTL + 61  # a cleanup ran after the agent expired
    with pytest.raises(UnknownAgentError):
        await service.client.heartbeat("summarizer-1")
    assert await service.client.deregister_agent("summarizer-1") is False


async def test_an_update_the_service_dropped_is_sent_again(service: Service) -> None:
    await service.client.register_event(REQUEST)
    changed = REQUEST.model_copy(update={"description": "Summarize a document briefly"})
    # soorma-core's own client: the read by name caches the row, the update is acknowledged
    # and lost
    assert await service.sdk.get_event("doc.summarize") is not None
    answer = await service.sdk.register_event(SoormaEvent(**changed.model_dump()))
    assert answer.success and "updated" in answer.message
    assert (await service.sdk.get_event("doc.summarize")).description == REQUEST.description
    # soorma-lc reads the event back by topic, sees the old one and sends it again
    assert await service.client.get_event("doc.summarize") == REQUEST  # cached by name again
    await service.client.register_event(changed)
    assert service.fake.tenant().events["doc.summarize"].description == changed.description
    assert await service.client.get_event("doc.summarize") == changed


async def test_a_topic_change_is_refused_by_the_service_and_reported(service: Service) -> None:
    await service.client.register_event(REQUEST)
    moved = REQUEST.model_copy(update={"topic": EventTopic.ACTION_REQUESTS})
    with pytest.raises(RegistryConflictError, match="never changes a registered event's topic"):
        await service.client.register_event(moved)
    assert (await service.client.get_event("doc.summarize")).topic == "docs.work"


# --- routes ----------------------------------------------------------------------------------


async def test_an_id_with_a_slash_never_reaches_the_agent_routes(service: Service) -> None:
    answer = await service.raw.put("/v1/agents/team%2Fworker/heartbeat")
    assert (answer.status_code, answer.json()) == (404, {"detail": "Not Found"})
    # so soorma-lc refuses such an id before registering it (test_registry_http.py)


# --- schemas ---------------------------------------------------------------------------------


async def test_schema_names_resolve_through_the_service(service: Service) -> None:
    schema = {
        "type": "object",
        "properties": {"doc_id": {"type": "string"}},
        "required": ["doc_id"],
    }
    await service.sdk.register_schema(
        SoormaSchema(schema_name="index_v1", version="1.0.0", json_schema=schema)
    )
    await service.sdk.register_event(
        SoormaEvent(
            event_name="doc.index",
            topic="action-requests",
            description="Index",
            payload_schema_name="index_v1",
        )
    )
    found = await service.client.get_event("doc.index")
    assert (found.payload_schema, found.payload_schema_name) == (schema, "index_v1")
    [tool] = EventToolkit(service.client).as_tools([found])
    assert tool.args_schema["required"] == ["doc_id"]
    assert await service.client.get_schema("index_v1") == PayloadSchema(
        schema_name="index_v1", json_schema=schema
    )
    # the same version again is the service's 409: fine when identical, a conflict otherwise
    await service.client.register_schema(PayloadSchema(schema_name="index_v1", json_schema=schema))
    with pytest.raises(RegistryConflictError) as raised:
        await service.client.register_schema(
            PayloadSchema(schema_name="index_v1", json_schema={"type": "object"})
        )
    assert raised.value.status_code == 409
    # a newer version is the latest
    await service.client.register_schema(
        PayloadSchema(schema_name="index_v1", version="1.1.0", json_schema={"type": "object"})
    )
    assert (await service.client.get_event("doc.index")).payload_schema == {"type": "object"}
    assert (await service.client.get_schema("index_v1", "1.0.0")).json_schema == schema


async def test_an_unreadable_schema_from_the_service_is_skipped(service: Service) -> None:
    await service.sdk.register_schema(
        SoormaSchema(schema_name="odd_v1", version="1", json_schema={"type": "string"})
    )
    assert await service.client.get_schema("odd_v1") is None
    with pytest.raises(InvalidSchemaError):
        await service.client.get_schema("odd_v1", "")
