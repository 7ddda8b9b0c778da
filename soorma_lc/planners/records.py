"""What a plan reports: its outcome (the goal's response payload) and its step history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from soorma_lc.planners.decisions import PlannerDecision
from soorma_lc.planners.state import Termination


class PlanOutcome(BaseModel):
    """How a plan ended; the payload of the goal's response event.

    ``forced`` marks a completion the planner made itself (the action limit was reached);
    ``substituted`` one whose vague result was replaced by the content the plan received.
    """

    model_config = ConfigDict(frozen=True)

    plan_id: str
    status: Literal["completed", "failed"]
    termination: Termination = "goal_completed"
    """Why the plan ended, for programs: goal_completed, action_limit, budget, guard_stopped,
    guard_failed, invalid_decisions, step_limit, model_failed, cancelled, review_rejected,
    review_timeout or invalid_goal (``reason`` says it in words)."""
    result: str | None = None
    reason: str | None = None
    forced: bool = False
    substituted: bool = False
    actions: int = 0
    steps: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    compensations: list[dict[str, Any]] = Field(default_factory=list)
    """For a failed plan: each compensation owed, newest action first, and what came of it."""

    @property
    def ok(self) -> bool:
        """True when the plan completed (forced completions included)."""
        return self.status == "completed"


StepKind = Literal[
    "decision", "rejected", "published", "waiting", "result", "timeout", "completed", "failed"
]


class StepRecord(BaseModel):
    """One entry of a plan's history: what happened at a step, and what it cost."""

    model_config = ConfigDict(frozen=True)

    plan_id: str
    step: int
    kind: StepKind
    event: str | None = None
    correlation_id: str | None = None
    """For a published request and its result (or timeout): the request's correlation id, so
    a timeline pairs them without relying on order."""
    decision: PlannerDecision | None = None
    reasoning: str | None = None
    guard_trips: list[dict[str, Any]] = Field(default_factory=list)
    note: str | None = None
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    latency_ms: float | None = None
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
