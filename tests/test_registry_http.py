"""SoormaRegistryClient: exact wire shapes, auth, retries and typed errors (respx).

The service's own behaviour (name:version, stripped capabilities, one agent per name, caches,
JWT) is in test_registry_soorma_service.py, against the fake of the real service.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx
from soorma_registry_fake import DEFAULT_TOKEN, FakeSoormaRegistry

from soorma_lc.config import Settings
from soorma_lc.errors import (
    ConfigurationError,
    InvalidAgentError,
    InvalidArgumentError,
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


def _wire_of(event: EventDefinition) -> dict:
    return event.model_dump(by_alias=True, mode="json")


STORED = {**REQUEST_WIRE, "metadata": None}  # what the service answers: no metadata field


def stored_events(*events: dict) -> dict:
    return {"events": list(events), "count": len(events)}


async def test_register_event_request_shape(router, client) -> None:
    route = router.post("/v1/events").respond(
        json={"eventName": "doc.summarize", "success": True, "message": "ok"}
    )
    read_back = router.get("/v1/events").respond(json=stored_events(STORED))
    await client.register_event(REQUEST)
    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer tok-123"
    assert request.headers["content-type"] == "application/json"
    assert sent_json(route.calls.last) == {"event": REQUEST_WIRE}
    # read back by topic (the service's by-name read is the one whose cache drops updates)
    assert dict(read_back.calls.last.request.url.params) == {"topic": "action-requests"}


async def test_an_event_the_service_did_not_keep_is_sent_again(router, client) -> None:
    posted = router.post("/v1/events").respond(
        json={"eventName": "doc.summarize", "success": True, "message": "ok"}
    )
    old = {**STORED, "description": "old"}
    router.get("/v1/events").mock(
        side_effect=[
            httpx.Response(200, json=stored_events(old)),
            httpx.Response(200, json=stored_events(STORED)),
        ]
    )
    await client.register_event(REQUEST)
    assert posted.call_count == 2


async def test_register_agent_posts_events_then_agent(router, client) -> None:
    order: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        order.append(body["event"]["eventName"] if "event" in body else body["agent"]["agentId"])
        key = "eventName" if "event" in body else "agentId"
        return httpx.Response(200, json={key: order[-1], "success": True, "message": "ok"})

    router.post("/v1/events").mock(side_effect=record)
    agents = router.post("/v1/agents").mock(side_effect=record)
    result_wire = {**REQUEST_WIRE, **_wire_of(RESULT), "metadata": None}
    router.get("/v1/events", params={"topic": "action-requests"}).respond(
        json=stored_events(STORED)
    )
    router.get("/v1/events", params={"topic": "action-results"}).respond(
        json=stored_events(result_wire)
    )
    await client.register_agent(AGENT)
    assert order == ["doc.summarize", "doc.summarized", "summarizer-1"]
    agent_body = sent_json(agents.calls.last)["agent"]
    assert agent_body["agentId"] == "summarizer-1"
    assert agent_body["name"] == "summarizer:1.0.0"  # the service's name:version, made explicit
    assert agent_body["consumedEvents"] == ["doc.summarize"]
    assert agent_body["producedEvents"] == ["doc.summarized"]
    capability = agent_body["capabilities"][0]
    assert capability["taskName"] == "summarize"
    assert capability["consumedEvent"] == REQUEST_WIRE
    assert capability["producedEvents"][0]["eventName"] == "doc.summarized"


async def test_query_paths_and_parameters(router, client) -> None:
    events = router.get("/v1/events").respond(json={"events": [], "count": 0})
    router.get("/v1/schemas").respond(json={"schemas": [], "count": 0})
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
    route = router.delete(url__regex=r"/v1/agents/").respond(204)
    for agent_id, path in [
        ("worker 1%", b"/v1/agents/worker%201%25"),
        ("..", b"/v1/agents/%2E%2E"),
        (".", b"/v1/agents/%2E"),
        ("a.b", b"/v1/agents/a.b"),
    ]:
        assert await client.deregister_agent(agent_id) is True
        assert route.calls.last.request.url.raw_path == path


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.deregister_agent("team/worker"),
        lambda c: c.heartbeat("team/worker"),
        lambda c: c.register_agent(AGENT.model_copy(update={"agent_id": "team/worker"})),
    ],
)
async def test_agent_ids_with_a_slash_are_refused_before_sending(router, client, call) -> None:
    # Starlette decodes %2F before routing: the service's agent routes cannot address them
    with pytest.raises(InvalidAgentError, match="contains '/'"):
        await call(client)
    assert not router.calls


async def test_agent_names_too_long_for_the_service_are_refused(router, client) -> None:
    with pytest.raises(InvalidAgentError, match="at most 249"):
        await client.register_agent(AGENT.model_copy(update={"name": "n" * 250}))
    assert not router.calls


async def test_accepts_snake_case_answers(router) -> None:
    FakeSoormaRegistry(BASE, snake_answers=True).mount(router)
    registry = SoormaRegistryClient(BASE, DEFAULT_TOKEN, retries=0)
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
    router.get("/v1/schemas").respond(json={"schemas": [], "count": 0})
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
    result_wire = {**_wire_of(RESULT), "metadata": None}
    router.get("/v1/events").respond(json=stored_events(STORED, result_wire))
    router.post("/v1/agents").respond(json=body)
    with pytest.raises(RegistryResponseError, match="refused the agent") as raised:
        await client.register_agent(AGENT)
    assert raised.value.body == body


async def test_unreadable_entries_are_skipped_with_a_warning(router, client, caplog) -> None:
    odd = {**REQUEST_WIRE, "eventName": "odd.event", "topic": "two words"}
    custom = {**REQUEST_WIRE, "eventName": "custom.event", "topic": "custom-topic"}
    router.get("/v1/events").respond(json=stored_events(odd, custom, REQUEST_WIRE))
    router.get("/v1/schemas").respond(json={"schemas": [], "count": 0})
    with caplog.at_level(logging.WARNING, logger="soorma_lc.registry.common"):
        listed = await client.list_events()
    assert [(e.event_name, e.topic) for e in listed] == [
        ("custom.event", "custom-topic"),  # a custom topic is readable
        ("doc.summarize", EventTopic.ACTION_REQUESTS),
    ]
    assert "skipping unreadable registry entry 'events[0]'" in caplog.text
    assert "invalid topic 'two words'" in caplog.text


async def test_metadata_is_not_kept_by_soorma_and_says_so(router, client, caplog) -> None:
    FakeSoormaRegistry(BASE, tokens={"tok-123": "t1"}).mount(router)
    tagged = REQUEST.model_copy(update={"metadata": {"owner": "team-a"}})
    with caplog.at_level(logging.WARNING, logger="soorma_lc.registry.http"):
        await client.register_event(tagged)
    assert "metadata" in caplog.text
    assert await client.get_event("doc.summarize") == REQUEST


async def test_version_is_none(client) -> None:
    assert await client.version() is None


async def test_from_settings_and_factory(router, tmp_path, monkeypatch) -> None:
    route = router.get("/v1/agents").respond(json={"agents": [], "count": 0})
    monkeypatch.setenv("SOORMA_REGISTRY_HEADERS", '{"X-Gateway-Key": "k-1"}')
    settings = Settings(
        registry_url=BASE + "/",
        registry_token="from-env",
        tenant_id="tenant-7",
        data_dir=tmp_path,
    )
    assert settings.registry_headers == {"X-Gateway-Key": "k-1"}
    for registry in (
        SoormaRegistryClient.from_settings(settings),
        registry_from_settings(settings),
    ):
        assert isinstance(registry, SoormaRegistryClient)
        await registry.list_agents()
        headers = route.calls.last.request.headers
        assert headers["authorization"] == "Bearer from-env"
        assert headers["x-gateway-key"] == "k-1"
        assert "x-tenant-id" not in headers  # the service takes its tenancy from the JWT
        await registry.aclose()


async def test_extra_headers_go_with_every_request(router) -> None:
    route = router.get("/v1/agents").respond(json={"agents": [], "count": 0})
    registry = SoormaRegistryClient(
        BASE, headers={"X-Request-Source": "soorma-lc", "Accept": "*/*"}
    )
    await registry.list_agents()
    headers = route.calls.last.request.headers
    assert (headers["x-request-source"], headers["accept"]) == ("soorma-lc", "*/*")
    assert "authorization" not in headers
    await registry.aclose()


@pytest.mark.parametrize(
    "options",
    [
        {"headers": {"bad name": "x"}},
        {"headers": {"X-Ok": "line\nbreak"}},
        {"headers": {"X-Ok": "caf\u00e9"}},
        {"headers": {"X-Ok": 7}},
        {"headers": [("X-Ok", "v")]},
        {"headers": {"authorization": "Bearer other"}, "token": "t"},
        {"token": "caf\u00e9"},
    ],
)
def test_unusable_headers_are_configuration_errors(options) -> None:
    with pytest.raises(ConfigurationError):
        SoormaRegistryClient(BASE, **options)


def test_unusable_header_settings_are_refused(monkeypatch) -> None:
    monkeypatch.setenv("SOORMA_REGISTRY_HEADERS", '{"X-Key": "a\\nb"}')
    with pytest.raises(InvalidArgumentError, match="registry_headers"):
        Settings()


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
