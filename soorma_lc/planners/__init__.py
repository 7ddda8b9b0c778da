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
    LoopGuard,
    PlanView,
    RepeatedActionGuard,
    StallGuard,
    VagueCompletionGuard,
    default_guards,
    llm_vagueness_judge,
)
from soorma_lc.planners.planner import ChoreographyPlanner
from soorma_lc.planners.policies import (
    CANCEL_EVENT,
    REVIEW_COMPLETED_EVENT,
    REVIEW_REQUESTED_EVENT,
    Budget,
    EscalationPolicy,
    RetryPolicy,
)
from soorma_lc.planners.records import PlanOutcome, StepRecord
from soorma_lc.planners.waiting import answer, awaits

__all__ = [
    "CANCEL_EVENT",
    "COMPLETE_GOAL",
    "DELEGATE_GOAL",
    "FIND_EVENTS",
    "REVIEW_COMPLETED_EVENT",
    "REVIEW_REQUESTED_EVENT",
    "WAIT_FOR_EVENT",
    "Budget",
    "ChoreographyPlanner",
    "EscalationPolicy",
    "Guard",
    "GuardTrip",
    "LoopGuard",
    "PlanOutcome",
    "PlanView",
    "PlannerDecision",
    "RepeatedActionGuard",
    "RetryPolicy",
    "StallGuard",
    "StepRecord",
    "VagueCompletionGuard",
    "answer",
    "awaits",
    "default_guards",
    "llm_vagueness_judge",
]
