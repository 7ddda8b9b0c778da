"""The events a planner publishes: requests for its decisions, and the answer to its goal.

Their ids derive from the plan and the step (or the outcome), so a step that runs again after a
crash publishes the same id, and the bus's idempotency by id drops the copy.
"""

from __future__ import annotations

import uuid
from typing import Any

from soorma_lc.events import EventDefinition, EventEnvelope, EventTopic
from soorma_lc.planners.records import PlanOutcome
from soorma_lc.planners.state import GoalState
from soorma_lc.toolkit.publishing import declared_response_event

_IDS = uuid.UUID("5c6f6f72-6d61-4c63-8e70-6c616e6e6572")  # namespace of derived event ids


def derived_id(*parts: object) -> str:
    """A stable id for a planner side effect: the same parts, the same id."""
    return str(uuid.uuid5(_IDS, "/".join(str(part) for part in parts)))


def request_envelope(
    goal: GoalState,
    event: EventDefinition,
    payload: dict[str, Any],
    *,
    step: int,
    source: str,
    attempt: int = 0,
) -> EventEnvelope:
    """The event step ``step`` publishes (again, for ``attempt`` > 0), carrying the goal's
    scope and routing.

    Action requests (and events that declare a response schema) ask for a result: the
    declared response event, or Soorma's naming convention; the request id is the correlation
    id, so the result finds its way back to this step.
    """
    request_id = derived_id(goal["plan_id"], step, *([attempt] if attempt else []))
    expects_result = event.topic == EventTopic.ACTION_REQUESTS or event.response_schema is not None
    response_event = declared_response_event(event) if expects_result else None
    return EventEnvelope(
        id=request_id,
        source=source,
        type=event.event_name,
        topic=event.topic,
        data=payload,
        correlation_id=request_id,
        tenant_id=goal["tenant_id"],
        user_id=goal["user_id"],
        session_id=goal.get("session_id"),
        goal_id=goal.get("goal_id"),
        trace_id=goal.get("trace_id"),
        plan_id=goal["plan_id"],
        parent_event_id=goal.get("envelope_id"),
        response_event=response_event,
        response_topic=EventTopic.ACTION_RESULTS if response_event else None,
        payload_schema_name=event.payload_schema_name,
        response_schema_name=event.response_schema_name if response_event else None,
    )


def outcome_envelopes(goal: GoalState, report: PlanOutcome, *, source: str) -> list[EventEnvelope]:
    """The goal's response event (when the goal asked for one) and Soorma's ``plan.completed``
    / ``plan.failed`` system event."""
    data = report.model_dump(mode="json")
    common: dict[str, Any] = {
        "source": source,
        "tenant_id": goal["tenant_id"],
        "user_id": goal["user_id"],
        "session_id": goal.get("session_id"),
        "goal_id": goal.get("goal_id"),
        "trace_id": goal.get("trace_id"),
        "parent_event_id": goal.get("envelope_id"),
        "correlation_id": goal.get("correlation_id") or goal.get("envelope_id"),
        "data": data,
    }
    envelopes = []
    if goal.get("response_event"):
        envelopes.append(
            EventEnvelope(
                id=derived_id(goal["plan_id"], "outcome"),
                type=goal["response_event"],
                topic=goal.get("response_topic") or EventTopic.ACTION_RESULTS,
                plan_id=goal.get("parent_plan_id"),  # the requester's plan, if a planner asked
                **common,
            )
        )
    envelopes.append(
        EventEnvelope(
            id=derived_id(goal["plan_id"], "system", report.status),
            type=f"plan.{report.status}",
            topic=EventTopic.SYSTEM_EVENTS,
            plan_id=goal["plan_id"],
            **common,
        )
    )
    return envelopes
