"""The plan's record in the memory service: opening it, moving its status, remembering it."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

from soorma_lc.errors import DuplicatePlanError, SoormaError
from soorma_lc.memory.plans import PlanStatus
from soorma_lc.planners.records import PlanOutcome
from soorma_lc.planners.state import GoalState
from soorma_lc.planners.step import scope
from soorma_lc.planners.vague import text_of

if TYPE_CHECKING:
    from soorma_lc.memory.client import MemoryClient

logger = logging.getLogger(__name__)


async def open_plan(memory: MemoryClient, goal: GoalState) -> None:
    """Create the plan record, linked to the requesting plan when that is one the user owns
    (a delegating planner's); a client's own plan id is not a parent here."""
    if await memory.get_plan(goal["plan_id"], **scope(goal)) is not None:
        return
    fields: dict[str, Any] = {
        "plan_id": goal["plan_id"],
        "goal_event": goal["event"],
        "goal_data": goal["data"],
        "session_id": goal.get("session_id"),
        **scope(goal),
    }
    parent = goal.get("parent_plan_id")
    if parent and await memory.get_plan(parent, **scope(goal)) is not None:
        fields["parent_plan_id"] = parent
    with contextlib.suppress(DuplicatePlanError):  # a re-run after a crash: it is there
        await memory.create_plan(**fields)


async def set_status(
    memory: MemoryClient, goal: GoalState, status: PlanStatus, *, force_running: bool = False
) -> None:
    """Move the plan record along (final states stay); ``force_running`` resumes a paused
    plan first, since the lifecycle only lets a running plan finish."""
    plan = await memory.get_plan(goal["plan_id"], **scope(goal))
    if plan is None or plan.status == status:
        return
    if plan.status in (PlanStatus.COMPLETED, PlanStatus.FAILED):
        return
    if force_running and plan.status == PlanStatus.PAUSED:
        await memory.update_plan_status(goal["plan_id"], PlanStatus.RUNNING, **scope(goal))
    await memory.update_plan_status(goal["plan_id"], status, **scope(goal))


async def log_episode(
    memory: MemoryClient, agent: str, goal: GoalState, report: PlanOutcome
) -> None:
    """Goal and outcome in episodic memory; a memory outage never fails the plan."""
    metadata = {"plan_id": goal["plan_id"], "goal_event": goal["event"]}
    outcome = report.result or report.reason or report.status
    try:
        question = f"{goal['event']}: {text_of(goal['data'])}"
        await memory.log_interaction(agent, "user", question, metadata=metadata, **scope(goal))
        await memory.log_interaction(agent, "assistant", outcome, metadata=metadata, **scope(goal))
    except SoormaError as exc:
        logger.warning("plan %s: could not log to episodic memory: %s", goal["plan_id"], exc)
