"""One scripted planner conversation through litellm against each provider's HTTP API (respx),
answered in the provider's own wire format, non-streamed and streamed, sync and async."""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.tools import StructuredTool
from langgraph.graph import END, START, MessagesState, StateGraph

from soorma_lc.llm import LiteLLMChatModel, resolve_model
from tests.llm_wire import INPUT_TOKENS, OUTPUT_TOKENS, PROVIDERS, Provider, Turn


def _search_docs(query: str) -> str:
    return query


def _complete_goal(result: str, reasoning: str) -> str:
    return result


TOOLS = [
    StructuredTool.from_function(_search_docs, name="search_docs", description="Search the docs."),
    {
        "type": "function",
        "function": {
            "name": "complete_goal",
            "description": "Finish the goal.",
            "parameters": {
                "type": "object",
                "properties": {"result": {"type": "string"}, "reasoning": {"type": "string"}},
                "required": ["result", "reasoning"],
            },
        },
    },
]
SEARCH = Turn("search_docs", {"query": "docker volumes"}, "call_search")
COMPLETE = Turn("complete_goal", {"result": "Use named volumes.", "reasoning": "found it"}, "c2")
RESULT_TEXT = 'Result event docs.found:\n```json\n{"text": "Use named volumes."}\n```'


def first_turn() -> list[BaseMessage]:
    return [
        SystemMessage("You are the planner. Call exactly one tool."),
        HumanMessage('Goal event: docs.goal\nGoal data:\n```json\n{"topic": "volumes"}\n```'),
    ]


def second_turn(reply: AIMessage) -> list[BaseMessage]:
    call = reply.tool_calls[0]
    return [*first_turn(), reply, ToolMessage(RESULT_TEXT, tool_call_id=call["id"])]


def model_for(provider: Provider) -> Any:
    return resolve_model(provider.model, **provider.options).bind_tools(TOOLS)


def check_reply(reply: AIMessage, turn: Turn, provider: Provider) -> None:
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [(turn.tool, turn.args)]
    assert reply.tool_calls[0]["id"]
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["input_tokens"] == INPUT_TOKENS
    assert reply.usage_metadata["output_tokens"] == OUTPUT_TOKENS
    assert reply.response_metadata["model_name"] == provider.model
    cost = reply.response_metadata["cost_usd"]
    if provider.price == "unknown":
        assert cost is None
    else:
        assert isinstance(cost, float) and (cost > 0) == (provider.price == "paid")


def check_requests(router: respx.Router, provider: Provider, *, streamed: bool) -> None:
    bodies = [json.loads(call.request.content) for call in router.calls]
    assert len(bodies) == 2
    for call, body in zip(router.calls, bodies, strict=True):
        asked = body.get("stream") is True or "streamGenerateContent" in str(call.request.url)
        assert asked == streamed
    for body in bodies:
        tools, _ = provider.sent(body)
        assert tools == ["search_docs", "complete_goal"]
    _, results = provider.sent(bodies[1])
    assert len(results) == 1 and "Use named volumes." in results[0]


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.name)
async def test_tool_calls_round_trip(provider: Provider) -> None:
    model = model_for(provider)
    with respx.mock(assert_all_called=True) as router:
        router.route(url__regex=provider.url).mock(
            side_effect=[provider.reply(SEARCH), provider.reply(COMPLETE)]
        )
        first = await model.ainvoke(first_turn())
        check_reply(first, SEARCH, provider)
        second = await model.ainvoke(second_turn(first))
        check_reply(second, COMPLETE, provider)
        check_requests(router, provider, streamed=False)


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.name)
async def test_streamed_tool_calls_round_trip(provider: Provider) -> None:
    model = model_for(provider)
    with respx.mock(assert_all_called=True) as router:
        router.route(url__regex=provider.url).mock(
            side_effect=[provider.stream(SEARCH), provider.stream(COMPLETE)]
        )
        replies = []
        for turn in (SEARCH, COMPLETE):
            messages = first_turn() if not replies else second_turn(replies[0])
            chunks = [chunk async for chunk in model.astream(messages)]
            assert any(chunk.tool_call_chunks for chunk in chunks)
            merged = sum(chunks[1:], chunks[0])
            assert isinstance(merged, AIMessageChunk)
            check_reply(merged, turn, provider)
            replies.append(AIMessage(content=merged.content, tool_calls=merged.tool_calls))
        check_requests(router, provider, streamed=True)


@pytest.mark.parametrize("provider", PROVIDERS[:2], ids=lambda p: p.name)
def test_sync_invoke_and_stream(provider: Provider) -> None:
    model = model_for(provider)
    with respx.mock(assert_all_called=True) as router:
        router.route(url__regex=provider.url).mock(
            side_effect=[provider.reply(SEARCH), provider.stream(SEARCH)]
        )
        check_reply(model.invoke(first_turn()), SEARCH, provider)
        chunks = list(model.stream(first_turn()))
        check_reply(sum(chunks[1:], chunks[0]), SEARCH, provider)


def test_resolve_model_builds_a_litellm_model_with_the_options() -> None:
    model = resolve_model("openai/gpt-4o-mini", api_base="http://llm.test/v1", api_key="k")
    assert isinstance(model, LiteLLMChatModel)
    assert model.api_base == "http://llm.test/v1"
    assert model.api_key is not None and model.api_key.get_secret_value() == "k"


async def test_langgraph_streams_the_tool_call_chunks() -> None:
    """stream_mode="messages" shows the model's chunks as they arrive (it relies on _astream)."""
    provider = PROVIDERS[0]
    model = model_for(provider)

    async def plan(state: MessagesState) -> dict[str, list[BaseMessage]]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    graph = StateGraph(MessagesState).add_node("plan", plan)
    graph = graph.add_edge(START, "plan").add_edge("plan", END).compile()
    with respx.mock() as router:
        router.route(url__regex=provider.url).mock(return_value=provider.stream(SEARCH))
        streamed = [
            message
            async for message, _ in graph.astream(
                {"messages": first_turn()}, stream_mode="messages"
            )
        ]
    pieces = [m for m in streamed if isinstance(m, AIMessageChunk) and m.tool_call_chunks]
    assert len(pieces) >= 2  # the call's name, then its arguments in parts
    merged = sum(streamed[1:], streamed[0])
    assert merged.tool_calls == [
        {"name": "search_docs", "args": SEARCH.args, "id": SEARCH.call_id, "type": "tool_call"}
    ]
