"""The ChoreographyPlanner's LangGraph graph: one run per incoming event, waits as interrupts.

``start`` opens the plan; ``act`` publishes a request (under the atomic action limit) or sets a
wait; ``decide`` first takes in what the plan waits for (the graph is interrupted there until
the result event resumes it with ``Command(resume=...)``), then asks the model for one decision
and checks it; ``finish`` closes the plan and ``answer`` publishes its outcome. Between events
no process holds the plan: it lives in the checkpoint (thread_id = plan_id), so any replica
continues it. Side effects sit where a
re-run after a crash is harmless: request ids derive from (plan_id, step) so the bus drops a
re-published request, the action count is reserved once per step, and nothing is published
before the decision that asks for it is checkpointed.

Every node appends what it did to the state's ``history`` (one :class:`StepRecord` each), so a
plan's timeline is in its checkpoint, written with the step itself.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from soorma_lc.errors import (
    ContextWindowExceededError,
    DuplicatePlanError,
    MalformedToolCallError,
    ModelError,
    ModelRateLimitError,
    ModelUnavailableError,
    SoormaError,
)
from soorma_lc.events import EventDefinition
from soorma_lc.memory.plans import PlanStatus
from soorma_lc.planners.decisions import (
    COMPLETE_GOAL,
    FIND_EVENTS,
    WAIT_FOR_EVENT,
    Decision,
    Rejection,
    to_planner_decision,
)
from soorma_lc.planners.envelopes import outcome_envelopes, request_envelope
from soorma_lc.planners.guards import Guard, GuardTrip, PlanView
from soorma_lc.planners.ledger import ACTION_COUNT_KEY, PlanLedger
from soorma_lc.planners.offer import EventFilter, Offer, build_offer, find_events
from soorma_lc.planners.prompts import (
    goal_message,
    rejection_message,
    result_message,
    system_prompt,
    trim_history,
)
from soorma_lc.planners.reading import read_reply, with_call_ids
from soorma_lc.planners.records import PlanOutcome, StepRecord
from soorma_lc.planners.state import (
    Awaiting,
    GoalState,
    Outcome,
    PlannerState,
    ResultRecord,
    Usage,
)
from soorma_lc.planners.timers import PlanTimer, PlanTimers
from soorma_lc.planners.vague import best_content, looks_vague_result, text_of
from soorma_lc.planners.waiting import answers

if TYPE_CHECKING:
    from soorma_lc.bus.publisher import BusPublisher
    from soorma_lc.memory.client import MemoryClient
    from soorma_lc.toolkit import EventToolkit

logger = logging.getLogger(__name__)

MODEL_FAILURES_KEY = "_model_failures"
"""Working-memory key counting consecutive failed model calls of a plan."""


@dataclass(frozen=True)
class PlannerConfig:
    """The planner's policy (see :class:`~soorma_lc.planners.ChoreographyPlanner`)."""

    name: str
    goal_events: frozenset[str]
    max_actions: int = 10
    max_repairs: int = 3
    max_steps: int | None = None
    max_tools: int = 12
    max_model_failures: int = 3
    system_instructions: str | None = None
    response_timeout: float | None = None
    context_tokens: int = 12_000
    result_chars: int = 8_000
    cleanup_on_completion: bool = False
    log_episodes: bool = True
    allow: EventFilter | None = None

    @property
    def step_limit(self) -> int:
        """Decisions a plan may make in all (actions, rejections, searches, waits)."""
        return self.max_steps or 4 * self.max_actions + 10


@dataclass
class PlannerServices:
    """What the graph's nodes use; the planner builds these from its settings."""

    config: PlannerConfig
    model: BaseChatModel
    toolkit: EventToolkit
    bus: BusPublisher
    memory: MemoryClient
    ledger: PlanLedger
    timers: PlanTimers
    guards: Sequence[Guard]


def build_graph(services: PlannerServices) -> StateGraph:
    """The planner's graph, not yet compiled (compile it with a checkpointer)."""
    nodes = _Nodes(services)
    builder = StateGraph(PlannerState)
    builder.add_node("start", nodes.start)
    builder.add_node("decide", nodes.decide, destinations=("act", "finish", "decide"))
    builder.add_node("act", nodes.act, destinations=("decide", "finish"))
    builder.add_node("finish", nodes.finish)
    builder.add_node("answer", nodes.answer)
    builder.add_edge(START, "start")
    builder.add_conditional_edges("start", _after_start, ["decide", "finish"])
    builder.add_edge("finish", "answer")
    builder.add_edge("answer", END)
    return builder


def _after_start(state: PlannerState) -> str:
    """A goal refused before any decision (invalid data) goes straight to its answer."""
    return "finish" if state.get("outcome") else "decide"


def _scope(goal: GoalState) -> dict[str, str]:
    return {"tenant_id": goal["tenant_id"], "user_id": goal["user_id"]}


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


@dataclass
class _Step:
    """One node run: the plan's goal and the state update the node is building."""

    goal: GoalState
    step: int
    update: dict[str, Any] = field(default_factory=dict)

    def record(self, kind: str, **fields: Any) -> None:
        """Log what happened and append it to the plan's history (written with the step)."""
        record = StepRecord(plan_id=self.goal["plan_id"], step=self.step, kind=kind, **fields)
        logger.info(
            "plan %s step %d %s%s%s",
            record.plan_id,
            record.step,
            kind,
            f" {record.event}" if record.event else "",
            f": {record.note}" if record.note else "",
        )
        self.update.setdefault("history", []).append(record.model_dump(mode="json"))

    def add(self, key: str, *items: Any) -> None:
        """Append to a list the update carries (messages, results, actions)."""
        self.update.setdefault(key, []).extend(items)

    def go(self, node: str, **update: Any) -> Command:
        return Command(goto=node, update={**self.update, **update})

    def fail(self, reason: str) -> Command:
        outcome = Outcome(status="failed", result=None, reason=reason)
        return self.go("finish", outcome=outcome, pending=None)


class _Nodes:
    """The graph's nodes, bound to the planner's services."""

    def __init__(self, services: PlannerServices) -> None:
        self.s = services
        self.config = services.config

    # -- nodes ---------------------------------------------------------------------------------

    async def start(self, state: PlannerState) -> dict[str, Any]:
        """Open the plan record and put the goal first in the conversation."""
        goal = state["goal"]
        if await self.s.memory.get_plan(goal["plan_id"], **_scope(goal)) is None:
            await self._open_plan(goal)
        message = goal_message(goal["event"], goal["data"])
        message.id = f"goal-{goal['plan_id']}"
        step = _Step(goal, 0)
        step.record("decision", event=goal["event"], note="plan opened")
        return {
            **step.update,
            "messages": [message],
            "step": 0,
            "repairs": 0,
            "found_events": [],
            "awaiting": None,
            "pending": None,
            "usage": Usage(input_tokens=0, output_tokens=0, cost_usd=0.0),
        }

    async def decide(self, state: PlannerState) -> Command:
        """Take in what the plan waited for (the graph waits here, interrupted, until the
        result arrives), then ask the model for the next decision and check it."""
        goal, config = state["goal"], self.config
        step = _Step(goal, state.get("step", 0) + 1)
        step.update["step"] = step.step
        waiting = state.get("awaiting")
        if waiting:
            message, result = await self._receive(step, waiting)
            step.add("messages", message)
            step.update["awaiting"] = None
            state = {**state, "messages": [*state.get("messages", []), message]}
            if result is not None:
                step.add("results", result)
                state["results"] = [*state.get("results", []), result]
        if step.step > config.step_limit:
            return step.fail(f"the plan made {config.step_limit} decisions without finishing")
        memory = await self.s.memory.get_all_plan_state(goal["plan_id"], **_scope(goal))
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
            return await self._model_failed(step, exc, failures=memory.get(MODEL_FAILURES_KEY))
        if memory.get(MODEL_FAILURES_KEY):
            await self.s.memory.set_plan_state(
                goal["plan_id"], MODEL_FAILURES_KEY, 0, **_scope(goal)
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

    async def act(self, state: PlannerState) -> Command:
        """Carry out a publish, delegate or wait decision."""
        goal = state["goal"]
        step = _Step(goal, state["step"])
        decision = Decision.from_dict(state["pending"] or {})
        if decision.kind == "wait":
            return await self._wait(step, decision)
        event = EventDefinition.model_validate(decision.definition or {})
        reservation = await self.s.ledger.reserve_action(
            goal["plan_id"], step.step, event.event_name, self.config.max_actions, **_scope(goal)
        )
        if not reservation.allowed:
            return await self._limit_reached(state, step, decision)
        envelope = request_envelope(
            goal, event, decision.payload, step=step.step, source=self.config.name
        )
        await self.s.bus.publish(envelope)
        step.add(
            "actions",
            {
                "step": step.step,
                "event": event.event_name,
                "payload": decision.payload,
                "request_id": envelope.id,
            },
        )
        step.record(
            "published",
            event=event.event_name,
            note=f"action {reservation.count} of {self.config.max_actions}",
        )
        if envelope.response_event is None:
            ack = f"Published {event.event_name}; no result is expected."
            message = ToolMessage(ack, tool_call_id=decision.tool_call_id, name=decision.tool)
            step.add("messages", message)
            return step.go("decide", pending=None)
        awaiting = Awaiting(
            kind="result",
            step=step.step,
            tool_call_id=decision.tool_call_id,
            tool=decision.tool,
            event=event.event_name,
            correlation_id=envelope.correlation_id,
            token=envelope.id,
            deadline=None,
        )
        if self.config.response_timeout:
            awaiting["deadline"] = time.time() + self.config.response_timeout
            await self.s.timers.schedule(_timer(goal, awaiting))
        return step.go("decide", awaiting=awaiting, pending=None)

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
            actions=await self.s.ledger.action_count(goal["plan_id"], **_scope(goal)),
            steps=state.get("step", 0),
            input_tokens=usage["input_tokens"],
            output_tokens=usage["output_tokens"],
            cost_usd=round(usage["cost_usd"], 8),
        )
        await self._set_status(
            goal, PlanStatus.COMPLETED if report.ok else PlanStatus.FAILED, force_running=True
        )
        if self.config.log_episodes:
            await self._log_episode(goal, report)
        if self.config.cleanup_on_completion:
            await self.s.memory.cleanup_plan(goal["plan_id"], **_scope(goal))
        step = _Step(goal, report.steps)
        step.record(report.status, note=report.reason or (report.result or "")[:200])
        return {**step.update, "report": report.model_dump(mode="json"), "pending": None}

    async def answer(self, state: PlannerState) -> dict[str, Any]:
        """Publish the outcome, once the closed plan and its history are checkpointed: whoever
        receives it finds the plan as it ended."""
        report = PlanOutcome.model_validate(state["report"])
        for envelope in outcome_envelopes(state["goal"], report, source=self.config.name):
            await self.s.bus.publish(envelope)
        return {}

    # -- decide --------------------------------------------------------------------------------

    async def _receive(
        self, step: _Step, awaiting: Awaiting
    ) -> tuple[ToolMessage, ResultRecord | None]:
        """Wait (interrupted) for what the plan awaits; the runtime resumes the graph with the
        result event or a timeout. Returns the answer to the waiting tool call."""
        goal = step.goal
        answer = interrupt({"plan_id": goal["plan_id"], **awaiting})
        while not answers(awaiting, answer):  # a duplicate, late or stray event: wait on
            logger.info(
                "plan %s ignores %s %s (it waits for %s)",
                goal["plan_id"],
                answer.get("kind"),
                answer.get("event") or answer.get("token"),
                awaiting["event"],
            )
            answer = interrupt({"plan_id": goal["plan_id"], **awaiting})
        if awaiting.get("deadline"):
            await self.s.timers.cancel(_timer(goal, awaiting))
        if awaiting["kind"] == "event":
            await self._set_status(goal, PlanStatus.RUNNING)
        if answer.get("kind") == "timeout":
            what = "result" if awaiting["kind"] == "result" else "event"
            reason = (
                f"no {what} for {awaiting['event']} arrived before the deadline (timed out); "
                "decide what to do without it"
            )
            step.record("timeout", event=awaiting["event"], note=reason)
            return rejection_message(awaiting["tool_call_id"], awaiting["tool"], reason), None
        data = answer.get("data") or {}
        vague = looks_vague_result(data)
        note = f"this result looks vague: {vague.reason}" if vague else None
        event = answer.get("event") or awaiting["event"]
        source = answer.get("source")
        step.record("result", event=event, note=note or f"from {source or 'an unnamed agent'}")
        message = result_message(
            tool_call_id=awaiting["tool_call_id"],
            tool_name=awaiting["tool"],
            event=event,
            data=data,
            source=source,
            note=note,
            max_chars=self.config.result_chars,
        )
        result = ResultRecord(
            step=awaiting["step"],
            event=event,
            data=data,
            source=source,
            request=awaiting["event"],
            vague=vague is not None,
        )
        return message, result

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

    async def _model_failed(self, step: _Step, error: ModelError, failures: Any) -> Command:
        """Transient failures are retried through the bus a few times; others fail the plan."""
        goal = step.goal
        transient = isinstance(error, ModelUnavailableError | ModelRateLimitError)
        count = await self.s.memory.increment_plan_state(
            goal["plan_id"], MODEL_FAILURES_KEY, **_scope(goal)
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
        reason = f"the model failed: {error}"
        step.record("failed", note=reason)
        return step.fail(reason)

    async def _guarded(
        self,
        state: PlannerState,
        step: _Step,
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
            elif trip.action == "fail":
                step.record("failed", guard_trips=_trips(trips), note=trip.reason, **metrics)
                return step.fail(trip.reason)
        step.record(
            "decision",
            event=decision.event,
            decision=to_planner_decision(decision, plan_id=goal["plan_id"], current_state="decide"),
            reasoning=decision.reasoning or None,
            guard_trips=_trips(trips),
            **metrics,
        )
        if decision.kind == "complete":
            done = ToolMessage(
                "The goal is complete.", tool_call_id=decision.tool_call_id, name=COMPLETE_GOAL
            )
            step.add("messages", done)
            outcome = Outcome(
                status="completed",
                result=decision.result,
                substituted=any(t.action == "replace" for t in trips),
            )
            return step.go("finish", repairs=0, pending=decision.as_dict(), outcome=outcome)
        if decision.kind in ("publish", "delegate"):
            event = offer.event_definition(decision)
            decision = Decision.from_dict(
                {**decision.as_dict(), "definition": event.model_dump(mode="json")}
            )
        return step.go("act", repairs=0, pending=decision.as_dict())

    def _reject(
        self,
        state: PlannerState,
        step: _Step,
        rejection: Rejection,
        trips: list[GuardTrip],
        metrics: dict[str, Any],
    ) -> Command:
        """Send a decision back to the model; past ``max_repairs`` in a row, fail the plan."""
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
            return step.fail(f"{repairs} invalid decisions in a row; the last: {rejection.reason}")
        return step.go("decide", repairs=repairs)

    async def _find(
        self, state: PlannerState, step: _Step, decision: Decision, metrics: dict[str, Any]
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
        step.add(
            "messages", ToolMessage(text, tool_call_id=decision.tool_call_id, name=FIND_EVENTS)
        )
        step.record(
            "decision",
            note=f"find_events({decision.query!r}): {', '.join(names) or 'none'}",
            **metrics,
        )
        known = list(state.get("found_events", []))
        return step.go("decide", found_events=known + [n for n in names if n not in known])

    # -- act -----------------------------------------------------------------------------------

    async def _wait(self, step: _Step, decision: Decision) -> Command:
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
        await self.s.timers.schedule(_timer(goal, awaiting))
        await self._set_status(goal, PlanStatus.PAUSED)
        step.record("waiting", event=awaiting["event"], note=decision.reasoning or None)
        return step.go("decide", awaiting=awaiting, pending=None)

    async def _limit_reached(self, state: PlannerState, step: _Step, decision: Decision) -> Command:
        """The circuit breaker: publish nothing more, complete with the best content held."""
        goal = step.goal
        reason = (
            f"action limit reached ({self.config.max_actions} actions); "
            f"{decision.event} was not published"
        )
        memory = await self.s.memory.get_all_plan_state(goal["plan_id"], **_scope(goal))
        trip = {"guard": "action_limit", "action": "stop", "reason": reason}
        step.record("rejected", event=decision.event, note=reason, guard_trips=[trip])
        step.add("messages", rejection_message(decision.tool_call_id, decision.tool, reason))
        content = best_content(state.get("results", []), memory)
        outcome = Outcome(status="completed", result=content, reason=reason, forced=True)
        return step.go("finish", outcome=outcome, pending=None)

    # -- start and finish ----------------------------------------------------------------------

    async def _open_plan(self, goal: GoalState) -> None:
        """Create the plan record, linked to the requesting plan when that is one we can see
        (a delegating planner's); a client's own plan id is not a parent here."""
        fields: dict[str, Any] = {
            "plan_id": goal["plan_id"],
            "goal_event": goal["event"],
            "goal_data": goal["data"],
            "session_id": goal.get("session_id"),
            **_scope(goal),
        }
        parent = goal.get("parent_plan_id")
        if parent and await self.s.memory.get_plan(parent, **_scope(goal)) is not None:
            fields["parent_plan_id"] = parent
        with contextlib.suppress(DuplicatePlanError):  # a re-run after a crash: it is there
            await self.s.memory.create_plan(**fields)

    async def _set_status(
        self, goal: GoalState, status: PlanStatus, *, force_running: bool = False
    ) -> None:
        """Move the plan record along; a paused plan is resumed before it can finish."""
        plan = await self.s.memory.get_plan(goal["plan_id"], **_scope(goal))
        if plan is None or plan.status == status:
            return
        if plan.status in (PlanStatus.COMPLETED, PlanStatus.FAILED):
            return
        if force_running and plan.status == PlanStatus.PAUSED:
            await self.s.memory.update_plan_status(
                goal["plan_id"], PlanStatus.RUNNING, **_scope(goal)
            )
        await self.s.memory.update_plan_status(goal["plan_id"], status, **_scope(goal))

    async def _log_episode(self, goal: GoalState, report: PlanOutcome) -> None:
        """Goal and outcome in episodic memory; a memory outage never fails the plan."""
        metadata = {"plan_id": goal["plan_id"], "goal_event": goal["event"]}
        outcome = report.result or report.reason or report.status
        try:
            await self.s.memory.log_interaction(
                self.config.name,
                "user",
                f"{goal['event']}: {text_of(goal['data'])}",
                metadata=metadata,
                **_scope(goal),
            )
            await self.s.memory.log_interaction(
                self.config.name, "assistant", outcome, metadata=metadata, **_scope(goal)
            )
        except SoormaError as exc:
            logger.warning("plan %s: could not log to episodic memory: %s", goal["plan_id"], exc)


def _retrieval_query(state: PlannerState) -> str:
    """What tool retrieval ranks events against: the goal and the latest result."""
    goal = state["goal"]
    parts = [goal["event"], text_of(goal["data"])]
    results = state.get("results") or []
    if results:
        parts.append(text_of(results[-1].get("data"))[:1000])
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


def _trips(trips: Sequence[GuardTrip]) -> list[dict[str, Any]]:
    return [{"guard": t.guard, "action": t.action, "reason": t.reason} for t in trips]


def _timer(goal: GoalState, awaiting: Awaiting) -> PlanTimer:
    return PlanTimer(
        plan_id=goal["plan_id"],
        tenant_id=goal["tenant_id"],
        user_id=goal["user_id"],
        token=awaiting["token"],
        due=float(awaiting.get("deadline") or 0),
    )
