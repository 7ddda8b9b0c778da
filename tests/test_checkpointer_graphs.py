"""RedisCheckpointSaver as the checkpointer of real LangGraph graphs (sync and async)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.graph import END, START, StateGraph
from langgraph.prebuilt import create_react_agent
from langgraph.types import Command

from soorma_lc.memory.checkpoint import RedisCheckpointSaver
from tests.checkpointer_helpers import (
    ApprovalState,
    ScriptedChatModel,
    approval_graph,
    chat_graph,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
async def saver(redis_url: str) -> AsyncIterator[RedisCheckpointSaver]:
    saver = RedisCheckpointSaver.from_url(redis_url)
    yield saver
    await saver.aclose()
    saver.close()


@pytest.fixture
def sync_saver(redis_url: str) -> Iterator[RedisCheckpointSaver]:
    saver = RedisCheckpointSaver.from_url(redis_url)
    yield saver
    saver.close()


def contents(messages: list) -> list[str]:
    return [m.content for m in messages]


async def test_chat_thread_survives_replicas(saver: RedisCheckpointSaver, redis_url: str) -> None:
    graph = chat_graph(saver)
    config = {"configurable": {"thread_id": "chat-1"}}
    for turn in range(1, 6):
        await graph.ainvoke({"messages": [HumanMessage(content=f"question {turn}")]}, config)
    state = await graph.aget_state(config)
    assert len(state.values["messages"]) == 10
    assert state.values["messages"][-1].content.startswith("answer 5: ")

    # Another replica (fresh process-local cache) sees the same thread and continues it.
    other = RedisCheckpointSaver.from_url(redis_url)
    try:
        replica = chat_graph(other)
        assert contents((await replica.aget_state(config)).values["messages"]) == contents(
            state.values["messages"]
        )
        await replica.ainvoke({"messages": [HumanMessage(content="question 6")]}, config)
    finally:
        await other.aclose()
        other.close()
    final = await graph.aget_state(config)
    assert len(final.values["messages"]) == 12
    history = [s async for s in graph.aget_state_history(config)]
    assert [len(s.values.get("messages", [])) for s in history][:3] == [12, 11, 10]
    assert history[-1].metadata["source"] == "input"


def test_sync_graph_and_history(sync_saver: RedisCheckpointSaver) -> None:
    graph = chat_graph(sync_saver)
    config = {"configurable": {"thread_id": "sync-1"}}
    for turn in range(1, 4):
        result = graph.invoke({"messages": [HumanMessage(content=f"q{turn}")]}, config)
    assert len(result["messages"]) == 6
    history = list(graph.get_state_history(config))
    assert len(history) == 9  # input, start, chat per turn
    assert [s.metadata["step"] for s in history] == sorted(
        (s.metadata["step"] for s in history), reverse=True
    )
    assert list(sync_saver.list(config, limit=2))[1].config == history[1].config


@pytest.mark.filterwarnings("ignore:create_react_agent has been moved")
async def test_react_agent_with_tools(saver: RedisCheckpointSaver) -> None:
    @tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    call = {"name": "add", "args": {"a": 2, "b": 3}, "id": "call-1", "type": "tool_call"}
    model = ScriptedChatModel(
        script=[
            AIMessage(content="", tool_calls=[call]),
            AIMessage(content="2 + 3 = 5"),
            AIMessage(content="you are welcome"),
        ]
    )
    agent = create_react_agent(model, [add], checkpointer=saver)
    config = {"configurable": {"thread_id": "agent-1"}}
    result = await agent.ainvoke({"messages": [HumanMessage(content="what is 2 + 3?")]}, config)
    kinds = [type(m) for m in result["messages"]]
    assert kinds == [HumanMessage, AIMessage, ToolMessage, AIMessage]
    assert result["messages"][2].content == "5"
    result = await agent.ainvoke({"messages": [HumanMessage(content="thanks")]}, config)
    assert result["messages"][-1].content == "you are welcome"
    assert len((await agent.aget_state(config)).values["messages"]) == 6


async def test_interrupt_and_resume(saver: RedisCheckpointSaver) -> None:
    graph = approval_graph(saver)
    config = {"configurable": {"thread_id": "approval-1"}}
    first = await graph.ainvoke({"messages": []}, config)
    assert first["__interrupt__"][0].value == {"question": "publish the draft?"}
    state = await graph.aget_state(config)
    assert state.next == ("review",)
    assert state.tasks[0].interrupts[0].value == {"question": "publish the draft?"}
    final = await graph.ainvoke(Command(resume="no"), config)
    assert contents(final["messages"]) == ["draft: the quarterly report", "no", "discarded"]
    assert (await graph.aget_state(config)).next == ()


async def test_update_state_and_fork(saver: RedisCheckpointSaver) -> None:
    graph = chat_graph(saver)
    config = {"configurable": {"thread_id": "fork-1"}}
    for turn in range(1, 4):
        await graph.ainvoke({"messages": [HumanMessage(content=f"q{turn}")]}, config)
    history = [s async for s in graph.aget_state_history(config)]
    latest = history[0]
    after_first = next(s for s in history if len(s.values.get("messages", [])) == 2 and not s.next)

    # Fork: edit the state as it was after turn 1, then continue from the edit.
    fork_config = await graph.aupdate_state(
        after_first.config, {"messages": [HumanMessage(content="edited question")]}
    )
    forked = await graph.aget_state(fork_config)
    assert forked.metadata["source"] == "update"
    assert (
        forked.parent_config["configurable"]["checkpoint_id"]
        == (after_first.config["configurable"]["checkpoint_id"])
    )
    result = await graph.ainvoke({"messages": [HumanMessage(content="fork q")]}, fork_config)
    assert contents(result["messages"])[2:4] == ["edited question", "fork q"]
    assert len(result["messages"]) == 5

    # The original branch is intact and can still be read and replayed.
    original = await graph.aget_state(latest.config)
    assert contents(original.values["messages"]) == contents(latest.values["messages"])
    assert len(original.values["messages"]) == 6
    replayed = await graph.ainvoke(None, history[1].config)
    assert len(replayed["messages"]) == 6


async def test_interrupt_resumed_in_another_process(redis_url: str) -> None:
    tenant = "tenant-hitl"
    config = {"configurable": {"thread_id": "approval-x", "tenant_id": tenant}}
    saver = RedisCheckpointSaver.from_url(redis_url)
    try:
        graph = approval_graph(saver)
        await graph.ainvoke({"messages": []}, config)
        assert (await graph.aget_state(config)).next == ("review",)

        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        child = subprocess.run(
            [sys.executable, str(ROOT / "tests" / "checkpointer_helpers.py"), redis_url,
             "approval-x", tenant],
            capture_output=True, text=True, timeout=120, env=env, cwd=ROOT, check=False,
        )  # fmt: skip
        assert child.returncode == 0, child.stderr
        assert json.loads(child.stdout.strip().splitlines()[-1]) == [
            "draft: the quarterly report",
            "yes",
            "published",
        ]
        state = await graph.aget_state(config)
        assert state.next == ()
        assert state.values["approved"] is True
        # The thread lives under its tenant only.
        default_tenant = {"configurable": {"thread_id": "approval-x"}}
        assert (await graph.aget_state(default_tenant)).values == {}
    finally:
        await saver.aclose()
        saver.close()


async def test_subgraph_interrupt_uses_namespaces(saver: RedisCheckpointSaver) -> None:
    inner = approval_graph(None)  # compiled without its own checkpointer: it inherits the parent's
    builder = StateGraph(ApprovalState)
    builder.add_node("approval", inner)
    builder.add_edge(START, "approval")
    builder.add_edge("approval", END)
    outer = builder.compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "nested-1"}}
    await outer.ainvoke({"messages": []}, config)
    state = await outer.aget_state(config, subgraphs=True)
    child = state.tasks[0].state
    assert child.next == ("review",)
    assert child.config["configurable"]["checkpoint_ns"].startswith("approval:")
    namespaces = {t.config["configurable"]["checkpoint_ns"] async for t in saver.alist(
        {"configurable": {"thread_id": "nested-1"}})}  # fmt: skip
    assert "" in namespaces and any(ns.startswith("approval:") for ns in namespaces)
    final = await outer.ainvoke(Command(resume="yes"), config)
    assert contents(final["messages"]) == ["draft: the quarterly report", "yes", "published"]
