"""What a waiting plan waits for, and the resume values that answer it.

A plan waits (interrupted in its graph) for the result of a request (matched by correlation
id), for a named event (``wait_for_event``), or for its deadline (matched by the wait's token).
The runtime resumes the graph with whatever arrives; the graph keeps waiting if it is not the
answer, so a duplicate, late or stray event never advances a plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from soorma_lc.events import EventEnvelope
from soorma_lc.planners.policies import REVIEW_COMPLETED_EVENT


def answer(envelope: EventEnvelope) -> dict[str, Any]:
    """The resume value that hands ``envelope`` to a waiting plan: ``Command(resume=...)``."""
    return {
        "kind": "event",
        "event": envelope.type,
        "data": dict(envelope.data or {}),
        "source": envelope.source,
        "event_id": envelope.id,
        "correlation_id": envelope.correlation_id,
    }


def timeout_answer(token: str) -> dict[str, Any]:
    """The resume value telling a plan that the wait named ``token`` ran out of time."""
    return {"kind": "timeout", "token": token}


def answers(waiting: Mapping[str, Any], value: Mapping[str, Any]) -> bool:
    """Whether the resume ``value`` answers what ``waiting`` describes (the plan state's
    ``awaiting``, or the planner's interrupt value, which carries the same keys)."""
    if value.get("kind") == "timeout":
        return value.get("token") == waiting.get("token")
    if waiting.get("kind") in ("result", "compensation"):
        accepted = waiting.get("accept") or [waiting.get("correlation_id")]
        correlation = value.get("correlation_id")
        return correlation is not None and correlation in accepted
    if waiting.get("kind") == "review":
        return value.get("event") == REVIEW_COMPLETED_EVENT
    return value.get("event") == waiting.get("event")


def awaits(waiting: Mapping[str, Any], envelope: EventEnvelope) -> bool:
    """Whether ``envelope`` is what a waiting plan waits for."""
    return answers(waiting, answer(envelope))


def waiting_for(values: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """What a graph run's result (``ainvoke``'s return value) says the plan now waits for."""
    interrupts = values.get("__interrupt__") or ()
    return interrupts[0].value if interrupts else None
