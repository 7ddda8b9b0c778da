"""One node run's view of its plan: the goal, the step number, the state update it builds."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from langgraph.types import Command

from soorma_lc.planners.records import StepRecord
from soorma_lc.planners.state import Awaiting, GoalState, Outcome
from soorma_lc.planners.timers import PlanTimer

logger = logging.getLogger("soorma_lc.planners")


def scope(goal: GoalState) -> dict[str, str]:
    """The plan's tenant and user, as keyword arguments for the memory calls."""
    return {"tenant_id": goal["tenant_id"], "user_id": goal["user_id"]}


def deadline_token(plan_id: str) -> str:
    """The timer token of a plan's wall-clock budget."""
    return f"deadline:{plan_id}"


def timer_for(goal: GoalState, token: str, due: float) -> PlanTimer:
    """The durable timer that resumes the plan with a timeout for ``token`` at ``due``."""
    return PlanTimer(
        plan_id=goal["plan_id"],
        tenant_id=goal["tenant_id"],
        user_id=goal["user_id"],
        token=token,
        due=float(due),
    )


def awaiting_timer(goal: GoalState, awaiting: Awaiting) -> PlanTimer:
    return timer_for(goal, awaiting["token"], awaiting.get("deadline") or 0)


@dataclass
class StepUpdate:
    """A node run: the goal, the step number and the state update being built."""

    goal: GoalState
    step: int
    update: dict[str, Any] = field(default_factory=dict)

    def record(self, kind: str, **fields: Any) -> None:
        """Log what happened and append it to the plan's history (written with the step)."""
        record = StepRecord(plan_id=self.goal["plan_id"], step=self.step, kind=kind, **fields)
        logger.info(
            "plan %s step %d %s%s%s",
            record.plan_id,
            record.step,
            kind,
            f" {record.event}" if record.event else "",
            f": {record.note}" if record.note else "",
        )
        self.update.setdefault("history", []).append(record.model_dump(mode="json"))

    def add(self, key: str, *items: Any) -> None:
        """Append to a list the update carries (messages, results, actions, ...)."""
        self.update.setdefault(key, []).extend(items)

    def go(self, node: str, **update: Any) -> Command:
        return Command(goto=node, update={**self.update, **update})

    def end(self, outcome: Outcome, compensations: list[dict[str, Any]] | None = None) -> Command:
        """Close the plan with ``outcome``: through its compensations first when it failed
        after completing actions that declare one (a Saga), else straight to ``finish``."""
        update = {"outcome": outcome, "pending": None, "awaiting": None}
        if compensations:
            return self.go("compensate", compensations=compensations, **update)
        return self.go("finish", **update)
