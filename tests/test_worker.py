"""Worker on a real Redis: registration, routing, context propagation, failures, adapters."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from operator import add
from typing import Annotated, Any, TypedDict

import httpx
import pytest
import respx
from langchain_core.runnables import RunnableLambda
from langgraph.graph import END, START, StateGraph

from soorma_lc.agents import AgentContext, Worker
from soorma_lc.bus import RedisStreamsBus
from soorma_lc.config import Settings
from soorma_lc.errors import ConfigurationError, RegistryUnavailableError
from soorma_lc.events import AgentCapability, EventDefinition, EventEnvelope, EventTopic
from soorma_lc.memory.client import MemoryClient
from soorma_lc.registry import RedisRegistry, SoormaRegistryClient
from soorma_lc.toolkit import EventToolkit
from tests.bus_helpers import eventually

GREETING = EventDefinition(
    event_name="greeting.requested",
    topic=EventTopic.ACTION_REQUESTS,
    description="Greet someone by name",
    payload_schema={
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
    },
)
GREETED = EventDefinition(
    event_name="greeting.completed",
    topic=EventTopic.ACTION_RESULTS,
    description="The greeting",
    payload_schema={"type": "object", "properties": {"text": {"type": "string"}}},
)


@pytest.fixture
async def bus(redis_url: str) -> AsyncIterator[RedisStreamsBus]:
    bus = RedisStreamsBus.from_url(redis_url, retry_backoff=0.01, claim_idle=1.0)
    yield bus
    await bus.aclose()


@pytest.fixture
async def registry(redis_url: str) -> AsyncIterator[RedisRegistry]:
    registry = RedisRegistry.from_url(redis_url)
    yield registry
    await registry.aclose()


@pytest.fixture
async def results(bus: RedisStreamsBus) -> AsyncIterator[list[EventEnvelope]]:
    """Everything published on action-results, as a client group sees it."""
    seen: list[EventEnvelope] = []

    async def collect(envelope: EventEnvelope) -> None:
        seen.append(envelope)

    subscription = await bus.subscribe("client", [EventTopic.ACTION_RESULTS], collect, block=0.05)
    yield seen
    await subscription.stop()


def make_worker(
    bus: RedisStreamsBus, registry: RedisRegistry, settings: Settings, **options: Any
) -> Worker:
    options.setdefault("capabilities", ["greeting"])
    return Worker(
        "greeter",
        bus=bus,
        registry=registry,
        settings=settings,
        **options,
    )


async def test_a_worker_on_a_custom_topic(
    bus: RedisStreamsBus, registry: RedisRegistry, settings: Settings
) -> None:
    audit = EventDefinition(event_name="order.audited", topic="audit.orders", description="x")
    worker = make_worker(bus, registry, settings)
    seen: list[EventEnvelope] = []

    @worker.on_event(audit)
    async def on_audit(event: EventEnvelope, context: AgentContext) -> None:
        seen.append(event)

    @worker.on_topic("audit.other")
    async def on_other(event: EventEnvelope, context: AgentContext) -> None:
        seen.append(event)

    with pytest.raises(ConfigurationError, match=r"defined on audit\.orders, not action-requests"):
        worker.on_event(audit, topic="action-requests")(on_audit)
    await worker.start()
    try:
        [agent] = await registry.list_agents("order.audited")
        assert agent.capabilities[0].consumed_event.topic == "audit.orders"
        first = await bus.announce("order.audited", {}, topic="audit.orders")
        second = await bus.announce("anything", {}, topic="audit.other")
        await bus.announce("order.audited", {}, topic="business-facts")  # not this route
        await eventually(lambda: len(seen) == 2)
        assert {e.id for e in seen} == {first, second}
    finally:
        await worker.stop()


async def test_worker_registers_handles_responds_and_deregisters(
    bus: RedisStreamsBus,
    registry: RedisRegistry,
    settings: Settings,
    results: list[EventEnvelope],
) -> None:
    worker = make_worker(bus, registry, settings, produces=[GREETED])

    @worker.on_event(GREETING)
    async def greet(event: EventEnvelope, context: AgentContext) -> None:
        name = (event.data or {})["name"]
        await context.bus.respond(event, "greeting.completed", {"text": f"hi {name}"})

    await worker.start()
    [agent] = await registry.list_agents(consumed_event="greeting.requested")
    assert agent.agent_id == worker.agent_id and agent.name == "greeter"
    assert agent.produced_events == ["greeting.completed"]
    assert "greeting" in agent.description
    registered = await registry.get_event("greeting.requested")
    assert registered is not None and registered.payload_schema == GREETING.payload_schema
    assert await registry.get_event("greeting.completed") == GREETED

    request_id = await bus.request(
        "greeting.requested",
        {"name": "Ada"},
        response_event="greeting.completed",
        tenant_id="t1",
        user_id="u1",
        session_id="s1",
        plan_id="p1",
    )
    await eventually(lambda: len(results) == 1)
    [response] = results
    assert response.data == {"text": "hi Ada"}
    assert response.parent_event_id == request_id
    assert (response.tenant_id, response.user_id, response.session_id, response.plan_id) == (
        "t1",
        "u1",
        "s1",
        "p1",
    )
    assert response.source == "greeter"

    await worker.stop()
    assert await registry.list_agents() == []
    assert not worker.running


async def test_context_bus_carries_the_handled_events_context_unless_given(
    bus: RedisStreamsBus, registry: RedisRegistry, settings: Settings
) -> None:
    worker = make_worker(bus, registry, settings)
    published: list[EventEnvelope] = []

    @worker.on_event("plan.step.requested")
    async def step(event: EventEnvelope, context: AgentContext) -> None:
        await context.bus.request("search.requested", {"q": "x"}, response_event="search.completed")
        await context.bus.request(
            "fresh.requested", {}, response_event="fresh.completed", correlation_id=None
        )
        await context.bus.announce("step.noted", {"n": 1}, tenant_id="explicit-tenant")
        await context.bus.publish(
            EventEnvelope(type="raw.event", topic=EventTopic.TASK_EVENTS, user_id="explicit")
        )

    async def collect(envelope: EventEnvelope) -> None:
        published.append(envelope)

    await bus.subscribe(
        "observer",
        [EventTopic.ACTION_REQUESTS, EventTopic.BUSINESS_FACTS, EventTopic.TASK_EVENTS],
        collect,
        accepts=lambda e: e.type != "plan.step.requested",
        block=0.05,
    )
    await worker.start()
    trigger = await bus.request(
        "plan.step.requested",
        {},
        response_event="plan.step.completed",
        tenant_id="t1",
        user_id="u1",
        session_id="s1",
        plan_id="p1",
        correlation_id="c1",
    )
    await eventually(lambda: len(published) == 4)
    by_type = {envelope.type: envelope for envelope in published}
    request = by_type["search.requested"]
    assert (request.tenant_id, request.user_id, request.session_id) == ("t1", "u1", "s1")
    assert (request.plan_id, request.correlation_id) == ("p1", "c1")
    assert request.parent_event_id == trigger
    assert request.response_event == "search.completed"
    fresh = by_type["fresh.requested"]
    assert fresh.correlation_id not in (None, "c1") and fresh.plan_id == "p1"
    assert by_type["step.noted"].tenant_id == "explicit-tenant"
    assert by_type["step.noted"].plan_id == "p1"
    raw = by_type["raw.event"]
    assert (raw.user_id, raw.tenant_id, raw.correlation_id) == ("explicit", "t1", "c1")
    await worker.stop()


async def test_name_only_handlers_keep_the_registrys_richer_definition(
    bus: RedisStreamsBus, registry: RedisRegistry, settings: Settings
) -> None:
    await registry.register_event(GREETING)
    worker = make_worker(bus, registry, settings)

    @worker.on_event("greeting.requested")
    async def greet(event: EventEnvelope, context: AgentContext) -> None:
        """Says hello."""

    declared = make_worker(bus, registry, settings, consumes=[GREETED.model_copy()])
    declared.name = "declared"

    @declared.on_event("greeting.completed", topic=EventTopic.ACTION_RESULTS)
    async def log(event: EventEnvelope, context: AgentContext) -> None:
        pass

    await worker.start()
    await declared.start()
    assert await registry.get_event("greeting.requested") == GREETING
    [route] = declared.routes
    assert route.definition == GREETED
    capability = worker.agent_definition().capabilities[0]
    assert capability.consumed_event.payload_schema == GREETING.payload_schema
    await worker.stop()
    await declared.stop()


async def test_a_failing_handler_is_logged_retried_and_the_worker_keeps_running(
    bus: RedisStreamsBus,
    registry: RedisRegistry,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    worker = make_worker(bus, registry, settings)
    attempts: dict[str, int] = {}
    handled: list[str] = []

    @worker.on_event("flaky.requested")
    async def flaky(event: EventEnvelope, context: AgentContext) -> None:
        attempts[event.id] = attempts.get(event.id, 0) + 1
        if (event.data or {}).get("fail_times", 0) >= attempts[event.id]:
            raise ValueError("transient failure")
        handled.append(event.id)

    await worker.start()
    with caplog.at_level(logging.ERROR, logger="soorma_lc.bus"):
        flaky_id = await bus.request("flaky.requested", {"fail_times": 2}, response_event="x")
        steady_id = await bus.request("flaky.requested", {}, response_event="x")
        await eventually(lambda: set(handled) == {flaky_id, steady_id})
    assert attempts == {flaky_id: 3, steady_id: 1}
    assert any(
        flaky_id in r.getMessage() and "delivery 1" in r.getMessage() for r in caplog.records
    )
    assert worker.running
    await worker.stop()


async def test_handler_concurrency_is_bounded(
    bus: RedisStreamsBus, registry: RedisRegistry, settings: Settings
) -> None:
    worker = make_worker(bus, registry, settings, concurrency=3)
    running = 0
    peak = 0
    finished = 0
    gate = asyncio.Event()

    @worker.on_event("batch.requested")
    async def work(event: EventEnvelope, context: AgentContext) -> None:
        nonlocal running, peak, finished
        running += 1
        peak = max(peak, running)
        await gate.wait()
        running -= 1
        finished += 1

    await worker.start()
    for _ in range(10):
        await bus.request("batch.requested", {}, response_event="x")
    await eventually(lambda: running == 3)
    gate.set()
    await eventually(lambda: finished == 10)
    assert peak == 3
    await worker.stop()


async def test_stop_finishes_in_flight_handlers_and_acknowledges_them(
    bus: RedisStreamsBus, registry: RedisRegistry, settings: Settings
) -> None:
    worker = make_worker(bus, registry, settings)
    started = asyncio.Event()
    finished: list[str] = []

    @worker.on_event("slow.requested")
    async def slow(event: EventEnvelope, context: AgentContext) -> None:
        started.set()
        await asyncio.sleep(0.3)
        finished.append(event.id)

    await worker.start()
    event_id = await bus.request("slow.requested", {}, response_event="x")
    await asyncio.wait_for(started.wait(), 10)
    await worker.stop()
    assert finished == [event_id]
    summary = await bus.client.xpending(bus.keys.stream(EventTopic.ACTION_REQUESTS), "greeter")
    assert summary["pending"] == 0


async def test_serve_stops_on_request_stop(
    bus: RedisStreamsBus, registry: RedisRegistry, settings: Settings
) -> None:
    worker = make_worker(bus, registry, settings)

    @worker.on_event("noop.requested")
    async def noop(event: EventEnvelope, context: AgentContext) -> None:
        pass

    serving = asyncio.create_task(worker.serve())
    await eventually(lambda: worker.running)
    assert await registry.get_agent(worker.agent_id) is not None
    worker.request_stop()
    await asyncio.wait_for(serving, 10)
    assert await registry.get_agent(worker.agent_id) is None


async def test_context_gives_memory_registry_and_a_toolkit_bound_to_the_event(
    bus: RedisStreamsBus, registry: RedisRegistry, settings: Settings
) -> None:
    worker = make_worker(bus, registry, settings)
    seen: dict[str, Any] = {}

    @worker.on_event(GREETING)
    async def greet(event: EventEnvelope, context: AgentContext) -> None:
        seen["memory"] = context.memory
        seen["registry"] = context.registry
        seen["agent_id"] = context.agent_id
        toolkit = context.toolkit
        seen["toolkit"] = toolkit
        seen["events"] = [e.event_name for e in await toolkit.discover_actionable_events()]
        await toolkit.publish("greeting.requested", {"name": "again"})

    republished: list[EventEnvelope] = []

    async def collect(envelope: EventEnvelope) -> None:
        republished.append(envelope)

    await bus.subscribe("observer", [EventTopic.ACTION_REQUESTS], collect, block=0.05)
    await worker.start()
    await bus.request(
        "greeting.requested", {"name": "Ada"}, response_event="x", tenant_id="t1", plan_id="p1"
    )
    await eventually(lambda: "events" in seen)
    assert isinstance(seen["memory"], MemoryClient)
    assert seen["registry"] is registry
    assert seen["agent_id"] == worker.agent_id
    assert isinstance(seen["toolkit"], EventToolkit)
    assert seen["events"] == ["greeting.requested"]
    await eventually(lambda: len(republished) >= 2)
    again = next(e for e in republished if (e.data or {}).get("name") == "again")
    assert (again.tenant_id, again.plan_id) == ("t1", "p1")
    await worker.stop()
    await worker.stop()  # idempotent


async def test_from_runnable_serves_a_runnable_and_a_langgraph_graph(
    bus: RedisStreamsBus,
    registry: RedisRegistry,
    settings: Settings,
    results: list[EventEnvelope],
) -> None:
    shout = Worker.from_runnable(
        "shouter",
        RunnableLambda(lambda data: data["text"].upper()),
        event="shout.requested",
        response_event="shout.completed",
        bus=bus,
        registry=registry,
        settings=settings,
    )

    class State(TypedDict):
        numbers: list[int]
        total: Annotated[int, add]

    def total(state: State) -> dict[str, int]:
        return {"total": sum(state["numbers"])}

    builder = StateGraph(State)
    builder.add_node("total", total)
    builder.add_edge(START, "total")
    builder.add_edge("total", END)
    summer = Worker.from_runnable(
        "summer",
        builder.compile(),
        event="sum.requested",
        bus=bus,
        registry=registry,
        settings=settings,
    )
    await shout.start()
    await summer.start()
    await bus.request("shout.requested", {"text": "hi"}, response_event="ignored.by.worker")
    sum_id = await bus.request(
        "sum.requested", {"numbers": [1, 2, 3], "total": 0}, response_event="sum.completed"
    )
    await eventually(lambda: len(results) == 2)
    by_type = {envelope.type: envelope for envelope in results}
    assert by_type["shout.completed"].data == {"output": "HI"}
    assert by_type["sum.completed"].data == {"numbers": [1, 2, 3], "total": 6}
    assert by_type["sum.completed"].correlation_id is not None
    assert by_type["sum.completed"].parent_event_id == sum_id
    await shout.stop()
    await summer.stop()


async def test_handlers_share_one_toolkit_cache_across_events(
    bus: RedisStreamsBus, registry: RedisRegistry, settings: Settings
) -> None:
    worker = make_worker(bus, registry, settings, concurrency=1)  # one event after another
    toolkits: list[EventToolkit] = []
    listed: list[int] = []
    list_events = registry.list_events

    async def counting_list_events(*args: Any, **kwargs: Any) -> Any:
        listed.append(1)
        return await list_events(*args, **kwargs)

    registry.list_events = counting_list_events  # type: ignore[method-assign]

    @worker.on_event(GREETING)
    async def greet(event: EventEnvelope, context: AgentContext) -> None:
        await context.toolkit.discover_actionable_events()
        toolkits.append(context.toolkit)

    await worker.start()
    for name in ("Ada", "Grace", "Edsger"):
        await bus.request("greeting.requested", {"name": name}, response_event="x")
    await eventually(lambda: len(toolkits) == 3)
    await worker.stop()

    assert len({id(toolkit) for toolkit in toolkits}) == 3  # one view per event
    assert len(listed) == 1  # one registry read, shared by every view
    assert toolkits[0].context is not None and toolkits[0].context.source == "greeter"


async def test_from_runnable_threads_by_key_and_scopes_checkpoints_by_tenant(
    bus: RedisStreamsBus,
    registry: RedisRegistry,
    settings: Settings,
    results: list[EventEnvelope],
) -> None:
    from soorma_lc.memory import RedisCheckpointSaver

    class Chat(TypedDict):
        said: Annotated[list[str], add]

    builder = StateGraph(Chat)
    builder.add_node("say", lambda state: {})
    builder.add_edge(START, "say")
    builder.add_edge("say", END)
    saver = RedisCheckpointSaver.from_url(settings.redis_url or "")
    chat = Worker.from_runnable(
        "chatter",
        builder.compile(checkpointer=saver),
        event="chat.requested",
        thread_key=lambda event: event.session_id or event.id,
        concurrency=1,  # one conversation: its turns in order
        bus=bus,
        registry=registry,
        settings=settings,
    )
    await chat.start()
    for text in ("hello", "again"):
        await bus.request(
            "chat.requested",
            {"said": [text]},
            response_event="chat.completed",
            tenant_id="acme",
            session_id="s-1",
        )
    await eventually(lambda: len(results) == 2)
    await chat.stop()

    assert [r.data for r in results][-1] == {"said": ["hello", "again"]}
    state = await saver.aget_tuple({"configurable": {"thread_id": "s-1", "tenant_id": "acme"}})
    assert state is not None
    other_tenant = {"configurable": {"thread_id": "s-1", "tenant_id": "globex"}}
    assert await saver.aget_tuple(other_tenant) is None
    await saver.aclose()


async def test_a_request_without_response_event_dead_letters_for_a_runnable_worker(
    redis_url: str, registry: RedisRegistry, settings: Settings
) -> None:
    bus = RedisStreamsBus.from_url(redis_url, max_deliveries=1)
    worker = Worker.from_runnable(
        "echo",
        RunnableLambda(lambda data: data),
        event=EventDefinition(event_name="echo.requested", topic=EventTopic.TASK_EVENTS),
        bus=bus,
        registry=registry,
        settings=settings,
    )
    await worker.start()
    await bus.announce("echo.requested", {"x": 1}, topic=EventTopic.TASK_EVENTS)

    async def dead_lettered() -> bool:
        return len(await bus.dead_letters()) == 1

    await eventually(dead_lettered)
    [letter] = await bus.dead_letters()
    assert "names no response_event" in letter.error
    await worker.stop()
    await bus.aclose()


async def test_worker_builds_its_collaborators_from_settings(settings: Settings) -> None:
    worker = Worker("defaults", settings=settings, heartbeat_interval=0.05)

    @worker.on_event("ping.requested")
    async def ping(event: EventEnvelope, context: AgentContext) -> None:
        await context.bus.respond(event, "ping.completed", {})

    await worker.start()
    client = RedisStreamsBus.from_settings(settings)
    replies: list[EventEnvelope] = []

    async def collect(envelope: EventEnvelope) -> None:
        replies.append(envelope)

    await client.subscribe("pinger", [EventTopic.ACTION_RESULTS], collect, block=0.05)
    await client.request("ping.requested", {}, response_event="ping.completed")
    await eventually(lambda: len(replies) == 1)
    assert await worker.registry.get_agent(worker.agent_id) is not None
    await worker.stop()
    await client.aclose()
    registry = RedisRegistry.from_settings(settings)
    assert await registry.list_agents() == []
    await registry.aclose()


class FlakyRegistry(RedisRegistry):
    """A RedisRegistry whose first heartbeat fails as if the registry were briefly away."""

    failed = False

    async def heartbeat(self, agent_id: str) -> None:
        if not self.failed:
            self.failed = True
            raise RegistryUnavailableError("registry briefly unreachable")
        await super().heartbeat(agent_id)


def expiry_of(registry: RedisRegistry, agent_id: str) -> Callable[[], Awaitable[float | None]]:
    async def expiry() -> float | None:
        key = f"soorma:registry:{{{registry.tenant_id}}}:expiry"
        return await registry.client.zscore(key, agent_id)

    return expiry


async def test_heartbeats_keep_a_short_lived_agent_registered_past_a_failed_one(
    bus: RedisStreamsBus, redis_url: str, settings: Settings
) -> None:
    registry = FlakyRegistry.from_url(redis_url, agent_ttl=0.3)
    worker = make_worker(bus, registry, settings, heartbeat_interval=0.05)

    @worker.on_event(GREETING)
    async def greet(event: EventEnvelope, context: AgentContext) -> None:
        pass

    await worker.start()
    try:
        expiry = expiry_of(registry, worker.agent_id)
        registered_until = await expiry()
        assert registered_until is not None

        async def renewed_past_one_ttl() -> bool:
            return (await expiry() or 0) > registered_until + 300  # milliseconds

        await eventually(renewed_past_one_ttl)  # only heartbeats move the expiry
        assert registry.failed  # the failed heartbeat did not end the loop
        assert await registry.get_agent(worker.agent_id) is not None
    finally:
        await worker.stop()
        await registry.aclose()


async def test_an_agent_the_registry_forgot_registers_again_at_its_next_heartbeat(
    bus: RedisStreamsBus,
    registry: RedisRegistry,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    worker = make_worker(bus, registry, settings, heartbeat_interval=0.05)

    @worker.on_event(GREETING)
    async def greet(event: EventEnvelope, context: AgentContext) -> None:
        pass

    await worker.start()
    try:
        # As if it had expired and been purged (a process paused past its TTL).
        assert await registry.deregister_agent(worker.agent_id)
        with caplog.at_level(logging.WARNING, logger="soorma_lc.agents.worker"):

            async def registered_again() -> bool:
                return await registry.get_agent(worker.agent_id) is not None

            await eventually(registered_again)
        assert "expired from the registry; registering again" in caplog.text
        assert await registry.get_agent(worker.agent_id) == worker.agent_definition()
    finally:
        await worker.stop()


async def test_worker_configuration_errors_are_typed(
    bus: RedisStreamsBus, registry: RedisRegistry, settings: Settings
) -> None:
    with pytest.raises(ConfigurationError, match="non-empty name"):
        Worker("")
    worker = make_worker(bus, registry, settings)
    with pytest.raises(ConfigurationError, match="no handlers"):
        await worker.start()

    def not_async(event: EventEnvelope, context: AgentContext) -> None:
        pass

    with pytest.raises(ConfigurationError, match="async"):
        worker.on_event("a.requested")(not_async)  # type: ignore[arg-type]

    @worker.on_event("a.requested")
    async def first(event: EventEnvelope, context: AgentContext) -> None:
        pass

    with pytest.raises(ConfigurationError, match="already handles"):
        worker.on_event("a.requested")(first)
    with pytest.raises(ConfigurationError, match="defined on action-results"):
        worker.on_event(GREETED, topic=EventTopic.ACTION_REQUESTS)(first)
    with pytest.raises(ConfigurationError, match="not a Runnable"):
        Worker.from_runnable("x", object(), event="b.requested", settings=settings)

    await worker.start()
    with pytest.raises(ConfigurationError, match="running"):
        worker.on_event("b.requested")(first)
    await worker.stop()


async def test_explicit_capabilities_are_registered(
    bus: RedisStreamsBus, registry: RedisRegistry, settings: Settings
) -> None:
    extra = AgentCapability(
        task_name="summarise", consumed_event=GREETING, produced_events=[GREETED]
    )
    worker = make_worker(bus, registry, settings, capabilities=["greeting", extra])

    @worker.on_event(GREETING)
    async def greet(event: EventEnvelope, context: AgentContext) -> None:
        pass

    await worker.start()
    agent = await registry.get_agent(worker.agent_id)
    assert agent is not None
    assert [c.task_name for c in agent.capabilities] == ["greeting.requested", "summarise"]
    assert agent.produced_events == ["greeting.completed"]
    await worker.stop()


@respx.mock
async def test_a_registry_failure_at_start_leaves_nothing_running(
    bus: RedisStreamsBus, settings: Settings
) -> None:
    respx.route(host="registry.test").mock(return_value=httpx.Response(503))
    registry = SoormaRegistryClient("http://registry.test", retries=0)
    worker = Worker("unlucky", bus=bus, registry=registry, settings=settings)

    @worker.on_event(GREETING)  # declared: registration is the first registry call
    async def handle(event: EventEnvelope, context: AgentContext) -> None:
        pass

    with pytest.raises(RegistryUnavailableError):
        await worker.start()
    assert not worker.running
    consumers = await bus.client.xinfo_consumers(
        bus.keys.stream(EventTopic.ACTION_REQUESTS), "unlucky"
    )
    assert consumers == []  # the consumer it had started was removed again
    await registry.aclose()
