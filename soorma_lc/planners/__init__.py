"""The ChoreographyPlanner: LLM-planned, event-driven choreography on LangGraph."""

from soorma_lc.planners.decisions import (
    COMPLETE_GOAL,
    DELEGATE_GOAL,
    FIND_EVENTS,
    WAIT_FOR_EVENT,
    PlannerDecision,
)
from soorma_lc.planners.guards import (
    Guard,
    GuardTrip,
    PlanView,
    RepeatedActionGuard,
    VagueCompletionGuard,
    default_guards,
    llm_vagueness_judge,
)
from soorma_lc.planners.planner import ChoreographyPlanner
from soorma_lc.planners.records import PlanOutcome, StepRecord
from soorma_lc.planners.waiting import answer, awaits

__all__ = [
    "COMPLETE_GOAL",
    "DELEGATE_GOAL",
    "FIND_EVENTS",
    "WAIT_FOR_EVENT",
    "ChoreographyPlanner",
    "Guard",
    "GuardTrip",
    "PlanOutcome",
    "PlanView",
    "PlannerDecision",
    "RepeatedActionGuard",
    "StepRecord",
    "VagueCompletionGuard",
    "answer",
    "awaits",
    "default_guards",
    "llm_vagueness_judge",
]
