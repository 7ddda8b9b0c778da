"""The nodes around the decisions: ``start`` opens a plan, ``compensate`` undoes a failed plan's
actions (a Saga), ``finish`` closes it, ``answer`` publishes its outcome."""

from __future__ import annotations

import time
from typing import Any

from langgraph.types import Command, interrupt

from soorma_lc.events import EventEnvelope
from soorma_lc.memory.plans import PlanStatus
from soorma_lc.planners.config import PlannerServices
from soorma_lc.planners.envelopes import derived_id, outcome_envelopes
from soorma_lc.planners.plan_record import log_episode, open_plan, set_status
from soorma_lc.planners.prompts import goal_message
from soorma_lc.planners.records import PlanOutcome
from soorma_lc.planners.state import Awaiting, PlannerState, Usage
from soorma_lc.planners.step import StepUpdate, awaiting_timer, deadline_token, scope, timer_for
from soorma_lc.planners.waiting import answers
from soorma_lc.toolkit.publishing import declared_response_event


class Lifecycle:
    """``start``, ``compensate``, ``finish`` and ``answer``, bound to the planner's services."""

    def __init__(self, services: PlannerServices) -> None:
        self.s = services
        self.config = services.config

    async def start(self, state: PlannerState) -> dict[str, Any]:
        """Open the plan record, put the goal first in the conversation, and set the plan's
        wall-clock deadline (a durable timer) when a time budget applies."""
        goal = state["goal"]
        await open_plan(self.s.memory, goal)
        started_at = state.get("started_at") or time.time()
        budget = self.config.budget
        if budget is not None and budget.seconds is not None:
            due = started_at + budget.seconds
            await self.s.timers.schedule(timer_for(goal, deadline_token(goal["plan_id"]), due))
        message = goal_message(goal["event"], goal["data"])
        message.id = f"goal-{goal['plan_id']}"
        step = StepUpdate(goal, 0)
        step.record("decision", event=goal["event"], note="plan opened")
        return {
            **step.update,
            "messages": [message],
            "step": 0,
            "repairs": 0,
            "found_events": [],
            "late": [],
            "awaiting": None,
            "pending": None,
            "started_at": started_at,
            "usage": Usage(input_tokens=0, output_tokens=0, cost_usd=0.0),
        }

    async def compensate(self, state: PlannerState) -> Command:
        """Publish the owed compensations one by one, newest action first, each after the
        previous one's result (or deadline); record what each came to; then finish."""
        goal = state["goal"]
        step = StepUpdate(goal, state.get("step", 0))
        waiting = state.get("awaiting")
        if waiting:
            value = interrupt({"plan_id": goal["plan_id"], **waiting})
            while not answers(waiting, value):  # anything else, a cancel included, waits on
                value = interrupt({"plan_id": goal["plan_id"], **waiting})
            await self.s.timers.cancel(awaiting_timer(goal, waiting))
            timed_out = value.get("kind") == "timeout"
            done = {
                "event": waiting["event"],
                "status": "timed out" if timed_out else "done",
                "result": None if timed_out else value.get("data"),
            }
            step.add("compensated", done)
            step.record(
                "timeout" if timed_out else "result",
                event=waiting["event"],
                note=f"compensation {done['status']}",
            )
        owed = list(state.get("compensations") or [])
        while owed:
            item = owed.pop(0)
            event = None if "error" in item else await self.s.toolkit.get_event_info(item["event"])
            if event is None:
                why = item.get("error") or f"{item['event']} is not registered"
                step.add(
                    "compensated", {"event": item["event"], "status": "skipped", "reason": why}
                )
                step.record("rejected", event=item["event"], note=f"compensation skipped: {why}")
                continue
            request_id = derived_id(goal["plan_id"], "compensate", item["step"])
            response_event = declared_response_event(event)
            await self.s.bus.publish(
                EventEnvelope(
                    id=request_id,
                    source=self.config.name,
                    type=event.event_name,
                    topic=event.topic,
                    data=item["payload"],
                    correlation_id=request_id,
                    plan_id=goal["plan_id"],
                    tenant_id=goal["tenant_id"],
                    user_id=goal["user_id"],
                    session_id=goal.get("session_id"),
                    response_event=response_event,
                )
            )
            step.record(
                "published",
                event=event.event_name,
                note=f"compensates {item['undoes']} (step {item['step']})",
            )
            awaiting = Awaiting(
                kind="compensation",
                step=item["step"],
                tool_call_id="",
                tool="",
                event=event.event_name,
                correlation_id=request_id,
                token=request_id,
                deadline=time.time() + self.config.compensation_timeout,
            )
            await self.s.timers.schedule(awaiting_timer(goal, awaiting))
            return step.go("compensate", compensations=owed, awaiting=awaiting)
        return step.go("finish", compensations=[], awaiting=None)

    async def finish(self, state: PlannerState) -> dict[str, Any]:
        """Close the plan with its outcome and remember the exchange."""
        goal, outcome = state["goal"], state["outcome"]
        assert outcome is not None
        usage = state.get("usage") or Usage(input_tokens=0, output_tokens=0, cost_usd=0.0)
        report = PlanOutcome(
            plan_id=goal["plan_id"],
            status=outcome["status"],
            result=outcome.get("result"),
            reason=outcome.get("reason"),
            forced=bool(outcome.get("forced")),
            substituted=bool(outcome.get("substituted")),
            actions=await self.s.ledger.action_count(goal["plan_id"], **scope(goal)),
            steps=state.get("step", 0),
            input_tokens=usage["input_tokens"],
            output_tokens=usage["output_tokens"],
            cost_usd=round(usage["cost_usd"], 8),
            compensations=list(state.get("compensated") or []),
        )
        budget = self.config.budget
        if budget is not None and budget.seconds is not None and state.get("started_at"):
            due = state["started_at"] + budget.seconds
            await self.s.timers.cancel(timer_for(goal, deadline_token(goal["plan_id"]), due))
        final = PlanStatus.COMPLETED if report.ok else PlanStatus.FAILED
        await set_status(self.s.memory, goal, final, force_running=True)
        if self.config.log_episodes:
            await log_episode(self.s.memory, self.config.name, goal, report)
        if self.config.cleanup_on_completion:
            await self.s.memory.cleanup_plan(goal["plan_id"], **scope(goal))
        step = StepUpdate(goal, report.steps)
        step.record(report.status, note=report.reason or (report.result or "")[:200])
        return {**step.update, "report": report.model_dump(mode="json"), "pending": None}

    async def answer(self, state: PlannerState) -> dict[str, Any]:
        """Publish the outcome, once the closed plan and its history are checkpointed: whoever
        receives it finds the plan as it ended."""
        report = PlanOutcome.model_validate(state["report"])
        for envelope in outcome_envelopes(state["goal"], report, source=self.config.name):
            await self.s.bus.publish(envelope)
        return {}
