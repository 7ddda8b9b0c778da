"""The planner graph's state: what a plan knows between events, kept in its checkpoint.

Plain dicts and LangChain messages only, so any LangGraph checkpointer stores it and
``get_state`` shows it as is. ``messages`` is the conversation the model sees (goal, decisions,
results, guard feedback); the other keys are the plan's bookkeeping.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, NotRequired, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages


class GoalState(TypedDict):
    """The goal a plan serves and where its outcome goes (from the goal envelope)."""

    event: str
    data: dict[str, Any]
    plan_id: str
    tenant_id: str
    user_id: str
    session_id: NotRequired[str | None]
    correlation_id: NotRequired[str | None]
    response_event: NotRequired[str | None]
    response_topic: NotRequired[str | None]
    envelope_id: NotRequired[str | None]
    parent_plan_id: NotRequired[str | None]
    goal_id: NotRequired[str | None]
    trace_id: NotRequired[str | None]


class Awaiting(TypedDict):
    """What the plan waits for while its graph is interrupted."""

    kind: Literal["result", "event", "review", "compensation"]
    step: int
    tool_call_id: str
    tool: str
    event: str
    """``result``/``compensation``: the request published; ``event``: the event waited for;
    ``review``: the review request."""
    correlation_id: str | None
    """A result must carry this correlation id (the request's id)..."""
    accept: NotRequired[list[str]]
    """...or one of these (every attempt of a retried request)."""
    attempt: NotRequired[int]
    decision: NotRequired[dict[str, Any] | None]
    """The decision a retry publishes again."""
    token: str
    """Names this wait in timers: the request id, or ``wait:<plan>:<step>``."""
    deadline: float | None
    """Epoch seconds after which the durable timer resumes the plan with a timeout."""


class ResultRecord(TypedDict):
    """One result (or awaited event) the plan received."""

    step: int
    event: str
    data: dict[str, Any]
    source: NotRequired[str | None]
    request: NotRequired[str | None]
    vague: NotRequired[bool]


class ActionRecord(TypedDict):
    """One event the plan published (a request or a delegated goal)."""

    step: int
    event: str
    payload: dict[str, Any]
    request_id: str
    compensation: NotRequired[dict[str, Any] | None]
    """The event's compensation spec, if it declares one (see ``compensation``)."""


class Outcome(TypedDict):
    """How the plan ended."""

    status: Literal["completed", "failed"]
    result: str | None
    reason: NotRequired[str | None]
    forced: NotRequired[bool]
    substituted: NotRequired[bool]


class Usage(TypedDict):
    """Model usage summed over the plan."""

    input_tokens: int
    output_tokens: int
    cost_usd: float


class PlannerState(TypedDict, total=False):
    """One plan's state in its checkpoint (thread_id = plan_id)."""

    goal: GoalState
    messages: Annotated[list[AnyMessage], add_messages]
    step: int
    """Decisions accepted so far; request ids derive from (plan_id, step)."""
    repairs: int
    """Consecutive rejected decisions; past ``max_repairs`` the plan fails."""
    vague_retries: int
    results: Annotated[list[ResultRecord], operator.add]
    actions: Annotated[list[ActionRecord], operator.add]
    found_events: list[str]
    """Events the model found with ``find_events``; offered from then on."""
    pending: dict[str, Any] | None
    """The accepted decision the next node carries out."""
    awaiting: Awaiting | None
    outcome: Outcome | None
    report: dict[str, Any] | None
    """The final :class:`~soorma_lc.planners.records.PlanOutcome` (the goal's answer)."""
    usage: Usage
    started_at: float
    """Epoch seconds when the plan opened (the time budget counts from here)."""
    late: list[str]
    """Correlation ids of requests that timed out: a late result is still taken, once."""
    compensations: list[dict[str, Any]]
    """Compensations still to publish (a failed plan undoing its actions, newest first)."""
    compensated: Annotated[list[dict[str, Any]], operator.add]
    """What each compensation came to."""
    history: Annotated[list[dict[str, Any]], operator.add]
    """One :class:`~soorma_lc.planners.records.StepRecord` per thing that happened, in order."""
