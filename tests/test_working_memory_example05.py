"""Soorma example 05 ported: planner -> worker -> coordinator through WorkflowState.

Runs the agents of examples/working_memory/workflow.py on the real Redis Streams bus and real
Redis working memory, for two tenants at once with the same plan id.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from soorma_lc.bus import RedisStreamsBus
from soorma_lc.config import Settings
from soorma_lc.memory.client import MemoryClient
from soorma_lc.memory.plans import PlanStatus
from soorma_lc.memory.workflow_state import WorkflowState
from soorma_lc.registry.memory import InMemoryRegistry

EXAMPLE = Path(__file__).parents[1] / "examples" / "working_memory" / "workflow.py"
EXPECTED_HISTORY = [
    "goal.received",
    "research.completed",
    "draft.completed",
    "review.completed",
    "workflow.completed",
]


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("working_memory_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def test_flow_through_workflow_state_for_two_tenants(
    example: ModuleType, redis_url: str, memory: MemoryClient
) -> None:
    bus = RedisStreamsBus.from_url(redis_url)
    agents = example.build_agents(bus, InMemoryRegistry(), memory)
    goals = {"tenant-a": "Write a blog post about Docker", "tenant-b": "Review a Kubernetes RFC"}
    try:
        for agent in agents:
            await agent.start()
        for tenant, goal in goals.items():
            await bus.request(
                "goal.received",
                {"goal": goal},
                response_event="workflow.completed",
                plan_id="plan-1",  # the same plan id in both tenants
                session_id="chat-1",
                tenant_id=tenant,
                user_id="user-1",
            )
        plans = await asyncio.gather(
            *(example.wait_for_plan(memory, "plan-1", tenant_id=t, user_id="user-1") for t in goals)
        )
    finally:
        for agent in agents:
            await agent.stop()
        await bus.aclose()

    for plan, (tenant, goal) in zip(plans, goals.items(), strict=True):
        assert plan.status is PlanStatus.COMPLETED
        assert (plan.goal_event, plan.goal_data, plan.session_id) == (
            "goal.received",
            {"goal": goal},
            "chat-1",
        )
        state = WorkflowState(memory, "plan-1", tenant_id=tenant, user_id="user-1")
        assert await state.get_action_history() == EXPECTED_HISTORY
        assert await state.get("status") == "completed"
        assert await state.get("current_task_index") == 3
        for task in example.TASKS:
            assert await state.get(f"{task}_result") == f"Completed {task} for: {goal}"
        session = await memory.get_session("chat-1", tenant_id=tenant, user_id="user-1")
        assert session is not None and session.last_interaction == plan.updated_at


async def test_example_script_runs_end_to_end(example: ModuleType, settings: Settings) -> None:
    state = await example.run("Plan a launch", settings)
    assert state["_action_history"] == EXPECTED_HISTORY
    assert state["review_result"] == "Completed review for: Plan a launch"
