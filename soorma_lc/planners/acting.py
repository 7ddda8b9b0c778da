"""The ``act`` node: carry out a checked decision (publish, delegate, wait, or pause for review).

Publishing reserves the action first, atomically and once per step (the circuit breaker); the
request id derives from (plan, step, attempt), so a re-run publishes nothing new. Then the plan
waits in ``decide`` for the result, under a durable deadline when one is set.
"""

from __future__ import annotations

import logging
import time

from langchain_core.messages import ToolMessage
from langgraph.types import Command

from soorma_lc.errors import InvalidEventError
from soorma_lc.events import EventDefinition, EventEnvelope
from soorma_lc.memory.plans import PlanStatus
from soorma_lc.planners.compensation import compensation_spec
from soorma_lc.planners.config import PlannerServices
from soorma_lc.planners.decisions import WAIT_FOR_EVENT, Decision
from soorma_lc.planners.envelopes import derived_id, request_envelope
from soorma_lc.planners.plan_record import set_status
from soorma_lc.planners.policies import REVIEW_REQUESTED_EVENT
from soorma_lc.planners.prompts import rejection_message
from soorma_lc.planners.state import Awaiting, Outcome, PlannerState
from soorma_lc.planners.step import StepUpdate, awaiting_timer, scope
from soorma_lc.planners.vague import best_content

logger = logging.getLogger(__name__)


class Acting:
    """The ``act`` node, bound to the planner's services."""

    def __init__(self, services: PlannerServices) -> None:
        self.s = services
        self.config = services.config

    async def __call__(self, state: PlannerState) -> Command:
        step = StepUpdate(state["goal"], state["step"])
        decision = Decision.from_dict(state["pending"] or {})
        if decision.kind == "wait":
            return await self._wait(step, decision)
        if decision.kind == "escalate":
            return await self._escalate(step, decision)
        return await self._publish(step, state, decision)

    async def _publish(self, step: StepUpdate, state: PlannerState, decision: Decision) -> Command:
        goal, config = step.goal, self.config
        event = EventDefinition.model_validate(decision.definition or {})
        reservation = await self.s.ledger.reserve_action(
            goal["plan_id"], step.step, event.event_name, config.max_actions, **scope(goal)
        )
        if not reservation.allowed:
            return await self._limit_reached(step, state, decision)
        envelope = request_envelope(
            goal,
            event,
            decision.payload,
            step=step.step,
            attempt=decision.attempt,
            source=config.name,
        )
        await self.s.bus.publish(envelope)
        if decision.attempt == 0:
            step.add(
                "actions",
                {
                    "step": step.step,
                    "event": event.event_name,
                    "payload": decision.payload,
                    "request_id": envelope.id,
                    "compensation": _compensation(event),
                },
            )
        attempt = f", attempt {decision.attempt + 1}" if decision.attempt else ""
        step.record(
            "published",
            event=event.event_name,
            correlation_id=envelope.correlation_id,
            note=f"action {reservation.count} of {config.max_actions}{attempt}",
        )
        if envelope.response_event is None:
            ack = f"Published {event.event_name}; no result is expected."
            step.add(
                "messages", ToolMessage(ack, tool_call_id=decision.tool_call_id, name=decision.tool)
            )
            return step.go("decide", pending=None)
        awaiting = Awaiting(
            kind="result",
            step=step.step,
            tool_call_id=decision.tool_call_id,
            tool=decision.tool,
            event=event.event_name,
            correlation_id=envelope.correlation_id,
            accept=[*decision.accept, envelope.id],
            attempt=decision.attempt,
            decision=decision.as_dict(),
            token=envelope.id,
            deadline=None,
        )
        if config.response_timeout:
            timeout = config.response_timeout
            if config.retry is not None:
                timeout = config.retry.timeout(timeout, decision.attempt)
            awaiting["deadline"] = time.time() + timeout
            await self.s.timers.schedule(awaiting_timer(goal, awaiting))
        return step.go("decide", awaiting=awaiting, pending=None)

    async def _wait(self, step: StepUpdate, decision: Decision) -> Command:
        goal = step.goal
        awaiting = Awaiting(
            kind="event",
            step=step.step,
            tool_call_id=decision.tool_call_id,
            tool=WAIT_FOR_EVENT,
            event=decision.event or "",
            correlation_id=None,
            token=f"wait:{goal['plan_id']}:{step.step}",
            deadline=time.time() + float(decision.timeout_seconds or 3600),
        )
        await self.s.timers.schedule(awaiting_timer(goal, awaiting))
        await set_status(self.s.memory, goal, PlanStatus.PAUSED)
        step.record("waiting", event=awaiting["event"], note=decision.reasoning or None)
        return step.go("decide", awaiting=awaiting, pending=None)

    async def _escalate(self, step: StepUpdate, decision: Decision) -> Command:
        """Pause for a person: status paused, a review request published, the graph waiting."""
        goal, policy = step.goal, self.config.escalation
        assert policy is not None
        review_id = derived_id(goal["plan_id"], "review", step.step)
        await self.s.bus.publish(
            EventEnvelope(
                id=review_id,
                source=self.config.name,
                type=REVIEW_REQUESTED_EVENT,
                topic=policy.topic,
                data={
                    "plan_id": goal["plan_id"],
                    "goal_event": goal["event"],
                    "goal_data": goal["data"],
                    "reason": decision.reasoning,
                    "step": step.step,
                },
                plan_id=goal["plan_id"],
                correlation_id=review_id,
                tenant_id=goal["tenant_id"],
                user_id=goal["user_id"],
                session_id=goal.get("session_id"),
            )
        )
        awaiting = Awaiting(
            kind="review",
            step=step.step,
            tool_call_id="",
            tool="",
            event=REVIEW_REQUESTED_EVENT,
            correlation_id=review_id,
            token=f"review:{goal['plan_id']}:{step.step}",
            deadline=time.time() + policy.timeout,
        )
        await self.s.timers.schedule(awaiting_timer(goal, awaiting))
        await set_status(self.s.memory, goal, PlanStatus.PAUSED)
        step.record("waiting", event=REVIEW_REQUESTED_EVENT, note=f"review: {decision.reasoning}")
        return step.go("decide", awaiting=awaiting, pending=None)

    async def _limit_reached(
        self, step: StepUpdate, state: PlannerState, decision: Decision
    ) -> Command:
        """The circuit breaker: publish nothing more, complete with the best content held."""
        goal = step.goal
        reason = (
            f"action limit reached ({self.config.max_actions} actions); "
            f"{decision.event} was not published"
        )
        memory = await self.s.memory.get_all_plan_state(goal["plan_id"], **scope(goal))
        trip = {"guard": "action_limit", "action": "stop", "reason": reason}
        step.record("rejected", event=decision.event, note=reason, guard_trips=[trip])
        step.add("messages", rejection_message(decision.tool_call_id, decision.tool, reason))
        content = best_content(state.get("results", []), memory)
        outcome = Outcome(
            status="completed",
            termination="action_limit",
            result=content,
            reason=reason,
            forced=True,
        )
        return step.end(outcome)


def _compensation(event: EventDefinition) -> dict | None:
    """The event's compensation spec; a malformed one is logged and treated as none."""
    try:
        return compensation_spec(event.metadata)
    except InvalidEventError as exc:
        logger.warning("event %s: %s; it will not be compensated", event.event_name, exc)
        return None
