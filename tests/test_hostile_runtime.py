"""Hostile values (hypothesis) against the registries, the bus, the Worker, the toolkit and its
tools, on a real redis-server: success or a SoormaError, and nothing stored changes when a call
is refused (see tests/hostile.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
import respx
from hypothesis import given
from soorma_registry_fake import DEFAULT_TOKEN, FakeSoormaRegistry

from soorma_lc.agents import AgentContext, Worker
from soorma_lc.backends.redis_clients import async_client, sync_client
from soorma_lc.bus import RedisStreamsBus
from soorma_lc.events import AgentDefinition, EventDefinition, EventEnvelope
from soorma_lc.registry import InMemoryRegistry, RedisRegistry, SoormaRegistryClient
from soorma_lc.toolkit import EventToolkit, sanitize_tool_name
from tests.hostile import HOSTILE, HOSTILE_SETTINGS, print_probe_counts, probe
from tests.toolkit_helpers import NOTIFY, ORDER, agent_consuming

# Hostile values make pydantic warn when the probes' mutated models are dumped; expected here.
pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")
REGISTRY_URL = "http://registry.test"
VALID_EVENT = EventDefinition(event_name="x.requested", topic="action-requests")
VALID_AGENT = AgentDefinition(agent_id="agent-1", name="agent")


@dataclass
class World:
    """Everything the probes call, built once per module on one event loop."""

    runner: asyncio.Runner
    client: redis.Redis
    bus: RedisStreamsBus
    redis_registry: RedisRegistry
    memory_registry: InMemoryRegistry
    toolkit: EventToolkit

    def run(self, call: Callable[[], Any]) -> Any:
        """``call()``, awaited on the world's loop when it returns an awaitable."""

        async def body() -> Any:
            result = call()
            return await result if isinstance(result, Awaitable) else result

        return self.runner.run(body())

    def redis_state(self) -> dict[bytes, bytes | None]:
        return {key: self.client.dump(key) for key in sorted(self.client.keys("*"))}

    def memory_state(self) -> tuple[Any, ...]:
        registry = self.memory_registry
        return (dict(registry._events), dict(registry._agents), registry._counter)


@pytest.fixture(scope="module")
def world(redis_server: str) -> Iterator[World]:
    with asyncio.Runner() as runner:

        async def build() -> World:
            bus = RedisStreamsBus(async_client(redis_server), prefix="hostile:bus:")
            memory_registry = InMemoryRegistry()
            await memory_registry.register_agent(agent_consuming(ORDER, NOTIFY))
            return World(
                runner=runner,
                client=sync_client(redis_server),
                bus=bus,
                redis_registry=RedisRegistry(async_client(redis_server), tenant_id="hostile"),
                memory_registry=memory_registry,
                toolkit=EventToolkit(memory_registry, bus, tenant_id="hostile"),
            )

        world = runner.run(build())
        yield world

        async def close() -> None:
            await world.toolkit.aclose()
            await world.bus.aclose()
            await world.bus.client.aclose()
            await world.redis_registry.client.aclose()

        runner.run(close())
        world.client.close()


async def _handler(event: EventEnvelope) -> None:
    return None


async def _subscribe_and_stop(bus: RedisStreamsBus, **options: Any) -> None:
    arguments = {"group": "g", "topics": ["action-requests"], "handler": _handler, **options}
    subscription = await bus.subscribe(
        arguments.pop("group"), arguments.pop("topics"), arguments.pop("handler"), **arguments
    )
    await subscription.stop()


def _worker(**options: Any) -> Worker:
    return Worker(options.pop("name", "w"), registry=InMemoryRegistry(), **options)


async def _tool_call(toolkit: EventToolkit, arguments: Any, *, handle_errors: bool) -> Any:
    [tool] = toolkit.as_tools([NOTIFY], handle_errors=handle_errors)
    return await tool.ainvoke(
        {"type": "tool_call", "name": tool.name, "args": arguments, "id": "1"}
    )


async def _on_event_handler(handler: Any) -> None:
    async def handle(event: EventEnvelope, context: AgentContext) -> None:
        return None

    _worker().on_event("x.requested")(handler)


REGISTRY_CALLS: dict[str, Callable[[Any, Any], Any]] = {
    "register_event": lambda r, v: r.register_event(v),
    "register_event(mutated metadata)": lambda r, v: r.register_event(
        VALID_EVENT.model_copy(update={"metadata": {"m": v}})
    ),
    "register_event(mutated schema)": lambda r, v: r.register_event(
        VALID_EVENT.model_copy(update={"payload_schema": v})
    ),
    "get_event": lambda r, v: r.get_event(v),
    "list_events": lambda r, v: r.list_events(v),
    "register_agent": lambda r, v: r.register_agent(v),
    "register_agent(mutated id)": lambda r, v: r.register_agent(
        VALID_AGENT.model_copy(update={"agent_id": v})
    ),
    "get_agent": lambda r, v: r.get_agent(v),
    "list_agents": lambda r, v: r.list_agents(v),
    "heartbeat": lambda r, v: r.heartbeat(v),
    "deregister_agent": lambda r, v: r.deregister_agent(v),
}

BUS_CALLS: dict[str, Callable[[World, Any], Any]] = {
    "RedisStreamsBus(maxlen)": lambda w, v: RedisStreamsBus(w.bus.client, maxlen=v),
    "RedisStreamsBus(max_event_bytes)": lambda w, v: RedisStreamsBus(
        w.bus.client, max_event_bytes=v
    ),
    "RedisStreamsBus(max_deliveries)": lambda w, v: RedisStreamsBus(w.bus.client, max_deliveries=v),
    "RedisStreamsBus(claim_idle)": lambda w, v: RedisStreamsBus(w.bus.client, claim_idle=v),
    "RedisStreamsBus(retention)": lambda w, v: RedisStreamsBus(w.bus.client, retention=v),
    "RedisStreamsBus(prefix)": lambda w, v: RedisStreamsBus(w.bus.client, prefix=v),
    "bus.publish": lambda w, v: w.bus.publish(v),
    "bus.publish(mutated data)": lambda w, v: w.bus.publish(
        EventEnvelope(type="x", topic="action-requests").model_copy(update={"data": v})
    ),
    "bus.publish_many": lambda w, v: w.bus.publish_many(v),
    "bus.announce(type)": lambda w, v: w.bus.announce(v, {}),
    "bus.announce(data)": lambda w, v: w.bus.announce("x.happened", v),
    "bus.announce(topic)": lambda w, v: w.bus.announce("x.happened", {}, topic=v),
    "bus.request(response_event)": lambda w, v: w.bus.request("x", {}, response_event=v),
    "bus.request(tenant_id)": lambda w, v: w.bus.request(
        "x", {}, response_event="x.done", tenant_id=v
    ),
    "bus.respond": lambda w, v: w.bus.respond(v, "x.done", {}),
    "bus.ensure_group(group)": lambda w, v: w.bus.ensure_group(v, ["action-requests"]),
    "bus.ensure_group(topics)": lambda w, v: w.bus.ensure_group("g", v),
    "bus.ensure_group(start_from)": lambda w, v: w.bus.ensure_group(
        "g", ["action-requests"], start_from=v
    ),
    "bus.subscribe(topics)": lambda w, v: _subscribe_and_stop(w.bus, topics=v),
    "bus.subscribe(handler)": lambda w, v: _subscribe_and_stop(w.bus, handler=v),
    "bus.subscribe(group)": lambda w, v: _subscribe_and_stop(w.bus, group=v),
    "bus.subscribe(concurrency)": lambda w, v: _subscribe_and_stop(w.bus, concurrency=v),
    "bus.subscribe(batch_size)": lambda w, v: _subscribe_and_stop(w.bus, batch_size=v),
    "bus.subscribe(block)": lambda w, v: _subscribe_and_stop(w.bus, block=v),
    "bus.subscribe(accepts)": lambda w, v: _subscribe_and_stop(w.bus, accepts=v),
    "bus.dead_letters(count)": lambda w, v: w.bus.dead_letters(count=v),
    "bus.dead_letters(group)": lambda w, v: w.bus.dead_letters(group=v),
    "bus.dead_letters(topic)": lambda w, v: w.bus.dead_letters(topic=v),
    "bus.replay": lambda w, v: w.bus.replay(v),
    "Worker(name)": lambda w, v: _worker(name=v),
    "Worker(capabilities)": lambda w, v: _worker(capabilities=v),
    "Worker(consumes)": lambda w, v: _worker(consumes=v),
    "Worker(concurrency)": lambda w, v: _worker(concurrency=v),
    "Worker(heartbeat_interval)": lambda w, v: _worker(heartbeat_interval=v),
    "Worker(start_from)": lambda w, v: _worker(start_from=v),
    "Worker.add_handler(event)": lambda w, v: _worker().add_handler(v, _on_event_handler),
    "Worker.add_handler(topic)": lambda w, v: _worker().add_handler(
        "x.requested", _on_event_handler, topic=v
    ),
    "Worker.on_event(handler)": lambda w, v: _on_event_handler(v),
    "Worker.add_topic_handler(topic)": lambda w, v: _worker().add_topic_handler(
        v, _on_event_handler
    ),
    "EventToolkit(cache_ttl)": lambda w, v: EventToolkit(w.memory_registry, cache_ttl=v),
    "EventToolkit(context)": lambda w, v: EventToolkit(w.memory_registry, context=v),
    "toolkit.discover_events(topic)": lambda w, v: w.toolkit.discover_events(v),
    "toolkit.discover_events(pattern)": lambda w, v: w.toolkit.discover_events(
        event_name_pattern=v
    ),
    "toolkit.discover_actionable_events": lambda w, v: w.toolkit.discover_actionable_events(v),
    "toolkit.get_event_info": lambda w, v: w.toolkit.get_event_info(v),
    "toolkit.format_for_llm": lambda w, v: w.toolkit.format_for_llm(v),
    "toolkit.format_as_prompt_text": lambda w, v: w.toolkit.format_as_prompt_text(v),
    "toolkit.format_as_prompt_text(descriptor)": lambda w, v: w.toolkit.format_as_prompt_text(
        [{"name": "x", "description": v, "metadata": {"when_to_use": v}, "payload_fields": v}],
        include_fields=True,
    ),
    "sanitize_tool_name": lambda w, v: sanitize_tool_name(v),
    "toolkit.as_tools(events)": lambda w, v: w.toolkit.as_tools(v),
    "toolkit.as_tools(context)": lambda w, v: w.toolkit.as_tools([NOTIFY], context=v),
    "toolkit.tool_name": lambda w, v: w.toolkit.tool_name(v),
    "toolkit.event_for_tool": lambda w, v: w.toolkit.event_for_tool(v),
    "toolkit.select_events(k)": lambda w, v: w.toolkit.select_events("notify", k=v),
    "toolkit.select_events(query)": lambda w, v: w.toolkit.select_events(v, k=8),
    "toolkit.select_events(always_include)": lambda w, v: w.toolkit.select_events(
        "notify", k=8, always_include=v
    ),
    "toolkit.select_events(events)": lambda w, v: w.toolkit.select_events("x", k=8, events=v),
    "toolkit.create_payload(name)": lambda w, v: w.toolkit.create_payload(v, {}),
    "toolkit.create_payload(data)": lambda w, v: w.toolkit.create_payload(
        "order.place.requested", v
    ),
    "toolkit.validate_response": lambda w, v: w.toolkit.validate_response("user.notify", v),
    "toolkit.publish(data)": lambda w, v: w.toolkit.publish("user.notify", v),
    "toolkit.publish(context)": lambda w, v: w.toolkit.publish(
        "user.notify", {"message": "hi"}, context=v
    ),
    "EventTool.ainvoke(raw input)": lambda w, v: w.toolkit.as_tools([NOTIFY])[0].ainvoke(v),
    "EventTool.ainvoke(arguments)": lambda w, v: _tool_call(w.toolkit, v, handle_errors=False),
    "EventTool.ainvoke(field)": lambda w, v: _tool_call(
        w.toolkit, {"message": v}, handle_errors=False
    ),
}


@pytest.fixture(scope="module")
def http_registry(world: World) -> Iterator[tuple[SoormaRegistryClient, FakeSoormaRegistry]]:
    """A Soorma Registry client on the fake service (respx), built on the world's loop."""
    fake = FakeSoormaRegistry(REGISTRY_URL)
    with respx.mock(base_url=REGISTRY_URL, assert_all_called=False) as router:
        fake.mount(router)

        async def build() -> SoormaRegistryClient:
            return SoormaRegistryClient(REGISTRY_URL, DEFAULT_TOKEN, retries=0, timeout=5)

        client = world.runner.run(build())
        yield client, fake
        world.runner.run(client.aclose())


HTTP_CLIENT_OPTIONS = ("timeout", "retries", "backoff", "token", "headers")


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    print_probe_counts("runtime")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("call", sorted(REGISTRY_CALLS))
@pytest.mark.parametrize("backend", ["memory", "redis"])
@HOSTILE_SETTINGS
@given(value=HOSTILE)
def test_registries(world: World, backend: str, call: str, value: Any) -> None:
    registry = world.redis_registry if backend == "redis" else world.memory_registry
    state = world.redis_state if backend == "redis" else world.memory_state
    probe(
        f"{type(registry).__name__}.{call}",
        lambda: world.run(lambda: REGISTRY_CALLS[call](registry, value)),
        state,
    )


@pytest.mark.timeout(120)
@pytest.mark.parametrize("call", sorted(REGISTRY_CALLS))
@HOSTILE_SETTINGS
@given(value=HOSTILE)
def test_http_registry_client(
    world: World,
    http_registry: tuple[SoormaRegistryClient, FakeSoormaRegistry],
    call: str,
    value: Any,
) -> None:
    client, fake = http_registry
    probe(
        f"SoormaRegistryClient.{call}",
        lambda: world.run(lambda: REGISTRY_CALLS[call](client, value)),
        lambda: repr(fake.tenants),
    )


@pytest.mark.timeout(120)
@pytest.mark.parametrize("option", HTTP_CLIENT_OPTIONS)
@HOSTILE_SETTINGS
@given(value=HOSTILE)
def test_http_registry_client_options(world: World, option: str, value: Any) -> None:
    async def build_and_close() -> None:
        await SoormaRegistryClient(REGISTRY_URL, **{option: value}).aclose()

    probe(f"SoormaRegistryClient({option})", lambda: world.run(build_and_close))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("call", sorted(BUS_CALLS))
@HOSTILE_SETTINGS
@given(value=HOSTILE)
def test_bus_worker_and_toolkit(world: World, call: str, value: Any) -> None:
    probe(call, lambda: world.run(lambda: BUS_CALLS[call](world, value)), world.redis_state)


@pytest.mark.timeout(120)
@HOSTILE_SETTINGS
@given(value=HOSTILE)
def test_tools_with_handle_errors_answer_instead_of_raising(world: World, value: Any) -> None:
    """With ``handle_errors`` a tool call never raises for its input: the model gets a
    message (status error), and a refused call publishes nothing."""
    for arguments in (value, {"message": value}):
        before = world.redis_state()
        answer = probe(
            "EventTool.ainvoke(handle_errors)",
            lambda arguments=arguments: world.run(
                lambda: _tool_call(world.toolkit, arguments, handle_errors=True)
            ),
        )
        assert answer is not None, "a handle_errors tool raised instead of answering"
        if answer.status == "error":
            assert world.redis_state() == before
