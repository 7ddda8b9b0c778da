"""Regression tests of issue 15 for the bus, Worker, toolkit and registries: typed errors for
wrong arguments, nothing written on failure, hostile data never reaching a handler."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

import httpx
import pytest
import redis
import respx
from langchain_core.messages import ToolMessage

from soorma_lc.agents import Worker
from soorma_lc.bus import RedisStreamsBus
from soorma_lc.bus.codec import ENVELOPE_FIELD
from soorma_lc.errors import (
    ConfigurationError,
    InvalidArgumentError,
    InvalidEventError,
    RegistryUnavailableError,
    SoormaError,
)
from soorma_lc.events import EventDefinition, EventEnvelope, EventTopic
from soorma_lc.registry import InMemoryRegistry, RedisRegistry, SoormaRegistryClient
from soorma_lc.toolkit import EventToolkit
from tests.bus_helpers import eventually
from tests.toolkit_helpers import NOTIFY, ORDER, agent_consuming, published

REQUESTS = EventTopic.ACTION_REQUESTS


@pytest.fixture
async def bus(redis_url: str) -> AsyncIterator[RedisStreamsBus]:
    bus = RedisStreamsBus.from_url(redis_url, claim_idle=0.5, retry_backoff=0.01)
    yield bus
    await bus.aclose()


async def received_by(bus: RedisStreamsBus, group: str) -> list[EventEnvelope]:
    seen: list[EventEnvelope] = []

    async def collect(envelope: EventEnvelope) -> None:
        seen.append(envelope)

    await bus.subscribe(group, REQUESTS, collect, block=0.05)  # one topic as a plain string
    return seen


# -- the bus -----------------------------------------------------------------------------------


async def test_a_sync_handler_is_refused_at_subscribe_and_never_runs(bus: RedisStreamsBus) -> None:
    calls: list[EventEnvelope] = []

    def sync_handler(envelope: EventEnvelope) -> None:
        calls.append(envelope)

    async def handler(envelope: EventEnvelope) -> None:
        calls.append(envelope)

    for wrong in (sync_handler, lambda envelope: handler(envelope), "handler", None):
        with pytest.raises(ConfigurationError, match="async function"):
            await bus.subscribe("sync", [REQUESTS], wrong)  # type: ignore[arg-type]
    worker = Worker("sync-worker", bus=bus, registry=InMemoryRegistry())
    with pytest.raises(ConfigurationError, match="async function"):
        worker.add_handler("x.requested", sync_handler)  # type: ignore[arg-type]
    assert await bus.client.keys("*") == []
    assert calls == []


@pytest.mark.parametrize(
    "options",
    [
        {"max_deliveries": "3"},
        {"max_deliveries": True},
        {"maxlen": -5},
        {"max_event_bytes": -1},
        {"claim_idle": math.nan},
        {"retry_backoff": -1.0},
        {"dedupe_ttl": 1.5},
        {"retention": "1d"},
        {"prefix": "with space:"},
    ],
)
def test_bus_options_are_checked(options: dict[str, object]) -> None:
    with pytest.raises(InvalidArgumentError):
        RedisStreamsBus(redis.asyncio.Redis(), **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda bus: bus.publish(None), InvalidEventError),
        (lambda bus: bus.publish({}), InvalidEventError),
        (lambda bus: bus.publish_many("abc"), InvalidEventError),
        (
            lambda bus: bus.publish_many([EventEnvelope(type="a", topic=REQUESTS), None]),
            SoormaError,
        ),
        (lambda bus: bus.replay("not-an-id"), InvalidArgumentError),
        (lambda bus: bus.replay(["1-0", "0-0; FLUSHALL"]), InvalidArgumentError),
        (lambda bus: bus.ensure_group("g", [REQUESTS], start_from="garbage"), InvalidArgumentError),
        (lambda bus: bus.ensure_group("g h", [REQUESTS]), InvalidArgumentError),
        (lambda bus: bus.dead_letters(count="3"), InvalidArgumentError),
        (lambda bus: bus.announce("a.b", "not a mapping"), InvalidEventError),
        (lambda bus: bus.announce("a.b", {}, tenantid="t1"), InvalidEventError),
        (lambda bus: bus.request("a.b", {}, response_event="a b"), InvalidEventError),
        (lambda bus: bus.subscribe("g", [REQUESTS], _noop, concurrency="16"), InvalidArgumentError),
        (lambda bus: bus.subscribe("g", [REQUESTS], _noop, block=-1), InvalidArgumentError),
        (lambda bus: bus.subscribe("g", None, _noop), InvalidArgumentError),
    ],
)
async def test_wrong_bus_calls_are_typed_and_write_nothing(
    bus: RedisStreamsBus, call: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await call(bus)  # type: ignore[operator]
    assert await bus.client.keys("*") == []


async def _noop(envelope: EventEnvelope) -> None:
    return None


async def test_entries_other_producers_wrote_are_decoded_with_the_publish_rules(
    bus: RedisStreamsBus,
) -> None:
    """NaN, nesting past the limit, or a lone surrogate in an entry never reach a handler:
    they go to the dead letters, as ``publish`` would have refused them."""
    seen = await received_by(bus, "strict")
    stream = bus.keys.stream(REQUESTS)
    base = '{"id":"%s","type":"x.happened","topic":"action-requests","time":"2026-01-01T00:00:00Z"'
    hostile = [
        (base % "nan") + ',"data":{"n":NaN}}',
        (base % "inf") + ',"data":{"n":Infinity}}',
        (base % "deep") + ',"data":' + '{"a":' * 100 + "1" + "}" * 100 + "}",
        (base % "surrogate") + ',"data":{"s":"\\ud800"}}',
        (base % "blank-type").replace('"x.happened"', '"   "') + "}",
    ]
    for payload in hostile:
        await bus.client.xadd(stream, {ENVELOPE_FIELD: payload.encode()})
    await bus.publish(EventEnvelope(type="fine.happened", topic=REQUESTS, data={"n": 1}))
    await eventually(lambda: len(seen) == 1)
    await eventually(lambda: _dead_letter_count(bus, len(hostile)))
    assert [event.type for event in seen] == ["fine.happened"]


async def _dead_letter_count(bus: RedisStreamsBus, expected: int) -> bool:
    return await bus.dead_letter_count() == expected


# -- the Worker --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"concurrency": "16"},
        {"heartbeat_interval": 0},
        {"shutdown_timeout": -1},
        {"start_from": "garbage"},
        {"consumes": "research.requested"},
        {"produces": [{"event_name": "x"}]},
        {"capabilities": [3]},
    ],
)
def test_worker_options_are_checked(options: dict[str, object]) -> None:
    with pytest.raises(SoormaError):
        Worker("checked", registry=InMemoryRegistry(), **options)  # type: ignore[arg-type]


def test_one_capability_name_is_one_capability() -> None:
    worker = Worker("tagged", capabilities="research", registry=InMemoryRegistry())
    assert worker.capability_names == ["research"]


# -- the toolkit -------------------------------------------------------------------------------


@pytest.fixture
async def toolkit(bus: RedisStreamsBus) -> AsyncIterator[EventToolkit]:
    registry = InMemoryRegistry()
    await registry.register_agent(agent_consuming(ORDER, NOTIFY))
    toolkit = EventToolkit(registry, bus, tenant_id="tenant-a")
    yield toolkit
    await toolkit.aclose()


@pytest.mark.parametrize(
    "call",
    [
        lambda toolkit: toolkit.select_tools("anything", k="3"),
        lambda toolkit: toolkit.select_events("anything", k=-1),
        lambda toolkit: toolkit.select_events(None),
        lambda toolkit: toolkit.select_events("x", always_include=[3]),
        lambda toolkit: toolkit.discover_events(event_name_pattern="x" * 1000),
        lambda toolkit: toolkit.get_event_info(["not", "a", "name"]),
        lambda toolkit: toolkit.create_payload("order.place.requested", "not an object"),
    ],
)
async def test_wrong_toolkit_calls_are_typed(toolkit: EventToolkit, call: object) -> None:
    with pytest.raises(SoormaError):
        await call(toolkit)  # type: ignore[operator]


async def test_one_pinned_name_is_one_event(toolkit: EventToolkit) -> None:
    selected = await toolkit.select_events("notify", k=0, always_include="user.notify")
    assert [event.event_name for event in selected] == ["user.notify"]
    with pytest.raises(SoormaError):
        toolkit.as_tools("user.notify")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"message": math.nan}, "non-finite"),
        ({"message": "\ud800"}, "lone surrogate"),
        ({"message": object()}, "not JSON-serialisable"),
        ({"message": "x" * (2 * 1024 * 1024)}, "bytes encoded"),
    ],
)
async def test_handle_errors_tools_answer_the_model_instead_of_raising(
    toolkit: EventToolkit, redis_client: redis.Redis, arguments: dict[str, object], message: str
) -> None:
    [tool] = toolkit.as_tools([NOTIFY], handle_errors=True)
    call = {"type": "tool_call", "name": tool.name, "args": arguments, "id": "call-1"}
    answer = await tool.ainvoke(call)
    assert isinstance(answer, ToolMessage) and answer.status == "error"
    assert message in answer.content and "was not called" in answer.content
    assert published(redis_client, "action-requests") == []


# -- registries --------------------------------------------------------------------------------


async def test_non_json_metadata_is_refused_and_stores_nothing(redis_url: str) -> None:
    registry = RedisRegistry.from_url(redis_url, tenant_id="t1")
    try:
        before = await registry.version()
        bad = EventDefinition(event_name="x.requested", topic=REQUESTS)
        bad.metadata["when"] = object()  # mutated after construction, as users can
        with pytest.raises(InvalidEventError):
            await registry.register_event(bad)
        bad.metadata.clear()
        bad.payload_schema = {"type": "object", "default": {"n": math.nan}}
        with pytest.raises(InvalidEventError):
            await registry.register_event(bad)
        assert await registry.version() == before
        assert await registry.list_events() == []
    finally:
        await registry.aclose()


async def test_stored_entries_are_decoded_with_the_definition_rules(
    redis_url: str, redis_client: redis.Redis
) -> None:
    """An entry another tool wrote with NaN, or not as UTF-8, is skipped, never served."""
    registry = RedisRegistry.from_url(redis_url, tenant_id="t1")
    try:
        await registry.register_event(EventDefinition(event_name="ok.requested", topic=REQUESTS))
        key = registry._events_key
        redis_client.hset(
            key,
            "nan.requested",
            '{"event_name":"nan.requested","topic":"action-requests",'
            '"payload_schema":{"type":"object","default":{"n":NaN}}}',
        )
        redis_client.hset(key, b"\xff\xfe", b"\xff\xfe")
        assert [e.event_name for e in await registry.list_events()] == ["ok.requested"]
        assert await registry.get_event("nan.requested") is None
    finally:
        await registry.aclose()


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"retries": "3"}, InvalidArgumentError),
        ({"timeout": -1}, InvalidArgumentError),
        ({"timeout": math.inf}, InvalidArgumentError),
        ({"retries": 1000}, InvalidArgumentError),
        ({"token": "abc\ndef"}, ConfigurationError),
        ({"headers": {"X-Tenant-ID": "t\r\nX: y"}}, ConfigurationError),
    ],
)
def test_registry_client_options_are_checked(
    options: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        SoormaRegistryClient("http://registry.test", **options)  # type: ignore[arg-type]


class DrippingStream(httpx.AsyncByteStream):
    """A body that arrives one byte every ``interval`` seconds, forever."""

    def __init__(self, interval: float) -> None:
        self.interval = interval

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            await asyncio.sleep(self.interval)
            yield b" "


@pytest.mark.timeout(30)
async def test_the_registry_timeout_bounds_the_whole_call() -> None:
    client = SoormaRegistryClient("http://registry.test", timeout=0.5, retries=3, backoff=0.05)
    try:
        with respx.mock(base_url="http://registry.test") as mock:
            mock.get("/v1/events").mock(
                return_value=httpx.Response(200, stream=DrippingStream(0.05))
            )
            with pytest.raises(RegistryUnavailableError, match=r"did not answer within 0\.5 s"):
                await client.list_events()
    finally:
        await client.aclose()


async def test_a_registry_body_nested_deep_is_a_typed_error() -> None:
    client = SoormaRegistryClient("http://registry.test", retries=0)
    try:
        with respx.mock(base_url="http://registry.test") as mock:
            deep = "[" * 100_000 + "]" * 100_000
            mock.get("/v1/events").mock(return_value=httpx.Response(200, text=deep))
            with pytest.raises(SoormaError, match="malformed JSON"):
                await client.list_events()
    finally:
        await client.aclose()
