"""Planner overhead: one ChoreographyPlanner decision against one ReAct step, same model, same
checkpointer, same Redis, one run.

A zero-latency scripted model decides every step, so what is measured is the framework: for the
planner, a result event resumes the plan (lease, state read, ``Command(resume=...)``), the graph
records the result, renders the prompt (working memory, action budget), asks the model, checks
the decision (schema, guards), reserves the action atomically, publishes the request on the bus
and interrupts again, checkpointing each node (``durability="sync"``). For the anchor, LangGraph's
prebuilt ``create_react_agent`` runs one tool call per step with the same model and the same
``RedisCheckpointSaver``, and the tool publishes the same event on the same bus (our EventTool).

Printed per side: ms per step (median over rounds), Redis round trips per step (every command
or pipeline sent, counted in-process), and the ratio planner / ReAct. Goal: at most 1.5x.

A third row is the floor under the planner's shape: a graph of no-op nodes in the same loop
(a node that waits in ``interrupt``, resumed by ``Command(resume=...)``, then a second node,
then the wait again), on the same checkpointer with ``durability="sync"``. It is what one
event costs LangGraph and the checkpointer alone when every event is its own graph run (a
ReAct agent pays the checkpoint load once per run, not per step); the planner's own work
(lease, prompt, guards, reservation, publish) is the difference between the first row and it.

    python benchmarks/planner_overhead.py [--steps 30] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import operator
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, TypedDict

import redis.asyncio.connection
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.graph import START, StateGraph
from langgraph.prebuilt import create_react_agent
from langgraph.types import Command, interrupt

from soorma_lc import (
    AgentCapability,
    AgentDefinition,
    EventDefinition,
    EventEnvelope,
    EventToolkit,
    EventTopic,
    MemoryClient,
    RedisCheckpointSaver,
    RedisRegistry,
    RedisStreamsBus,
)
from soorma_lc.backends.embedded_redis import embedded_redis, shutdown_embedded_redis
from soorma_lc.planners import ChoreographyPlanner

WORK = EventDefinition(
    event_name="work.requested",
    topic=EventTopic.ACTION_REQUESTS,
    description="Do one unit of work",
    payload_schema={
        "type": "object",
        "properties": {"n": {"type": "integer", "minimum": 0}},
        "required": ["n"],
    },
)


class StepModel(BaseChatModel):
    """Zero latency: calls ``work_requested`` with n = tool answers so far, ``steps`` times."""

    steps: int

    @property
    def _llm_type(self) -> str:
        return "step-model"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        return self.bind(tools=[convert_to_openai_tool(tool) for tool in tools], **kwargs)

    def _reply(self, messages: list[BaseMessage]) -> ChatResult:
        done = sum(isinstance(m, ToolMessage) for m in messages)
        if done < self.steps:
            call = {"name": "work_requested", "args": {"n": done}, "id": f"call-{done}"}
            message = AIMessage("", tool_calls=[call])
        else:
            final = {"name": "complete_goal", "args": {"result": "all work done"}, "id": "end"}
            message = AIMessage("all work done", tool_calls=[final])
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._reply(messages)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._reply(messages)


class ReactStepModel(StepModel):
    """The same model for the ReAct agent, which ends with a plain answer."""

    def _reply(self, messages: list[BaseMessage]) -> ChatResult:
        done = sum(isinstance(m, ToolMessage) for m in messages)
        if done < self.steps:
            call = {"name": "work_requested", "args": {"n": done}, "id": f"call-{done}"}
            return ChatResult(
                generations=[ChatGeneration(message=AIMessage("", tool_calls=[call]))]
            )
        return ChatResult(generations=[ChatGeneration(message=AIMessage("all work done"))])


class RoundTrips:
    """Counts every command or pipeline redis-py sends (one network round trip each)."""

    def __init__(self) -> None:
        self.count = 0

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        connection = redis.asyncio.connection.AbstractConnection
        original = connection.send_packed_command

        async def counting(conn: Any, command: Any, check_health: bool = True) -> None:
            self.count += 1
            await original(conn, command, check_health)

        connection.send_packed_command = counting  # type: ignore[method-assign]
        try:
            yield
        finally:
            connection.send_packed_command = original  # type: ignore[method-assign]


async def planner_steps(
    planner: ChoreographyPlanner, steps: int, trips: RoundTrips
) -> tuple[float, float]:
    """ms and round trips per decision, driving one plan through ``steps`` results."""
    goal = planner.bus.build(
        "bench.goal",
        {"steps": steps},
        EventTopic.ACTION_REQUESTS,
        {"tenant_id": "t", "user_id": "u"},
    )
    await planner.handle(goal)
    plan_id = planner.plan_id_for(goal.id)
    config = planner.run_config(plan_id, tenant_id="t")
    elapsed, sent = 0.0, 0
    for n in range(steps):
        waiting = (await planner.graph.aget_state(config)).values["awaiting"]
        result = EventEnvelope(
            type="work.completed",
            topic=EventTopic.ACTION_RESULTS,
            data={"n": n, "receipt": uuid.uuid4().hex},  # new content each step
            correlation_id=waiting["correlation_id"],
            plan_id=plan_id,
            tenant_id="t",
            user_id="u",
            source="worker",
        )
        before = trips.count
        started = time.perf_counter()
        await planner.handle(result)
        elapsed += time.perf_counter() - started
        sent += trips.count - before
    return elapsed * 1000 / steps, sent / steps


async def react_steps(agent: Any, steps: int, trips: RoundTrips) -> tuple[float, float]:
    """ms and round trips per ReAct step (one model call plus one tool call each)."""
    config = {
        "configurable": {"thread_id": str(uuid.uuid4()), "tenant_id": "t"},
        "recursion_limit": 4 * steps + 10,
    }
    before = trips.count
    started = time.perf_counter()
    await agent.ainvoke({"messages": [("user", "do the work")]}, config, durability="sync")
    elapsed = time.perf_counter() - started
    return elapsed * 1000 / (steps + 1), (trips.count - before) / (steps + 1)


class FloorState(TypedDict):
    items: Annotated[list[str], operator.add]


def floor_graph(saver: RedisCheckpointSaver) -> Any:
    """No-op nodes in the planner's loop: wait (interrupt) -> work -> wait."""

    def wait(state: FloorState) -> dict[str, list[str]]:
        return {"items": [interrupt("waiting")]}

    def work(state: FloorState) -> dict[str, list[str]]:
        return {"items": ["worked"]}

    builder = StateGraph(FloorState)
    builder.add_node("wait", wait)
    builder.add_node("work", work)
    builder.add_edge(START, "wait")
    builder.add_edge("wait", "work")
    builder.add_edge("work", "wait")
    return builder.compile(checkpointer=saver)


async def floor_steps(graph: Any, steps: int, trips: RoundTrips) -> tuple[float, float]:
    """ms and round trips per resume of a fresh thread of :func:`floor_graph`."""
    config = {
        "configurable": {"thread_id": str(uuid.uuid4()), "tenant_id": "t"},
        "recursion_limit": 4 * steps + 10,
    }
    await graph.ainvoke({"items": []}, config, durability="sync")
    elapsed, sent = 0.0, 0
    for n in range(steps):
        before = trips.count
        started = time.perf_counter()
        await graph.ainvoke(Command(resume=f"result {n}"), config, durability="sync")
        elapsed += time.perf_counter() - started
        sent += trips.count - before
    return elapsed * 1000 / steps, sent / steps


async def main(steps: int, rounds: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="planner-bench-"))
    url = embedded_redis(data_dir).url
    bus = RedisStreamsBus.from_url(url)
    registry = RedisRegistry.from_url(url)
    memory = MemoryClient.from_url(url)
    saver = RedisCheckpointSaver.from_url(url)
    await registry.register_agent(
        AgentDefinition(
            agent_id="worker-1",
            name="worker",
            capabilities=[AgentCapability(task_name="work", consumed_event=WORK)],
        )
    )
    planner = ChoreographyPlanner(
        "bench-planner",
        StepModel(steps=steps),
        goal_events=["bench.goal"],
        max_actions=steps + 1,
        log_episodes=False,
        bus=bus,
        registry=registry,
        memory=memory,
        checkpointer=saver,
    )
    toolkit = EventToolkit(registry, bus)
    tools = toolkit.as_tools([WORK], context={"tenant_id": "t", "user_id": "u"})
    agent = create_react_agent(ReactStepModel(steps=steps), tools, checkpointer=saver)
    floor = floor_graph(saver)
    trips = RoundTrips()
    sides: list[tuple[str, Any, Any]] = [
        ("ChoreographyPlanner", planner_steps, planner),
        ("create_react_agent", react_steps, agent),
        ("graph floor (no-op nodes)", floor_steps, floor),
    ]
    measured: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in sides}
    with trips.installed():
        for _, run, target in sides:
            await run(target, 3, trips)  # warm up
        for round_number in range(rounds):
            order = sides[round_number % len(sides) :] + sides[: round_number % len(sides)]
            for name, run, target in order:
                measured[name].append(await run(target, steps, trips))
    ms = {name: statistics.median(m for m, _ in runs) for name, runs in measured.items()}
    rt = {name: statistics.median(r for _, r in runs) for name, runs in measured.items()}
    print(f"steps per run: {steps}, rounds: {rounds} (medians)")
    print(f"{'':28}{'ms/step':>10}{'Redis round trips/step':>26}")
    for name in ms:
        print(f"{name:28}{ms[name]:>10.2f}{rt[name]:>26.1f}")
    ours, react, floor_ms = ms["ChoreographyPlanner"], ms["create_react_agent"], ms[sides[2][0]]
    print(
        f"ratio planner / ReAct: time {ours / react:.2f}x (goal <= 1.5x), "
        f"round trips {rt['ChoreographyPlanner'] / rt['create_react_agent']:.2f}x; "
        f"floor / ReAct {floor_ms / react:.2f}x, planner work above the floor "
        f"{ours - floor_ms:.2f} ms/step"
    )
    await toolkit.aclose()
    await bus.aclose()
    await registry.aclose()
    await memory.aclose()
    await saver.aclose() if hasattr(saver, "aclose") else None
    shutdown_embedded_redis(data_dir, force=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.steps, arguments.rounds))
