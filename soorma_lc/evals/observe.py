"""What a trial showed: the plan's outcome, step history, actions and results, read back from
the planner's checkpoint, and what they add up to (trajectory, decisions, termination)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from soorma_lc.planners.records import PlanOutcome, StepRecord

SCHEMA_REJECTIONS = ("do not match the schema", "goal_data does not match")
"""How the planner words a payload (or delegated goal data) that fails its schema."""
PAYLOAD_GUARDS = frozenset({"repeated_action", "action_limit"})
"""Guards that stop a publication after its payload passed the schema."""


@dataclass(frozen=True)
class Observation:
    """One trial's plan as the planner left it."""

    outcome: PlanOutcome | None
    history: list[StepRecord] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    fatal: bool = False
    """A harness problem ended the trial (see :class:`~soorma_lc.evals.problems.TrialProblems`)."""
    latency_s: float = 0.0

    @property
    def trajectory(self) -> list[str]:
        """The events published, in order (requests and delegated goals)."""
        return [str(action["event"]) for action in self.actions]

    @property
    def decisions(self) -> list[str]:
        """Accepted decisions in order: the event published, ``complete_goal``, or
        ``wait_for_event:<event>`` (searches are not decisions about the goal)."""
        names = []
        for record in self.history:
            if record.kind != "decision" or record.decision is None:
                continue
            action = record.decision.next_action
            if action.action == "publish":
                names.append(action.event_type)
            elif action.action == "delegate":
                names.append(action.goal_event)
            elif action.action == "wait":
                names.append(f"wait_for_event:{action.expected_event}")
            else:
                names.append("complete_goal")
        return names

    def count(self, kind: str) -> int:
        return sum(1 for record in self.history if record.kind == kind)

    @property
    def guard_trips(self) -> Counter[str]:
        return Counter(trip["guard"] for r in self.history for trip in r.guard_trips)

    @property
    def schema_invalid(self) -> int:
        """Payloads the model proposed that failed their schema."""
        return sum(
            1
            for r in self.history
            if r.kind == "rejected" and any(m in (r.note or "") for m in SCHEMA_REJECTIONS)
        )

    @property
    def schema_valid(self) -> int:
        """Payloads that passed their schema: publications, and publications a guard or the
        action limit stopped after the schema check."""
        stopped = sum(
            1
            for r in self.history
            if r.kind == "rejected" and any(t["guard"] in PAYLOAD_GUARDS for t in r.guard_trips)
        )
        return len(self.actions) + stopped

    @property
    def vague_results(self) -> int:
        return sum(
            1 for r in self.history if r.kind == "result" and "looks vague" in (r.note or "")
        )

    @property
    def abstained(self) -> bool:
        """Completed on its own without publishing anything."""
        outcome = self.outcome
        return bool(outcome and outcome.ok and not outcome.forced and not self.actions)

    def latest_result(self, event: str) -> dict[str, Any] | None:
        """The data of the latest result ``event`` the plan received."""
        found = [r for r in self.results if r.get("event") == event]
        return found[-1].get("data") if found else None

    @property
    def termination(self) -> str:
        """Why the trial ended (see :data:`soorma_lc.evals.scenario.Termination`)."""
        outcome = self.outcome
        if self.fatal:
            return "harness_error"
        if outcome is None:
            return "no_outcome"
        reason = outcome.reason or ""
        if outcome.ok and not outcome.forced:
            return "completed"
        for marker, termination in _FORCED_REASONS if outcome.ok else _FAILURE_REASONS:
            if re.search(marker, reason):
                return termination
        if outcome.ok:
            return "forced"
        failed = [r for r in self.history if r.kind == "failed"]
        if failed and failed[-1].guard_trips:
            return "guard"
        return "failed"

    @property
    def loop(self) -> bool:
        return self.guard_trips["repeated_action"] > 0 or self.termination in (
            "action_limit",
            "step_limit",
        )


_FORCED_REASONS = (
    (r"action limit reached", "action_limit"),
    (r"budget exhausted", "budget"),
)
"""How the planner words a forced completion (PlanOutcome.reason) -> termination."""
_FAILURE_REASONS = (
    (r"invalid decisions in a row", "invalid_decisions"),
    (r"the plan made \d+ decisions", "step_limit"),
    (r"^the model failed", "model_error"),
    (r"^the goal's data is invalid", "invalid_goal"),
    (r"^cancelled", "cancelled"),
    (r"^a reviewer stopped the plan|^no review arrived", "review"),
)
"""How the planner words its failures (PlanOutcome.reason) -> termination."""
