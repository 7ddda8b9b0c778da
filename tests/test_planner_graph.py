"""``planner.graph`` as LangGraph: state inspection, streaming, and use as a subgraph of an
ordinary app that delivers results itself."""

from __future__ import annotations

from typing import Any, TypedDict

from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command

from soorma_lc.bus.tail import stream_position, wait_for_event
from soorma_lc.events import EventTopic
from soorma_lc.planners import answer, awaits
from tests.planner_helpers import FINDINGS, Stack, draft_text, research_policy, research_workers

GOAL = {
    "event": "research.goal",
    "data": {"topic": "Docker"},
    "plan_id": "plan-sub-1",
    "tenant_id": "acme",
    "user_id": "alice",
}


async def test_graph_streams_node_updates_and_model_messages(settings):
    async with Stack(settings) as stack:
        planner = stack.planner(research_policy)
        await stack.start(*research_workers(**stack.shared()))
        config = planner.run_config(GOAL["plan_id"], tenant_id="acme")

        modes: dict[str, list[Any]] = {"updates": [], "messages": []}
        async for mode, chunk in planner.graph.astream(
            {"goal": GOAL}, config, stream_mode=["updates", "messages"]
        ):
            modes[mode].append(chunk)

        nodes = [next(iter(update)) for update in modes["updates"]]
        assert nodes == ["start", "decide", "act", "__interrupt__"]
        replies = [(m, meta) for m, meta in modes["messages"] if isinstance(m, AIMessage)]
        message, metadata = replies[0]
        assert metadata["langgraph_node"] == "decide"
        assert message.tool_calls[0]["name"] == "research_requested"


class AppState(TypedDict, total=False):
    goal: dict[str, Any]
    outcome: dict[str, Any] | None
    summary: str


async def test_planner_graph_runs_as_a_subgraph_of_an_ordinary_app(settings):
    async with Stack(settings) as stack:
        planner = stack.planner(research_policy)
        await stack.start(*research_workers(**stack.shared()))
        builder = StateGraph(AppState)
        builder.add_node("plan", planner.graph)
        builder.add_node("summarize", lambda s: {"summary": f"{s['outcome']['status']}!"})
        builder.add_edge(START, "plan")
        builder.add_edge("plan", "summarize")
        builder.add_edge("summarize", END)
        app = builder.compile(checkpointer=InMemorySaver())
        config = {"configurable": {"thread_id": "app-1"}}

        position = await stream_position(stack.bus, EventTopic.ACTION_RESULTS)
        state = await app.ainvoke({"goal": GOAL}, config)
        rounds = 0
        while "__interrupt__" in state:  # the app delivers each result itself
            waiting = state["__interrupt__"][0].value
            result = await wait_for_event(
                stack.bus,
                EventTopic.ACTION_RESULTS,
                lambda e, waiting=waiting: awaits(waiting, e),
                after=position,
                timeout=20,
            )
            assert result is not None
            state = await app.ainvoke(Command(resume=answer(result)), config)
            rounds += 1

        assert rounds == 3
        assert state["outcome"]["result"] == draft_text("Docker", FINDINGS)
        assert state["summary"] == "completed!"
        plan = await stack.memory.get_plan("plan-sub-1", tenant_id="acme", user_id="alice")
        assert plan is not None and plan.status == "completed"
