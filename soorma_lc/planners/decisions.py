"""What the model may decide each step, and how its reply becomes one checked decision.

The model answers with native tool calls: one event tool per actionable event (publish it),
plus the built-in decision tools defined here. :func:`read_reply` turns the reply into exactly
one :class:`Decision` or a :class:`Rejection` that goes back to the model with the reason.
Each decision is also available in Soorma's ``PlannerDecision`` shape.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.messages import AIMessage
from pydantic import BaseModel, ConfigDict, Field, ValidationError

COMPLETE_GOAL = "complete_goal"
WAIT_FOR_EVENT = "wait_for_event"
DELEGATE_GOAL = "delegate_goal"
FIND_EVENTS = "find_events"
DECISION_TOOLS = (COMPLETE_GOAL, WAIT_FOR_EVENT, DELEGATE_GOAL, FIND_EVENTS)

DecisionKind = Literal["publish", "complete", "wait", "delegate", "find", "escalate"]


class CompleteGoalArgs(BaseModel):
    """Finish the plan: return the final answer to whoever set the goal. Call it when the goal
    is met, or when no available event can serve it (then say why in `result`)."""

    model_config = ConfigDict(extra="forbid")

    result: str = Field(
        min_length=1,
        description="The final answer itself: the full text, data or findings. Never a "
        "description of it such as 'the draft is ready' or 'see above'.",
    )
    reasoning: str = Field(default="", description="Why the goal is met now.")


class WaitForEventArgs(BaseModel):
    """Pause the plan until another agent or a person publishes an event for it."""

    model_config = ConfigDict(extra="forbid")

    event_name: str = Field(min_length=1, description="The event that resumes the plan.")
    timeout_seconds: float = Field(
        default=3600, gt=0, le=30 * 24 * 3600, description="How long to wait at most."
    )
    reason: str = Field(default="", description="Why the plan has to wait.")


class DelegateGoalArgs(BaseModel):
    """Hand a sub-goal to another planner and wait for its outcome."""

    model_config = ConfigDict(extra="forbid")

    goal_event: str = Field(min_length=1, description="The other planner's goal event.")
    goal_data: dict[str, Any] = Field(default_factory=dict, description="The goal's payload.")
    reasoning: str = Field(default="", description="Why another planner should do this.")


class FindEventsArgs(BaseModel):
    """Search the registry for events that are not among your tools, in your own words."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, description="What the event should do.")


DECISION_ARGS: dict[str, type[BaseModel]] = {
    COMPLETE_GOAL: CompleteGoalArgs,
    WAIT_FOR_EVENT: WaitForEventArgs,
    DELEGATE_GOAL: DelegateGoalArgs,
    FIND_EVENTS: FindEventsArgs,
}


@functools.cache
def _parameters(name: str) -> str:
    """The JSON Schema of a decision tool's arguments, as JSON text (made once per tool)."""
    schema = DECISION_ARGS[name].model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
    return json.dumps(schema)


def decision_tool(name: str, description: str | None = None) -> dict[str, Any]:
    """The OpenAI-format tool dict for a built-in decision tool (a fresh copy each call)."""
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description or (DECISION_ARGS[name].__doc__ or "").strip(),
            "parameters": json.loads(_parameters(name)),
        },
    }


@dataclass(frozen=True)
class Decision:
    """One accepted decision of one step."""

    kind: DecisionKind
    tool_call_id: str
    tool: str
    """The tool the model called (an event tool's name, or a decision tool)."""
    event: str | None = None
    """The event to publish (publish), goal event (delegate) or awaited event (wait)."""
    payload: dict[str, Any] = field(default_factory=dict)
    result: str | None = None
    reasoning: str = ""
    timeout_seconds: float | None = None
    query: str | None = None
    definition: dict[str, Any] | None = None
    """The event's definition as offered (publish, delegate), so acting needs no lookup."""
    attempt: int = 0
    """0 for the first publication; a retry after a missed deadline counts up."""
    accept: tuple[str, ...] = ()
    """Correlation ids of earlier attempts whose result is still taken."""

    def as_dict(self) -> dict[str, Any]:
        """For the plan state (checkpointed as plain data)."""
        return {
            "kind": self.kind,
            "tool_call_id": self.tool_call_id,
            "tool": self.tool,
            "event": self.event,
            "payload": self.payload,
            "result": self.result,
            "reasoning": self.reasoning,
            "timeout_seconds": self.timeout_seconds,
            "query": self.query,
            "definition": self.definition,
            "attempt": self.attempt,
            "accept": list(self.accept),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        fields = dict(data)
        fields["accept"] = tuple(fields.get("accept") or ())
        return cls(**fields)


@dataclass(frozen=True)
class Rejection:
    """A reply that cannot be carried out, with the reason the model gets back."""

    reason: str
    tool_call_id: str | None
    """The tool call it answers (None when the reply had no usable tool call)."""
    tool_name: str | None = None


def reply_reasoning(message: AIMessage) -> str:
    """The text the model wrote next to its tool call (its reasoning), if any."""
    content = message.content
    if isinstance(content, str):
        return content.strip()
    parts = [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"]
    return " ".join(part for part in parts if part).strip()


def decision_from_call(name: str, args: Mapping[str, Any], call_id: str) -> Decision | Rejection:
    """A decision tool call checked against its arguments' schema."""
    try:
        parsed = DECISION_ARGS[name].model_validate(dict(args))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}"
            for err in exc.errors(include_url=False)
        )
        return Rejection(f"invalid arguments for {name}: {problems}", call_id, name)
    if isinstance(parsed, CompleteGoalArgs):
        return Decision(
            "complete", call_id, name, result=parsed.result, reasoning=parsed.reasoning.strip()
        )
    if isinstance(parsed, WaitForEventArgs):
        return Decision(
            "wait",
            call_id,
            name,
            event=parsed.event_name,
            timeout_seconds=parsed.timeout_seconds,
            reasoning=parsed.reason.strip(),
        )
    if isinstance(parsed, DelegateGoalArgs):
        return Decision(
            "delegate",
            call_id,
            name,
            event=parsed.goal_event,
            payload=parsed.goal_data,
            reasoning=parsed.reasoning.strip(),
        )
    assert isinstance(parsed, FindEventsArgs)
    return Decision("find", call_id, name, query=parsed.query)


# -- Soorma's PlannerDecision shape ------------------------------------------------------------


class PublishAction(BaseModel):
    """Soorma's PUBLISH: an event for a worker."""

    action: Literal["publish"] = "publish"
    event_type: str
    topic: str | None = "action-requests"
    data: dict[str, Any] = Field(default_factory=dict)
    response_event: str | None = None
    response_topic: str | None = None
    correlation_id: str | None = None
    reasoning: str = ""


class CompleteAction(BaseModel):
    """Soorma's COMPLETE: the plan's result."""

    action: Literal["complete"] = "complete"
    result: dict[str, Any]
    reasoning: str = ""


class WaitAction(BaseModel):
    """Soorma's WAIT: pause until ``expected_event``."""

    action: Literal["wait"] = "wait"
    reason: str = ""
    expected_event: str
    timeout_seconds: int | None = 3600


class DelegateAction(BaseModel):
    """Soorma's DELEGATE: a goal for another planner."""

    action: Literal["delegate"] = "delegate"
    target_planner: str
    goal_event: str
    goal_data: dict[str, Any] = Field(default_factory=dict)
    reasoning: str = ""


PlannerAction = PublishAction | CompleteAction | WaitAction | DelegateAction


class PlannerDecision(BaseModel):
    """A decision in Soorma's ``soorma_common.decisions.PlannerDecision`` shape."""

    plan_id: str
    current_state: str
    next_action: PlannerAction = Field(discriminator="action")
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    reasoning: str = ""


def to_planner_decision(
    decision: Decision,
    *,
    plan_id: str,
    current_state: str,
    topic: str | None = None,
    response_event: str | None = None,
    correlation_id: str | None = None,
    target_planner: str = "",
) -> PlannerDecision | None:
    """``decision`` in Soorma's shape (None for ``find``, which Soorma has no action for)."""
    action: PlannerAction
    if decision.kind == "publish":
        action = PublishAction(
            event_type=decision.event or "",
            topic=topic,
            data=decision.payload,
            response_event=response_event,
            response_topic="action-results" if response_event else None,
            correlation_id=correlation_id,
            reasoning=decision.reasoning,
        )
    elif decision.kind == "complete":
        action = CompleteAction(result={"result": decision.result}, reasoning=decision.reasoning)
    elif decision.kind == "wait":
        action = WaitAction(
            reason=decision.reasoning,
            expected_event=decision.event or "",
            timeout_seconds=int(decision.timeout_seconds or 3600),
        )
    elif decision.kind == "delegate":
        action = DelegateAction(
            target_planner=target_planner,
            goal_event=decision.event or "",
            goal_data=decision.payload,
            reasoning=decision.reasoning,
        )
    else:
        return None
    return PlannerDecision(
        plan_id=plan_id,
        current_state=current_state,
        next_action=action,
        reasoning=decision.reasoning,
    )
