"""Event tools on the real Redis Streams bus: one envelope per call, never one for bad input."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.prebuilt import create_react_agent

from soorma_lc.bus import RedisStreamsBus
from soorma_lc.errors import (
    ConfigurationError,
    PayloadValidationError,
    UnknownEventError,
)
from soorma_lc.registry.memory import InMemoryRegistry
from soorma_lc.toolkit import CONTEXT_CONFIG_KEY, EventTool, EventToolkit, ToolContext
from tests.toolkit_helpers import (
    FACT,
    NOTIFY,
    ORDER,
    SEARCH,
    VALID_ORDER,
    ScriptedChatModel,
    agent_consuming,
    published,
)

CONTEXT = ToolContext(tenant_id="tenant-a", user_id="user-1", session_id="s-1", plan_id="plan-1")


@pytest.fixture
async def bus(redis_url: str) -> AsyncIterator[RedisStreamsBus]:
    bus = RedisStreamsBus.from_url(redis_url)
    yield bus
    await bus.aclose()


@pytest.fixture
async def toolkit(bus: RedisStreamsBus) -> AsyncIterator[EventToolkit]:
    registry = InMemoryRegistry()
    await registry.register_agent(agent_consuming(ORDER, SEARCH, NOTIFY))
    await registry.register_event(FACT)
    toolkit = EventToolkit(registry, bus, context=CONTEXT)
    yield toolkit
    await toolkit.aclose()


async def tools_by_event(toolkit: EventToolkit, **options: object) -> dict[str, EventTool]:
    events = await toolkit.discover_actionable_events()
    return {tool.event.event_name: tool for tool in toolkit.as_tools(events, **options)}


async def test_tool_call_publishes_exactly_one_envelope(
    toolkit: EventToolkit, redis_client: redis.Redis
) -> None:
    tool = (await tools_by_event(toolkit))["order.place.requested"]
    message = await tool.ainvoke(
        {"name": tool.name, "args": VALID_ORDER, "id": "call-1", "type": "tool_call"},
        config={"configurable": {CONTEXT_CONFIG_KEY: {"correlation_id": "corr-9"}}},
    )
    [envelope] = published(redis_client, "action-requests")
    assert isinstance(message, ToolMessage) and message.tool_call_id == "call-1"
    assert envelope.type == "order.place.requested"
    assert envelope.data == {**VALID_ORDER, "speed": "standard", "gift": False} | {
        "items": [{"sku": "A-1", "quantity": 2}, {"sku": "B-2", "quantity": 1}]
    }
    assert (envelope.tenant_id, envelope.user_id, envelope.session_id, envelope.plan_id) == (
        "tenant-a",
        "user-1",
        "s-1",
        "plan-1",
    )
    assert envelope.correlation_id == "corr-9"
    assert envelope.response_event == "order.place.completed"
    assert envelope.response_topic == "action-results"
    assert envelope.payload_schema_name == "OrderRequest"
    assert envelope.response_schema_name == "OrderResult"
    assert message.artifact == {
        "event_id": envelope.id,
        "event_name": "order.place.requested",
        "topic": "action-requests",
        "correlation_id": "corr-9",
        "response_event": "order.place.completed",
    }
    assert envelope.id in message.content and "order.place.completed" in message.content


async def test_event_without_response_schema_is_a_plain_publish(
    toolkit: EventToolkit, redis_client: redis.Redis
) -> None:
    tool = (await tools_by_event(toolkit))["user.notify"]
    text = await tool.ainvoke({"text": "hello"})
    [envelope] = published(redis_client, "action-requests")
    assert envelope.data == {"text": "hello"}
    assert envelope.response_event is None and envelope.response_topic is None
    assert envelope.correlation_id == envelope.id  # correlates with itself
    assert "No result event is expected" in text


@pytest.mark.parametrize(
    "arguments",
    [
        {"customer": {"name": "Ada"}},
        {**VALID_ORDER, "speed": "teleport"},
        {**VALID_ORDER, "items": []},
        {**VALID_ORDER, "items": [{"sku": 5}]},
    ],
)
async def test_bad_input_never_publishes(
    toolkit: EventToolkit, redis_client: redis.Redis, arguments: dict[str, object]
) -> None:
    tool = (await tools_by_event(toolkit))["order.place.requested"]
    with pytest.raises(PayloadValidationError) as caught:
        await tool.ainvoke(arguments)
    assert caught.value.errors and all(e.startswith("$") for e in caught.value.errors)
    with pytest.raises(PayloadValidationError):
        await asyncio.to_thread(tool.invoke, arguments)
    assert published(redis_client, "action-requests") == []


async def test_non_object_arguments_never_publish(
    toolkit: EventToolkit, redis_client: redis.Redis
) -> None:
    tool = (await tools_by_event(toolkit))["web.search.requested"]
    for arguments in ("find cats", ["find cats"]):
        call = {"name": tool.name, "args": arguments, "id": "c", "type": "tool_call"}
        for value in (arguments, call):
            with pytest.raises(PayloadValidationError, match="must be a JSON object"):
                await tool.ainvoke(value)
    assert published(redis_client, "action-requests") == []


async def test_handled_errors_go_back_to_the_llm(
    toolkit: EventToolkit, redis_client: redis.Redis
) -> None:
    tool = (await tools_by_event(toolkit, handle_errors=True))["order.place.requested"]
    message = await tool.ainvoke(
        {"name": tool.name, "args": {"customer": {}}, "id": "c2", "type": "tool_call"}
    )
    assert message.status == "error"
    assert message.content.startswith(f"Tool {tool.name} was not called")
    assert "$: missing required fields 'items', 'shipping'" in message.content
    assert "$.customer: missing required field 'name'" in message.content
    assert published(redis_client, "action-requests") == []


async def test_sync_invoke_from_worker_thread_uses_the_bus_loop(
    toolkit: EventToolkit, redis_client: redis.Redis
) -> None:
    tool = (await tools_by_event(toolkit))["web.search.requested"]
    await tool.ainvoke({"query": "first, on this loop"})
    text = await asyncio.to_thread(tool.invoke, {"query": "second, from a thread"})
    assert text.startswith("Published web.search.requested")
    queries = [e.data["query"] for e in published(redis_client, "action-requests")]
    assert queries == ["first, on this loop", "second, from a thread"]


async def test_sync_invoke_on_the_bus_loop_is_refused(toolkit: EventToolkit) -> None:
    tool = (await tools_by_event(toolkit))["web.search.requested"]
    await tool.ainvoke({"query": "bind the bus to this loop"})
    with pytest.raises(ConfigurationError, match="ainvoke"):
        tool.invoke({"query": "would block the loop"})


def test_sync_only_use_runs_on_a_private_loop(redis_url: str, redis_client: redis.Redis) -> None:
    bus = RedisStreamsBus.from_url(redis_url)
    toolkit = EventToolkit(InMemoryRegistry(), bus)
    [tool] = toolkit.as_tools([SEARCH])
    try:
        for query in ("one", "two"):
            tool.invoke({"query": query})
    finally:
        toolkit.close(close_bus=True)
    assert [e.data["query"] for e in published(redis_client, "action-requests")] == ["one", "two"]


async def test_context_sources_merge_field_by_field(
    toolkit: EventToolkit, redis_client: redis.Redis
) -> None:
    [tool] = toolkit.as_tools([SEARCH], context={"plan_id": "plan-2", "trace_id": "t-1"})
    await tool.ainvoke(
        {"query": "q"}, config={"configurable": {CONTEXT_CONFIG_KEY: ToolContext(user_id="u-9")}}
    )
    [envelope] = published(redis_client, "action-requests")
    assert (envelope.tenant_id, envelope.user_id, envelope.plan_id, envelope.trace_id) == (
        "tenant-a",
        "u-9",
        "plan-2",
        "t-1",
    )
    with pytest.raises(ConfigurationError, match="invalid tool context"):
        await tool.ainvoke({"query": "q"}, config={"configurable": {CONTEXT_CONFIG_KEY: {"x": 1}}})
    with pytest.raises(ConfigurationError, match="must be a ToolContext"):
        toolkit.as_tools([SEARCH], context="plan-3")  # type: ignore[arg-type]


async def test_context_response_event_and_metadata_response_event(
    toolkit: EventToolkit, redis_client: redis.Redis
) -> None:
    custom = SEARCH.model_copy(update={"metadata": {"response_event": "search.done"}})
    [tool] = toolkit.as_tools([custom])
    await tool.ainvoke({"query": "a"})
    await tool.ainvoke(
        {"query": "b"}, config={"configurable": {CONTEXT_CONFIG_KEY: {"response_event": "x.y"}}}
    )
    assert [e.response_event for e in published(redis_client, "action-requests")] == [
        "search.done",
        "x.y",
    ]


async def test_toolkit_publish_and_errors(toolkit: EventToolkit, redis_client: redis.Redis) -> None:
    receipt = await toolkit.publish("order.shipped", {"order_id": "o-1"}, context={"plan_id": "p"})
    [envelope] = published(redis_client, "business-facts")
    assert receipt.event_id == envelope.id and envelope.plan_id == "p"
    with pytest.raises(UnknownEventError):
        await toolkit.publish("no.such.event", {})
    with pytest.raises(PayloadValidationError):
        await toolkit.publish("order.shipped", {"order_id": 1})
    assert len(published(redis_client, "business-facts")) == 1
    without_bus = EventToolkit(toolkit.registry)
    [tool] = without_bus.as_tools([SEARCH])
    with pytest.raises(ConfigurationError, match="no bus"):
        await tool.ainvoke({"query": "q"})
    with pytest.raises(ConfigurationError, match="no bus"):
        await without_bus.publish("web.search.requested", {"query": "q"})


async def test_tools_bind_to_a_chat_model_with_their_schemas(toolkit: EventToolkit) -> None:
    tools: list[BaseTool] = list((await tools_by_event(toolkit)).values())
    model = ScriptedChatModel(script=[AIMessage(content="ok")])
    await model.bind_tools(tools).ainvoke("hi")
    [seen] = model.seen_tools
    by_name = {tool["function"]["name"]: tool["function"] for tool in seen}
    assert set(by_name) == {
        toolkit.tool_name(e)
        for e in ("order.place.requested", "web.search.requested", "user.notify")
    }
    order = by_name["order_place_requested"]["parameters"]
    # $ref is inlined by LangChain's converter; nested objects, arrays, enums, defaults survive.
    assert order["properties"]["shipping"]["properties"]["country"]["enum"] == [
        "DE",
        "FR",
        "IN",
        "US",
    ]
    assert order["properties"]["items"]["items"]["properties"]["quantity"]["default"] == 1
    assert order["properties"]["speed"]["default"] == "standard"
    assert order["required"] == ["customer", "items", "shipping"]
    assert convert_to_openai_tool(tools[0])["function"]["description"] == tools[0].description
    assert toolkit.event_for_tool("order_place_requested") == "order.place.requested"


@pytest.mark.filterwarnings("ignore:create_react_agent has been moved")
@pytest.mark.parametrize("build_agent", [create_react_agent, create_agent])
async def test_agents_publish_through_the_tool(
    toolkit: EventToolkit, redis_client: redis.Redis, build_agent: Callable[..., Any]
) -> None:
    tools = list((await tools_by_event(toolkit, handle_errors=True)).values())
    model = ScriptedChatModel(
        script=[
            AIMessage(
                content="",
                tool_calls=[
                    {"name": "web_search_requested", "args": {"topic": "x"}, "id": "bad"},
                ],
            ),
            AIMessage(
                content="",
                tool_calls=[
                    {"name": "web_search_requested", "args": {"query": "llm evals"}, "id": "ok"},
                ],
            ),
            AIMessage(content="Search requested."),
        ]
    )
    agent = build_agent(model, tools, context_schema=ToolContext)
    result = await agent.ainvoke(
        {"messages": [("user", "find recent work on llm evals")]},
        context=ToolContext(plan_id="plan-graph", correlation_id="corr-graph"),
    )
    tool_messages = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    assert [m.status for m in tool_messages] == ["error", "success"]
    assert "$: missing required field 'query'" in tool_messages[0].content
    [envelope] = published(redis_client, "action-requests")
    assert envelope.data == {"query": "llm evals"}
    assert (envelope.plan_id, envelope.correlation_id, envelope.tenant_id) == (
        "plan-graph",
        "corr-graph",
        "tenant-a",
    )
    assert result["messages"][-1].content == "Search requested."
    assert len(model.seen_tools[0]) == 3


async def test_values_json_cannot_carry_never_publish(
    toolkit: EventToolkit, redis_client: redis.Redis
) -> None:
    tool = (await tools_by_event(toolkit))["user.notify"]  # no schema: any object validates
    with pytest.raises(PayloadValidationError, match=r"\$\.when is a datetime"):
        await tool.ainvoke({"when": datetime.now(UTC)})
    assert published(redis_client, "action-requests") == []
