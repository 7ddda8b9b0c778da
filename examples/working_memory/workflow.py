"""Soorma example 05 on soorma-lc: planner -> worker -> coordinator through one plan's state.

The planner opens a plan for a goal and writes its task list into working memory; the worker
does one task at a time and stores its result; the coordinator advances the task index and
finishes the plan. The agents share nothing but Redis: run them in one process (this script)
or start each in its own process or machine against the same ``SOORMA_REDIS_URL``.

    python examples/working_memory/workflow.py "Write a blog post about Docker"
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from typing import Any

from soorma_lc import (
    AgentContext,
    DuplicatePlanError,
    EventEnvelope,
    EventTopic,
    InMemoryRegistry,
    MemoryClient,
    Plan,
    PlanStatus,
    RedisStreamsBus,
    Registry,
    Settings,
    Worker,
    WorkflowState,
)

TASKS = ["research", "draft", "review"]


def _state(event: EventEnvelope, context: AgentContext, plan_id: str) -> WorkflowState:
    """The plan's state as seen by the tenant and user the event carries."""
    return WorkflowState(context.memory, plan_id, tenant_id=event.tenant_id, user_id=event.user_id)


def build_agents(bus: RedisStreamsBus, registry: Registry, memory: MemoryClient) -> list[Worker]:
    """The three agents of the example, sharing one bus, registry and memory client."""
    shared: dict[str, Any] = {"bus": bus, "registry": registry, "memory": memory}
    planner = Worker("wm-planner", description="Decomposes a goal into tasks", **shared)
    worker = Worker("wm-worker", description="Executes one task", **shared)
    coordinator = Worker("wm-coordinator", description="Advances the workflow", **shared)

    @planner.on_event("goal.received", topic=EventTopic.ACTION_REQUESTS)
    async def handle_goal(event: EventEnvelope, context: AgentContext) -> None:
        plan_id = event.plan_id or event.id  # the goal's id makes a redelivery harmless
        goal = (event.data or {})["goal"]
        try:
            await context.memory.create_plan(
                plan_id,
                event.type,
                event.data,
                session_id=event.session_id,
                tenant_id=event.tenant_id,
                user_id=event.user_id,
            )
        except DuplicatePlanError:
            return  # this goal already has its plan
        state = _state(event, context, plan_id)
        await state.set("goal", goal)
        await state.set("status", "planning")
        await state.set("tasks", TASKS)
        await state.set("current_task_index", 0)
        await state.record_action("goal.received")
        await context.bus.request(
            "task.assigned",
            {"plan_id": plan_id, "task": TASKS[0], "goal": goal, "task_index": 0},
            response_event="task.completed",
            plan_id=plan_id,
        )

    @worker.on_event("task.assigned", topic=EventTopic.ACTION_REQUESTS)
    async def handle_task(event: EventEnvelope, context: AgentContext) -> None:
        data = event.data or {}
        state = _state(event, context, data["plan_id"])
        goal = await state.get("goal")
        result = f"Completed {data['task']} for: {goal}"
        await state.record_action(f"{data['task']}.completed")
        await state.set(f"{data['task']}_result", result)
        await context.bus.respond(
            event, data={"plan_id": data["plan_id"], "task": data["task"], "result": result}
        )

    @coordinator.on_event("task.completed", topic=EventTopic.ACTION_RESULTS)
    async def handle_task_completion(event: EventEnvelope, context: AgentContext) -> None:
        plan_id = (event.data or {})["plan_id"]
        state = _state(event, context, plan_id)
        tasks = await state.get("tasks", [])
        next_index = await state.increment("current_task_index")
        if next_index < len(tasks):
            await state.set("status", "in_progress")
            await context.bus.request(
                "task.assigned",
                {
                    "plan_id": plan_id,
                    "task": tasks[next_index],
                    "goal": await state.get("goal"),
                    "task_index": next_index,
                },
                response_event="task.completed",
            )
            return
        await state.set("status", "completed")
        await state.record_action("workflow.completed")
        await context.memory.update_plan_status(
            plan_id, PlanStatus.COMPLETED, tenant_id=event.tenant_id, user_id=event.user_id
        )
        await context.bus.announce("workflow.completed", {"plan_id": plan_id})

    return [planner, worker, coordinator]


async def wait_for_plan(
    memory: MemoryClient, plan_id: str, *, tenant_id: str, user_id: str, timeout: float = 30.0
) -> Plan:
    """Poll until the plan has finished (completed or failed)."""
    deadline = time.monotonic() + timeout
    while True:
        plan = await memory.get_plan(plan_id, tenant_id=tenant_id, user_id=user_id)
        if plan is not None and plan.status in (PlanStatus.COMPLETED, PlanStatus.FAILED):
            return plan
        if time.monotonic() > deadline:
            raise TimeoutError(f"plan {plan_id} did not finish within {timeout}s")
        await asyncio.sleep(0.05)


async def run(goal: str, settings: Settings) -> dict[str, Any]:
    """Start the agents, submit ``goal``, wait for the plan, and return its working memory."""
    scope = {"tenant_id": settings.tenant_id, "user_id": settings.user_id}
    bus = RedisStreamsBus.from_settings(settings)
    memory = MemoryClient.from_settings(settings)
    agents = build_agents(bus, InMemoryRegistry(), memory)
    try:
        for agent in agents:
            await agent.start()
        plan_id = await bus.request(
            "goal.received", {"goal": goal}, response_event="workflow.completed", **scope
        )
        await wait_for_plan(memory, plan_id, **scope)
        return await memory.get_all_plan_state(plan_id, **scope)
    finally:
        for agent in agents:
            await agent.stop()
        await memory.aclose()
        await bus.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("goal", nargs="?", default="Write a blog post about Docker")
    settings = Settings(data_dir=os.environ.get("SOORMA_DATA_DIR", ".soorma/working_memory"))
    state = asyncio.run(run(parser.parse_args().goal, settings))
    print(json.dumps(state, indent=2))


if __name__ == "__main__":
    main()
