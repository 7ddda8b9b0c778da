"""Events that steer a running plan from outside: cancel it, or answer its review request.

Any process may publish them (the planner's ``cancel`` / ``review``, ``soorma-lc plan
cancel`` / ``plan review``); whichever planner replica serves the plan handles them.
"""

from __future__ import annotations

from soorma_lc.events import EventEnvelope, EventTopic
from soorma_lc.planners.policies import CANCEL_EVENT, REVIEW_COMPLETED_EVENT


def cancel_request(
    plan_id: str, *, tenant_id: str, user_id: str, reason: str, source: str
) -> EventEnvelope:
    """The event asking a plan's planner to cancel it (and run its compensations)."""
    return EventEnvelope(
        type=CANCEL_EVENT,
        topic=EventTopic.PLAN_EVENTS,
        data={"reason": reason},
        plan_id=plan_id,
        tenant_id=tenant_id,
        user_id=user_id,
        source=source,
    )


def review_answer(
    plan_id: str,
    *,
    tenant_id: str,
    user_id: str,
    approve: bool,
    instruction: str | None,
    source: str,
) -> EventEnvelope:
    """The answer to a plan paused for review: go on (with an instruction) or stop."""
    return EventEnvelope(
        type=REVIEW_COMPLETED_EVENT,
        topic=EventTopic.PLAN_EVENTS,
        data={"approved": approve, "instruction": instruction or ""},
        plan_id=plan_id,
        tenant_id=tenant_id,
        user_id=user_id,
        source=source,
    )
