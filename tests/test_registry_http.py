"""SoormaRegistryClient: exact wire shapes, auth, retries and typed errors (respx)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx
from soorma_registry_fake import FakeSoormaRegistry

from soorma_lc.config import Settings
from soorma_lc.errors import (
    ConfigurationError,
    RegistryResponseError,
    RegistryUnavailableError,
    UnknownAgentError,
)
from soorma_lc.events import AgentCapability, AgentDefinition, EventDefinition, EventTopic
from soorma_lc.registry import SoormaRegistryClient, registry_from_settings

BASE = "http://registry.test"

REQUEST = EventDefinition(
    event_name="doc.summarize",
    topic=EventTopic.ACTION_REQUESTS,
    description="Summarize a document",
    payload_schema={"type": "object", "properties": {"doc_id": {"type": "string"}}},
    response_schema_name="summary_v1",
)
RESULT = EventDefinition(
    event_name="doc.summarized", topic=EventTopic.ACTION_RESULTS, description="A summary"
)
AGENT = AgentDefinition(
    agent_id="summarizer-1",
    name="summarizer",
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
REQUEST_WIRE = {
    "eventName": "doc.summarize",
    "topic": "action-requests",
    "description": "Summarize a document",
    "payloadSchema": {"type": "object", "properties": {"doc_id": {"type": "string"}}},
    "responseSchema": None,
    "payloadSchemaName": None,
    "responseSchemaName": "summary_v1",
    "metadata": {},
}


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


@pytest.fixture
async def client() -> AsyncIterator[SoormaRegistryClient]:
    registry = SoormaRegistryClient(BASE, token="tok-123", retries=2, backoff=0)
    yield registry
    await registry.aclose()


def _body_of(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return response.text


def sent_json(call: respx.models.Call) -> object:
    return json.loads(call.request.content)


async def test_register_event_request_shape(router, client) -> None:
    route = router.post("/v1/events").respond(
        json={"eventName": "doc.summarize", "success": True, "message": "ok"}
    )
    await client.register_event(REQUEST)
    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer tok-123"
    assert request.headers["content-type"] == "application/json"
    assert sent_json(route.calls.last) == {"event": REQUEST_WIRE}


async def test_register_agent_posts_events_then_agent(router, client) -> None:
    order: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        order.append(body["event"]["eventName"] if "event" in body else body["agent"]["agentId"])
        key = "eventName" if "event" in body else "agentId"
        return httpx.Response(200, json={key: order[-1], "success": True, "message": "ok"})

    router.post("/v1/events").mock(side_effect=record)
    agents = router.post("/v1/agents").mock(side_effect=record)
    await client.register_agent(AGENT)
    assert order == ["doc.summarize", "doc.summarized", "summarizer-1"]
    agent_body = sent_json(agents.calls.last)["agent"]
    assert agent_body["agentId"] == "summarizer-1"
    assert agent_body["consumedEvents"] == ["doc.summarize"]
    assert agent_body["producedEvents"] == ["doc.summarized"]
    capability = agent_body["capabilities"][0]
    assert capability["taskName"] == "summarize"
    assert capability["consumedEvent"] == REQUEST_WIRE
    assert capability["producedEvents"][0]["eventName"] == "doc.summarized"


async def test_query_paths_and_parameters(router, client) -> None:
    events = router.get("/v1/events").respond(json={"events": [], "count": 0})
    agents = router.get("/v1/agents").respond(json={"agents": [], "count": 0})
    discover = router.get("/v1/agents/discover").respond(json={"agents": [], "count": 0})
    assert await client.get_event("doc.summarize") is None
    assert dict(events.calls.last.request.url.params) == {"event_name": "doc.summarize"}
    await client.list_events(EventTopic.ACTION_RESULTS)
    assert dict(events.calls.last.request.url.params) == {"topic": "action-results"}
    await client.list_events()
    assert dict(events.calls.last.request.url.params) == {}
    await client.list_agents()
    assert dict(agents.calls.last.request.url.params) == {"include_expired": "false"}
    assert await client.get_agent("summarizer-1") is None
    assert dict(agents.calls.last.request.url.params) == {
        "agent_id": "summarizer-1",
        "include_expired": "false",
    }
    await client.list_agents(consumed_event="doc.summarize")
    assert dict(discover.calls.last.request.url.params) == {"consumed_event": "doc.summarize"}
    assert all(
        c.request.headers["authorization"] == "Bearer tok-123"
        for c in [*events.calls, *agents.calls, *discover.calls]
    )


async def test_heartbeat_and_delete(router, client) -> None:
    beat = router.put("/v1/agents/summarizer-1/heartbeat").respond(
        json={"agentId": "summarizer-1", "success": True, "message": "ok"}
    )
    await client.heartbeat("summarizer-1")
    assert beat.call_count == 1
    router.put("/v1/agents/ghost/heartbeat").respond(404, json={"detail": "not found"})
    with pytest.raises(UnknownAgentError):
        await client.heartbeat("ghost")
    router.delete("/v1/agents/summarizer-1").respond(204)
    router.delete("/v1/agents/ghost").respond(404, json={"detail": "not found"})
    assert await client.deregister_agent("summarizer-1") is True
    assert await client.deregister_agent("ghost") is False


async def test_agent_id_is_quoted_in_paths(router, client) -> None:
    route = router.delete(url__regex=r"/v1/agents/team%2Fworker%201$").respond(204)
    assert await client.deregister_agent("team/worker 1") is True
    assert route.calls.last.request.url.raw_path == b"/v1/agents/team%2Fworker%201"


async def test_accepts_snake_case_answers(router) -> None:
    FakeSoormaRegistry(BASE, snake_answers=True).mount(router)
    registry = SoormaRegistryClient(BASE, retries=0)
    await registry.register_agent(AGENT)
    assert await registry.get_event("doc.summarize") == REQUEST
    assert await registry.get_agent("summarizer-1") == AGENT
    await registry.aclose()


async def test_accepts_null_event_lists(router, client) -> None:
    # Soorma's AgentDefinition declares consumedEvents/producedEvents Optional (null allowed)
    old = {"agentId": "old", "name": "old", "description": "", "capabilities": []}
    old |= {"consumedEvents": None, "producedEvents": None}
    router.get("/v1/agents").respond(json={"agents": [old], "count": 1})
    [agent] = await client.list_agents()
    assert (agent.agent_id, agent.consumed_events, agent.produced_events) == ("old", [], [])


async def test_retries_5xx_then_succeeds(router, client) -> None:
    route = router.get("/v1/events").mock(
        side_effect=[
            httpx.Response(503, text="busy"),
            httpx.Response(502, text="bad gateway"),
            httpx.Response(200, json={"events": [REQUEST_WIRE], "count": 1}),
        ]
    )
    assert await client.list_events() == [REQUEST]
    assert route.call_count == 3


async def test_repeated_5xx_raises_unavailable_with_status_and_body(router, client) -> None:
    route = router.get("/v1/events").respond(500, json={"detail": "db down"})
    with pytest.raises(RegistryUnavailableError) as raised:
        await client.list_events()
    assert route.call_count == 3  # first attempt + 2 retries
    assert raised.value.status_code == 500
    assert raised.value.body == {"detail": "db down"}


@pytest.mark.parametrize(
    "failure", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.PoolTimeout("")]
)
async def test_connection_errors_are_retried_then_raised(router, client, failure) -> None:
    route = router.get("/v1/events").mock(side_effect=failure)
    with pytest.raises(RegistryUnavailableError, match="unreachable after 3 attempts"):
        await client.list_events()
    assert route.call_count == 3


async def test_timeout_then_success(router, client) -> None:
    route = router.put("/v1/agents/a1/heartbeat").mock(
        side_effect=[httpx.ConnectTimeout("slow"), httpx.Response(200, json={"success": True})]
    )
    await client.heartbeat("a1")
    assert route.call_count == 2


@pytest.mark.parametrize(
    ("status", "body"),
    [(400, {"detail": "Failed to register event"}), (401, {"detail": "bad token"}), (422, [])],
)
async def test_4xx_raises_response_error_without_retry(router, client, status, body) -> None:
    route = router.post("/v1/events").respond(status, json=body)
    with pytest.raises(RegistryResponseError) as raised:
        await client.register_event(REQUEST)
    assert route.call_count == 1
    assert (raised.value.status_code, raised.value.body) == (status, body)


@pytest.mark.parametrize(
    ("method", "path", "call"),
    [
        ("PUT", "/v1/agents/a1/heartbeat", lambda c: c.heartbeat("a1")),
        ("DELETE", "/v1/agents/a1", lambda c: c.deregister_agent("a1")),
    ],
)
async def test_unexpected_status_on_agent_calls(router, client, method, path, call) -> None:
    router.route(method=method, path=path).respond(403, text="forbidden")
    with pytest.raises(RegistryResponseError) as raised:
        await call(client)
    assert (raised.value.status_code, raised.value.body) == (403, "forbidden")


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>not json</html>"),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(200, json={"count": 0}),
        httpx.Response(200, json={"events": [1, 2], "count": 2}),
    ],
)
async def test_malformed_answers_raise_response_error(router, client, answer) -> None:
    router.get("/v1/events").mock(return_value=answer)
    with pytest.raises(RegistryResponseError) as raised:
        await client.list_events()
    assert raised.value.status_code == 200
    assert raised.value.body == _body_of(answer)


async def test_unsuccessful_upsert_raises(router, client) -> None:
    body = {"agentId": "summarizer-1", "success": False, "message": "duplicate"}
    router.post("/v1/events").respond(json={"eventName": "x", "success": True, "message": ""})
    router.post("/v1/agents").respond(json=body)
    with pytest.raises(RegistryResponseError, match="refused the agent") as raised:
        await client.register_agent(AGENT)
    assert raised.value.body == body


async def test_unreadable_entries_are_skipped_with_a_warning(router, client, caplog) -> None:
    custom = {**REQUEST_WIRE, "eventName": "custom.event", "topic": "custom-topic"}
    router.get("/v1/events").respond(json={"events": [custom, REQUEST_WIRE], "count": 2})
    with caplog.at_level(logging.WARNING, logger="soorma_lc.registry.common"):
        assert await client.list_events() == [REQUEST]
    assert "skipping unreadable registry entry 'events[0]'" in caplog.text
    assert "topic: Input should be" in caplog.text


async def test_wrong_token_gets_401_from_service(router) -> None:
    FakeSoormaRegistry(BASE, token="right").mount(router)
    registry = SoormaRegistryClient(BASE, token="wrong", retries=0)
    with pytest.raises(RegistryResponseError) as raised:
        await registry.list_agents()
    assert raised.value.status_code == 401
    await registry.aclose()


async def test_metadata_is_not_kept_by_soorma_and_says_so(router, client, caplog) -> None:
    FakeSoormaRegistry(BASE, token="tok-123").mount(router)
    tagged = REQUEST.model_copy(update={"metadata": {"owner": "team-a"}})
    with caplog.at_level(logging.WARNING, logger="soorma_lc.registry.http"):
        await client.register_event(tagged)
    assert "metadata" in caplog.text
    assert await client.get_event("doc.summarize") == REQUEST


async def test_version_is_none(client) -> None:
    assert await client.version() is None


async def test_from_settings_and_factory(router, tmp_path) -> None:
    route = router.get("/v1/agents").respond(json={"agents": [], "count": 0})
    settings = Settings(
        registry_url=BASE + "/",
        registry_token="from-env",
        tenant_id="tenant-7",
        data_dir=tmp_path,
    )
    for registry in (
        SoormaRegistryClient.from_settings(settings),
        registry_from_settings(settings),
    ):
        assert isinstance(registry, SoormaRegistryClient)
        await registry.list_agents()
        headers = route.calls.last.request.headers
        assert headers["authorization"] == "Bearer from-env"
        assert headers["x-tenant-id"] == "tenant-7"
        await registry.aclose()


@pytest.mark.parametrize(
    "make",
    [
        lambda: SoormaRegistryClient("ftp://registry"),
        lambda: SoormaRegistryClient(BASE, retries=-1),
        lambda: SoormaRegistryClient.from_settings(Settings(registry_url=None)),
    ],
)
def test_bad_configuration(make) -> None:
    with pytest.raises(ConfigurationError):
        make()
