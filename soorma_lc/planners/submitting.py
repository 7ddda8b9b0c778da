"""Submitting a goal from outside any planner: publish it, then wait for the outcome that
whichever planner replica serves its plan publishes. ``ChoreographyPlanner.submit`` and
``soorma-lc plan submit`` both go through here.

The client reads the action-results stream from the position it had before publishing,
without joining a consumer group (nothing is left behind in Redis), and picks the goal's
response event by the correlation id it gave the goal.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from soorma_lc.bus.tail import stream_position, wait_for_event
from soorma_lc.errors import PlanOutcomeTimeoutError
from soorma_lc.events import EventDefinition, EventTopic
from soorma_lc.planners.envelopes import derived_id
from soorma_lc.planners.records import PlanOutcome
from soorma_lc.toolkit.publishing import declared_response_event

if TYPE_CHECKING:
    from soorma_lc.bus.streams import RedisStreamsBus


@dataclass(frozen=True)
class SubmittedGoal:
    """A published goal, and what its outcome will be recognised by."""

    goal_id: str
    plan_id: str
    correlation_id: str
    response_event: str
    after: str
    """The action-results stream position before the goal was published."""


def plan_id_for(goal_event_id: str) -> str:
    """The plan a goal event opens (derived from its id, so redelivery finds the plan)."""
    return derived_id("plan", goal_event_id)


async def publish_goal(
    bus: RedisStreamsBus,
    goal: EventDefinition | str,
    data: Mapping[str, Any] | None = None,
    *,
    tenant_id: str,
    user_id: str,
    session_id: str | None = None,
    source: str,
) -> SubmittedGoal:
    """Publish goal ``goal`` (its definition, or only its name: the response event is then
    ``<name>.completed``) with ``data`` for the given scope."""
    definition = (
        goal
        if isinstance(goal, EventDefinition)
        else EventDefinition(event_name=goal, topic=EventTopic.ACTION_REQUESTS)
    )
    response_event = declared_response_event(definition)
    correlation_id = str(uuid.uuid4())
    after = await stream_position(bus, EventTopic.ACTION_RESULTS)
    goal_id = await bus.request(
        definition.event_name,
        dict(data or {}),
        response_event=response_event,
        correlation_id=correlation_id,
        tenant_id=tenant_id,
        user_id=user_id,
        session_id=session_id,
        source=source,
    )
    return SubmittedGoal(goal_id, plan_id_for(goal_id), correlation_id, response_event, after)


async def await_outcome(
    bus: RedisStreamsBus, submitted: SubmittedGoal, *, timeout: float
) -> PlanOutcome:
    """The outcome of a submitted goal's plan; :class:`PlanOutcomeTimeoutError` after
    ``timeout`` seconds (the plan may still finish later)."""
    reply = await wait_for_event(
        bus,
        EventTopic.ACTION_RESULTS,
        lambda e: (
            e.correlation_id == submitted.correlation_id and e.type == submitted.response_event
        ),
        after=submitted.after,
        timeout=timeout,
    )
    if reply is None:
        raise PlanOutcomeTimeoutError(submitted.plan_id, timeout)
    return PlanOutcome.model_validate(reply.data or {})
