"""The ``decide`` node: take in what the plan waited for, then ask the model for one decision
and check it before anything leaves the process.

The graph waits here, interrupted, until the runtime resumes it with what arrived. A duplicate,
late or stray event is ignored (or, for a request that had timed out, taken once), a cancel
request or the plan's time budget ends the plan, and a missed response deadline publishes the
request again under the retry policy. Then the model decides, within the budgets and limits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.types import Command, interrupt

from soorma_lc.errors import (
    ContextWindowExceededError,
    MalformedToolCallError,
    ModelError,
    ModelRateLimitError,
    ModelUnavailableError,
)
from soorma_lc.memory.plans import PlanStatus
from soorma_lc.planners.compensation import plan_compensations
from soorma_lc.planners.config import PlannerServices
from soorma_lc.planners.decisions import (
    COMPLETE_GOAL,
    FIND_EVENTS,
    Decision,
    Rejection,
    to_planner_decision,
)
from soorma_lc.planners.guards import GuardTrip, PlanView
from soorma_lc.planners.ledger import ACTION_COUNT_KEY
from soorma_lc.planners.offer import Offer, build_offer, find_events
from soorma_lc.planners.plan_record import set_status
from soorma_lc.planners.policies import CANCEL_EVENT
from soorma_lc.planners.prompts import (
    json_block,
    rejection_message,
    result_message,
    system_prompt,
    trim_history,
)
from soorma_lc.planners.reading import read_reply, with_call_ids
from soorma_lc.planners.state import (
    Awaiting,
    Outcome,
    PlannerState,
    ResultRecord,
    Termination,
    Usage,
)
from soorma_lc.planners.step import StepUpdate, awaiting_timer, deadline_token, scope
from soorma_lc.planners.vague import best_content, looks_vague_result, text_of
from soorma_lc.planners.waiting import answers

logger = logging.getLogger(__name__)

RETRIEVAL_RESULT_CHARS = 300
"""How much of the latest result joins the goal in the query that picks the top-k tools."""
MODEL_FAILURES_KEY = "_model_failures"
"""Working-memory key counting consecutive failed model calls of a plan."""


class Deciding:
    """The ``decide`` node, bound to the planner's services."""

    def __init__(self, services: PlannerServices) -> None:
        self.s = services
        self.config = services.config

    async def __call__(self, state: PlannerState) -> Command:
        goal, config = state["goal"], self.config
        step = StepUpdate(goal, state.get("step", 0) + 1)
        waiting = state.get("awaiting")
        if waiting:
            received = await self._receive(step, waiting, state)
            if isinstance(received, Command):
                return received
            state = received
        step.update["step"] = step.step
        memory = await self.s.memory.get_all_plan_state(goal["plan_id"], **scope(goal))
        over = self._over_budget(state)
        if over:
            return await self._forced(step, state, over, memory, "budget")
        if step.step > config.step_limit:
            reason = f"the plan made {config.step_limit} decisions"
            return self._failed(step, state, reason, "step_limit")
        offer = await build_offer(
            self.s.toolkit,
            own_goals=config.goal_events,
            query=_retrieval_query(state),
            found=state.get("found_events", []),
            max_tools=config.max_tools,
            allow=config.allow,
        )
        system = system_prompt(
            name=config.name,
            instructions=config.system_instructions,
            max_actions=config.max_actions,
            used=int(memory.get(ACTION_COUNT_KEY) or 0),
            working_memory=memory,
        )
        started = time.perf_counter()
        try:
            reply = await self._ask(system, state.get("messages", []), offer)
        except MalformedToolCallError as exc:
            reply = _malformed_reply(exc, step.step)
        except ModelError as exc:
            return await self._model_failed(step, state, exc)
        if memory.get(MODEL_FAILURES_KEY):
            await self.s.memory.set_plan_state(
                goal["plan_id"], MODEL_FAILURES_KEY, 0, **scope(goal)
            )
        metrics = _call_metrics(reply, (time.perf_counter() - started) * 1000)
        step.update["usage"] = _add_usage(state.get("usage"), reply)
        reply = with_call_ids(reply, step.step)
        read, skipped = await read_reply(reply, offer, self.s.toolkit)
        step.add("messages", reply, *skipped)
        if isinstance(read, Rejection):
            return self._reject(state, step, read, [], metrics)
        if read.kind == "find":
            return await self._find(state, step, read, metrics)
        return await self._guarded(state, step, read, offer, memory, metrics)

    # -- waiting ---------------------------------------------------------------------------

    async def _receive(
        self, step: StepUpdate, waiting: Awaiting, state: PlannerState
    ) -> Command | PlannerState:
        """Wait (interrupted) for what the plan awaits. Returns the state with the answer taken
        in, or a Command when the answer ends or redirects the plan."""
        goal = step.goal
        late = list(state.get("late", []))
        value = interrupt({"plan_id": goal["plan_id"], **waiting})
        while not answers(waiting, value):
            if value.get("kind") == "event" and value.get("event") == CANCEL_EVENT:
                await self._stop_waiting(goal, waiting)
                reason = (value.get("data") or {}).get("reason") or "no reason given"
                state = _with_update(state, step)
                return self._failed(step, state, f"cancelled: {reason}", "cancelled")
            if value.get("token") == deadline_token(goal["plan_id"]):
                await self._stop_waiting(goal, waiting)
                reason = self._budget_text()
                state = _with_update(state, step)
                return await self._forced(step, state, reason, None, "budget")
            if value.get("kind") == "event" and value.get("correlation_id") in late:
                late.remove(value["correlation_id"])
                self._take_late(step, value)
            else:
                logger.info(
                    "plan %s ignores %s %s (it waits for %s)",
                    goal["plan_id"],
                    value.get("kind"),
                    value.get("event") or value.get("token"),
                    waiting["event"],
                )
            value = interrupt({"plan_id": goal["plan_id"], **waiting})
        await self._stop_waiting(goal, waiting)
        step.update["awaiting"] = None
        if late != list(state.get("late", [])):
            step.update["late"] = late
        if value.get("kind") == "timeout":
            return await self._timed_out(step, waiting, state, late)
        if waiting["kind"] == "review":
            return self._reviewed(step, state, value.get("data") or {})
        message, result = self._result(step, waiting, value)
        step.add("messages", message)
        step.add("results", result)
        return _with_update(state, step)

    async def _stop_waiting(self, goal: Any, waiting: Awaiting) -> None:
        if waiting.get("deadline"):
            await self.s.timers.cancel(awaiting_timer(goal, waiting))
        if waiting["kind"] in ("event", "review"):
            await set_status(self.s.memory, goal, PlanStatus.RUNNING)

    def _result(
        self, step: StepUpdate, waiting: Awaiting, value: dict[str, Any]
    ) -> tuple[ToolMessage, ResultRecord]:
        data = value.get("data") or {}
        vague = looks_vague_result(data)
        note = f"this result looks vague: {vague.reason}" if vague else None
        event, source = value.get("event") or waiting["event"], value.get("source")
        step.record(
            "result",
            event=event,
            correlation_id=value.get("correlation_id"),
            note=note or f"from {source or 'an unnamed agent'}",
        )
        message = result_message(
            tool_call_id=waiting["tool_call_id"],
            tool_name=waiting["tool"],
            event=event,
            data=data,
            source=source,
            note=note,
            max_chars=self.config.result_chars,
        )
        result = ResultRecord(
            step=waiting["step"],
            event=event,
            data=data,
            source=source,
            request=waiting["event"],
            vague=vague is not None,
        )
        return message, result

    def _take_late(self, step: StepUpdate, value: dict[str, Any]) -> None:
        """A result of a request that had timed out: taken once, as a note to the model."""
        data = value.get("data") or {}
        event = value.get("event") or "a result"
        step.record("result", event=event, note="late: its request had timed out")
        step.add(
            "messages",
            HumanMessage(
                f"A late result arrived ({event}, its request had timed out):\n{json_block(data)}"
            ),
        )
        step.add(
            "results",
            ResultRecord(
                step=step.step,
                event=event,
                data=data,
                source=value.get("source"),
                request=None,
                vague=False,
            ),
        )

    async def _timed_out(
        self, step: StepUpdate, waiting: Awaiting, state: PlannerState, late: list[str]
    ) -> Command | PlannerState:
        retry, attempt = self.config.retry, int(waiting.get("attempt") or 0)
        state = _with_update(state, step)
        if waiting["kind"] == "review":
            reason = "no review arrived before the deadline"
            return self._failed(step, state, reason, "review_timeout")
        if waiting["kind"] == "result" and retry and attempt < retry.attempts:
            step.record(
                "timeout",
                event=waiting["event"],
                correlation_id=waiting.get("correlation_id"),
                note=f"no result; publishing it again (attempt {attempt + 2})",
            )
            decision = Decision.from_dict(waiting.get("decision") or {})
            again = Decision.from_dict(
                {
                    **decision.as_dict(),
                    "attempt": attempt + 1,
                    "accept": list(waiting.get("accept") or []),
                }
            )
            return step.go("act", pending=again.as_dict(), step=state.get("step", 0))
        what = "result" if waiting["kind"] == "result" else "event"
        reason = (
            f"no {what} for {waiting['event']} arrived before the deadline (timed out); "
            "decide what to do without it"
        )
        step.record(
            "timeout",
            event=waiting["event"],
            correlation_id=waiting.get("correlation_id"),
            note=reason,
        )
        if waiting["kind"] == "result":
            step.update["late"] = late + list(waiting.get("accept") or [])
        message = rejection_message(waiting["tool_call_id"], waiting["tool"], reason)
        step.add("messages", message)
        return {**state, "messages": [*state.get("messages", []), message]}

    def _reviewed(
        self, step: StepUpdate, state: PlannerState, data: dict[str, Any]
    ) -> Command | PlannerState:
        """A person answered the plan's review request: go on with their instruction, or stop."""
        instruction = str(data.get("instruction") or "").strip()
        state = _with_update(state, step)
        if not data.get("approved"):
            reason = "a reviewer stopped the plan" + (f": {instruction}" if instruction else "")
            return self._failed(step, state, reason, "review_rejected")
        step.record("decision", note=f"review approved: {instruction or 'go on'}")
        text = "A person reviewed this plan and approved going on."
        if instruction:
            text += f" Their instruction: {instruction}"
        message = HumanMessage(text)
        step.add("messages", message)
        step.update["repairs"] = 0
        return {**state, "messages": [*state.get("messages", []), message], "repairs": 0}

    # -- limits ------------------------------------------------------------------------------

    def _budget_text(self) -> str:
        budget = self.config.budget
        seconds = budget.seconds if budget else None
        return f"time budget exhausted ({seconds:g} s)" if seconds else "time budget exhausted"

    def _over_budget(self, state: PlannerState) -> str | None:
        budget = self.config.budget
        if budget is None:
            return None
        usage = state.get("usage") or Usage(input_tokens=0, output_tokens=0, cost_usd=0.0)
        return budget.exceeded(
            tokens=usage["input_tokens"] + usage["output_tokens"],
            cost_usd=usage["cost_usd"],
            elapsed=time.time() - state.get("started_at", time.time()),
        )

    async def _forced(
        self,
        step: StepUpdate,
        state: PlannerState,
        reason: str,
        memory: dict[str, Any] | None,
        termination: Termination,
    ) -> Command:
        """Complete now with the best content the plan holds (a budget or guard stopped it)."""
        goal = step.goal
        if memory is None:
            memory = await self.s.memory.get_all_plan_state(goal["plan_id"], **scope(goal))
        step.record("decision", note=f"forced completion: {reason}")
        content = best_content(state.get("results", []), memory)
        outcome = Outcome(
            status="completed",
            termination=termination,
            result=content,
            reason=reason,
            forced=True,
        )
        return step.end(outcome)

    def _failed(
        self, step: StepUpdate, state: PlannerState, reason: str, termination: Termination
    ) -> Command:
        """Fail the plan, undoing its completed actions that declare a compensation."""
        step.record("failed", note=reason)
        owed = plan_compensations(state.get("actions", []), state.get("results", []))
        outcome = Outcome(status="failed", termination=termination, result=None, reason=reason)
        return step.end(outcome, owed)

    # -- asking the model --------------------------------------------------------------------

    async def _ask(
        self, system: SystemMessage, messages: Sequence[AnyMessage], offer: Offer
    ) -> AIMessage:
        """One model call with the step's tools; on context overflow, trim hard and retry once."""
        bound = self.s.model.bind_tools(offer.tools)
        history = trim_history(messages, self.config.context_tokens)
        try:
            reply = await bound.ainvoke([system, *history])
        except ContextWindowExceededError:
            logger.warning("context window exceeded; retrying with a shorter history")
            history = trim_history(messages, self.config.context_tokens // 3)
            reply = await bound.ainvoke([system, *history])
        if not isinstance(reply, AIMessage):
            raise ModelError(f"the model returned {type(reply).__name__}, not an AIMessage")
        return reply

    async def _model_failed(
        self, step: StepUpdate, state: PlannerState, error: ModelError
    ) -> Command:
        """Transient failures are retried through the bus a few times; others fail the plan."""
        goal = step.goal
        transient = isinstance(error, ModelUnavailableError | ModelRateLimitError)
        count = await self.s.memory.increment_plan_state(
            goal["plan_id"], MODEL_FAILURES_KEY, **scope(goal)
        )
        if transient and count < self.config.max_model_failures:
            logger.warning(
                "plan %s: model call failed (%d of %d), retrying later: %s",
                goal["plan_id"],
                count,
                self.config.max_model_failures,
                error,
            )
            raise error
        return self._failed(step, state, f"the model failed: {error}", "model_failed")

    # -- checking the decision ---------------------------------------------------------------

    async def _guarded(
        self,
        state: PlannerState,
        step: StepUpdate,
        decision: Decision,
        offer: Offer,
        memory: dict[str, Any],
        metrics: dict[str, Any],
    ) -> Command:
        """Run the guards over a well-formed decision, then carry it out or send it back."""
        goal = step.goal
        trips: list[GuardTrip] = []
        view = PlanView(
            plan_id=goal["plan_id"],
            goal=goal,
            step=step.step,
            max_actions=self.config.max_actions,
            results=state.get("results", []),
            actions=state.get("actions", []),
            working_memory=memory,
            trips=_trip_counts(state.get("history", [])),
        )
        for guard in self.s.guards:
            trip = await guard.check(decision, view)
            if trip is None:
                continue
            trips.append(trip)
            logger.warning(
                "plan %s step %d: guard %s %s: %s",
                goal["plan_id"],
                step.step,
                trip.guard,
                trip.action,
                trip.reason,
            )
            if trip.action == "replace" and trip.replacement is not None:
                decision = trip.replacement
            elif trip.action == "reject":
                rejection = Rejection(trip.reason, decision.tool_call_id, decision.tool)
                return self._reject(state, step, rejection, trips, metrics)
            elif trip.action in ("stop", "escalate"):
                self._answer_call(step, decision, f"not done: {trip.reason}")
                if trip.action == "escalate" and self.config.escalation is not None:
                    step.record(
                        "rejected",
                        event=decision.event,
                        guard_trips=_trips(trips),
                        note=trip.reason,
                        **metrics,
                    )
                    return self._escalate(step, trip.reason)
                return await self._forced(step, state, trip.reason, memory, "guard_stopped")
            elif trip.action == "fail":
                step.record("rejected", guard_trips=_trips(trips), note=trip.reason, **metrics)
                return self._failed(step, state, trip.reason, "guard_failed")
        step.record(
            "decision",
            event=decision.event,
            decision=to_planner_decision(decision, plan_id=goal["plan_id"], current_state="decide"),
            reasoning=decision.reasoning or None,
            guard_trips=_trips(trips),
            **metrics,
        )
        if decision.kind == "complete":
            self._answer_call(step, decision, "The goal is complete.")
            outcome = Outcome(
                status="completed",
                termination="goal_completed",
                result=decision.result,
                substituted=any(t.action == "replace" for t in trips),
            )
            return step.go("finish", repairs=0, pending=decision.as_dict(), outcome=outcome)
        if decision.kind in ("publish", "delegate"):
            event = offer.event_definition(decision)
            definition = event.model_dump(mode="json")
            decision = Decision.from_dict({**decision.as_dict(), "definition": definition})
        return step.go("act", repairs=0, pending=decision.as_dict())

    def _answer_call(self, step: StepUpdate, decision: Decision, text: str) -> None:
        name = COMPLETE_GOAL if decision.kind == "complete" else decision.tool
        step.add("messages", ToolMessage(text, tool_call_id=decision.tool_call_id, name=name))

    def _escalate(self, step: StepUpdate, reason: str) -> Command:
        """Pause for a person (the escalation policy): ``act`` publishes the review request."""
        decision = Decision("escalate", "", "", reasoning=reason)
        return step.go("act", pending=decision.as_dict())

    def _reject(
        self,
        state: PlannerState,
        step: StepUpdate,
        rejection: Rejection,
        trips: list[GuardTrip],
        metrics: dict[str, Any],
    ) -> Command:
        """Send a decision back to the model; past ``max_repairs`` in a row, escalate (with an
        escalation policy) or fail the plan."""
        repairs = state.get("repairs", 0) + 1
        if rejection.tool_call_id:
            step.add(
                "messages",
                rejection_message(rejection.tool_call_id, rejection.tool_name, rejection.reason),
            )
        else:
            step.add("messages", HumanMessage(f"Not done: {rejection.reason}"))
        step.record(
            "rejected",
            event=rejection.tool_name,
            guard_trips=_trips(trips),
            note=rejection.reason,
            **metrics,
        )
        if repairs > self.config.max_repairs:
            reason = f"{repairs} invalid decisions in a row; the last: {rejection.reason}"
            if self.config.escalation is not None:
                return self._escalate(step, reason)
            return self._failed(step, state, reason, "invalid_decisions")
        return step.go("decide", repairs=repairs)

    async def _find(
        self, state: PlannerState, step: StepUpdate, decision: Decision, metrics: dict[str, Any]
    ) -> Command:
        """Answer ``find_events`` with the closest events; they are offered from now on."""
        found = await find_events(
            self.s.toolkit,
            decision.query or "",
            own_goals=self.config.goal_events,
            allow=self.config.allow,
        )
        names = [event.event_name for event in found]
        if found:
            lines = "\n".join(
                f"- {self.s.toolkit.tool_name(e.event_name)}: {e.description}" for e in found
            )
            text = f"Events found (available as tools from now on):\n{lines}"
        else:
            text = "No event matches that description."
        answer = ToolMessage(text, tool_call_id=decision.tool_call_id, name=FIND_EVENTS)
        step.add("messages", answer)
        step.record(
            "decision",
            note=f"find_events({decision.query!r}): {', '.join(names) or 'none'}",
            **metrics,
        )
        known = list(state.get("found_events", []))
        return step.go("decide", found_events=known + [n for n in names if n not in known])


def _with_update(state: PlannerState, step: StepUpdate) -> PlannerState:
    """``state`` as the rest of this node run sees it: with the messages and results the step
    took in so far (the graph applies the update itself when the node returns)."""
    return {
        **state,
        "messages": [*state.get("messages", []), *step.update.get("messages", [])],
        "results": [*state.get("results", []), *step.update.get("results", [])],
    }


def _add_usage(total: Usage | None, reply: AIMessage) -> Usage:
    usage = reply.usage_metadata or {}
    cost = (reply.response_metadata or {}).get("cost_usd") or 0.0
    total = total or Usage(input_tokens=0, output_tokens=0, cost_usd=0.0)
    return Usage(
        input_tokens=total["input_tokens"] + int(usage.get("input_tokens") or 0),
        output_tokens=total["output_tokens"] + int(usage.get("output_tokens") or 0),
        cost_usd=total["cost_usd"] + float(cost),
    )


def _call_metrics(reply: AIMessage, latency_ms: float) -> dict[str, Any]:
    """What one model call cost, for the step's history record."""
    usage, meta = reply.usage_metadata or {}, reply.response_metadata or {}
    return {
        "model": meta.get("model_name"),
        "input_tokens": int(usage.get("input_tokens") or 0),
        "output_tokens": int(usage.get("output_tokens") or 0),
        "cost_usd": meta.get("cost_usd"),
        "latency_ms": round(latency_ms, 2),
    }


def _retrieval_query(state: PlannerState) -> str:
    """What tool retrieval ranks events against: the goal and the latest result."""
    goal = state["goal"]
    parts = [goal["event"], text_of(goal["data"])]
    results = state.get("results") or []
    if results:  # short enough that the goal still weighs as much as the latest result
        parts.append(text_of(results[-1].get("data"))[:RETRIEVAL_RESULT_CHARS])
    return "\n".join(part for part in parts if part)


def _malformed_reply(error: MalformedToolCallError, step: int) -> AIMessage:
    """A provider's unparseable tool call as the invalid call LangChain would have made."""
    return AIMessage(
        "",
        invalid_tool_calls=[
            {
                "type": "invalid_tool_call",
                "name": error.tool_name,
                "args": error.arguments,
                "id": f"call-{step}",
                "error": str(error),
            }
        ],
    )


def _trip_counts(history: Sequence[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in history:
        for trip in record.get("guard_trips") or ():
            counts[trip["guard"]] = counts.get(trip["guard"], 0) + 1
    return counts


def _trips(trips: Sequence[GuardTrip]) -> list[dict[str, Any]]:
    return [{"guard": t.guard, "action": t.action, "reason": t.reason} for t in trips]
