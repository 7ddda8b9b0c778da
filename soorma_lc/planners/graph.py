"""The ChoreographyPlanner's LangGraph graph: one run per incoming event, waits as interrupts.

``start`` opens the plan; ``decide`` asks the model for one decision and checks it; ``act``
publishes (under the atomic action limit) or sets a wait; ``await_result`` interrupts the graph
until the result event resumes it with ``Command(resume=...)``; ``finish`` answers the goal.
Between events no process holds the plan: it lives in the checkpoint (thread_id = plan_id), so
any replica continues it. Side effects sit in nodes that are safe to re-run after a crash:
request ids derive from (plan_id, step) so the bus drops a re-published request, and the action
count is reserved once per step.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
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
    PayloadValidationError,
    SoormaError,
    UnknownEventError,
)
from soorma_lc.events import EventDefinition, EventEnvelope, EventTopic
from soorma_lc.memory.plans import PlanStatus
from soorma_lc.planners.decisions import (
    COMPLETE_GOAL,
    DELEGATE_GOAL,
    FIND_EVENTS,
    WAIT_FOR_EVENT,
    Decision,
    Rejection,
    decision_from_call,
    reply_reasoning,
    to_planner_decision,
)
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
from soorma_lc.planners.records import PlanOutcome, StepRecord
from soorma_lc.planners.state import Awaiting, GoalState, Outcome, PlannerState, Usage
from soorma_lc.planners.timers import PlanTimer, PlanTimers
from soorma_lc.planners.vague import best_content, looks_vague_result, text_of
from soorma_lc.toolkit.publishing import declared_response_event

if TYPE_CHECKING:
    from soorma_lc.bus.publisher import BusPublisher
    from soorma_lc.memory.client import MemoryClient
    from soorma_lc.toolkit import EventToolkit

logger = logging.getLogger(__name__)

_IDS = uuid.UUID("5c6f6f72-6d61-4c63-8e70-6c616e6e6572")  # namespace of derived event ids
MODEL_FAILURES_KEY = "_model_failures"
"""Working-memory key counting consecutive failed model calls of a plan."""


def derived_id(*parts: object) -> str:
    """A stable event id for a planner side effect, so a re-run publishes the same id."""
    return str(uuid.uuid5(_IDS, "/".join(str(part) for part in parts)))


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
    builder.add_node("act", nodes.act, destinations=("await_result", "decide", "finish"))
    builder.add_node("await_result", nodes.await_result, destinations=("decide",))
    builder.add_node("finish", nodes.finish)
    builder.add_edge(START, "start")
    builder.add_conditional_edges("start", _after_start, ["decide", "finish"])
    builder.add_edge("finish", END)
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


class _Nodes:
    """The graph's nodes, bound to the planner's services."""

    def __init__(self, services: PlannerServices) -> None:
        self.s = services
        self.config = services.config

    # -- bookkeeping ---------------------------------------------------------------------------

    async def _record(self, goal: GoalState, step: int, kind: str, **fields: Any) -> StepRecord:
        record = StepRecord(plan_id=goal["plan_id"], step=step, kind=kind, **fields)
        logger.info(
            "plan %s step %d %s%s%s",
            goal["plan_id"],
            step,
            kind,
            f" {record.event}" if record.event else "",
            f": {record.note}" if record.note else "",
        )
        try:
            await self.s.ledger.record_step(
                goal["plan_id"], record.model_dump(mode="json"), tenant_id=goal["tenant_id"]
            )
        except SoormaError as exc:  # history is observability: a lost entry never fails a plan
            logger.warning("could not record step %d of plan %s: %s", step, goal["plan_id"], exc)
        return record

    def _fail(self, reason: str, update: dict[str, Any]) -> Command:
        outcome = Outcome(status="failed", result=None, reason=reason)
        return Command(goto="finish", update={**update, "outcome": outcome, "pending": None})

    # -- nodes ---------------------------------------------------------------------------------

    async def start(self, state: PlannerState) -> dict[str, Any]:
        """Open the plan record and put the goal first in the conversation."""
        goal = state["goal"]
        if await self.s.memory.get_plan(goal["plan_id"], **_scope(goal)) is None:
            await self._open_plan(goal)
        message = goal_message(goal["event"], goal["data"])
        message.id = f"goal-{goal['plan_id']}"
        await self._record(goal, 0, "decision", event=goal["event"], note="plan opened")
        return {
            "messages": [message],
            "step": 0,
            "repairs": 0,
            "found_events": [],
            "awaiting": None,
            "pending": None,
            "usage": Usage(input_tokens=0, output_tokens=0, cost_usd=0.0),
        }

    async def decide(self, state: PlannerState) -> Command:
        """Ask the model for the next decision and check it."""
        goal, config = state["goal"], self.config
        step = state.get("step", 0) + 1
        base: dict[str, Any] = {"step": step}
        if step > config.step_limit:
            return self._fail(
                f"the plan made {config.step_limit} decisions without finishing", base
            )
        memory = await self.s.memory.get_all_plan_state(goal["plan_id"], **_scope(goal))
        offer = await build_offer(
            self.s.toolkit,
            own_goals=config.goal_events,
            query=self._query(state),
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
            reply = AIMessage(
                "",
                invalid_tool_calls=[
                    {
                        "type": "invalid_tool_call",
                        "name": exc.tool_name,
                        "args": exc.arguments,
                        "id": f"call-{step}",
                        "error": str(exc),
                    }
                ],
            )
        except ModelError as exc:
            return await self._model_failed(goal, step, exc, base)
        latency_ms = (time.perf_counter() - started) * 1000
        await self.s.memory.set_plan_state(goal["plan_id"], MODEL_FAILURES_KEY, 0, **_scope(goal))
        usage = _add_usage(state.get("usage"), reply)
        base["usage"] = usage
        metrics = {
            "model": (reply.response_metadata or {}).get("model_name"),
            "input_tokens": int((reply.usage_metadata or {}).get("input_tokens") or 0),
            "output_tokens": int((reply.usage_metadata or {}).get("output_tokens") or 0),
            "cost_usd": (reply.response_metadata or {}).get("cost_usd"),
            "latency_ms": round(latency_ms, 2),
        }
        reply = _with_call_ids(reply, step)
        read, skipped = await self._read(reply, offer)
        messages: list[AnyMessage] = [reply, *skipped]
        if isinstance(read, Rejection):
            return await self._reject(state, step, messages, read, [], metrics, base)
        decision = read
        if decision.kind == "find":
            return await self._find(state, step, decision, messages, metrics, base)
        trips: list[GuardTrip] = []
        view = self._view(state, step, memory)
        for guard in self.s.guards:
            trip = await guard.check(decision, view)
            if trip is None:
                continue
            trips.append(trip)
            logger.warning(
                "plan %s step %d: guard %s %s: %s",
                goal["plan_id"],
                step,
                trip.guard,
                trip.action,
                trip.reason,
            )
            if trip.action == "replace" and trip.replacement is not None:
                decision = trip.replacement
            elif trip.action == "reject":
                rejection = Rejection(trip.reason, decision.tool_call_id, decision.tool)
                return await self._reject(state, step, messages, rejection, trips, metrics, base)
            elif trip.action == "fail":
                await self._record(
                    goal, step, "failed", guard_trips=_trips(trips), note=trip.reason, **metrics
                )
                return self._fail(trip.reason, {**base, "messages": messages})
        await self._record(
            goal,
            step,
            "decision",
            event=decision.event,
            decision=to_planner_decision(
                decision, plan_id=goal["plan_id"], current_state="decide", target_planner=""
            ),
            reasoning=decision.reasoning or None,
            guard_trips=_trips(trips),
            **metrics,
        )
        update = {**base, "repairs": 0, "pending": decision.as_dict()}
        if decision.kind == "complete":
            messages.append(
                ToolMessage(
                    "The goal is complete.", tool_call_id=decision.tool_call_id, name=COMPLETE_GOAL
                )
            )
            outcome = Outcome(
                status="completed",
                result=decision.result,
                substituted=any(t.action == "replace" for t in trips),
            )
            return Command(
                goto="finish", update={**update, "messages": messages, "outcome": outcome}
            )
        return Command(goto="act", update={**update, "messages": messages})

    async def act(self, state: PlannerState) -> Command:
        """Carry out a publish, delegate or wait decision."""
        goal, step = state["goal"], state["step"]
        decision = Decision.from_dict(state["pending"] or {})
        if decision.kind == "wait":
            return await self._wait(goal, step, decision)
        event = await self.s.toolkit.get_event_info(decision.event or "")
        if event is None:
            reason = f"{decision.event} is no longer registered; nothing was published"
            message = rejection_message(decision.tool_call_id, decision.tool, reason)
            return Command(goto="decide", update={"messages": [message], "pending": None})
        reservation = await self.s.ledger.reserve_action(
            goal["plan_id"], step, event.event_name, self.config.max_actions, **_scope(goal)
        )
        if not reservation.allowed:
            return await self._limit_reached(state, decision)
        envelope = self._request(goal, event, decision, step)
        await self.s.bus.publish(envelope)
        action = {
            "step": step,
            "event": event.event_name,
            "payload": decision.payload,
            "request_id": envelope.id,
        }
        await self._record(
            goal,
            step,
            "published",
            event=event.event_name,
            note=f"action {reservation.count} of {self.config.max_actions}",
        )
        if envelope.response_event is None:
            message = ToolMessage(
                f"Published {event.event_name}; no result is expected.",
                tool_call_id=decision.tool_call_id,
                name=decision.tool,
            )
            return Command(
                goto="decide", update={"messages": [message], "pending": None, "actions": [action]}
            )
        awaiting = Awaiting(
            kind="result",
            step=step,
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
        return Command(
            goto="await_result", update={"awaiting": awaiting, "pending": None, "actions": [action]}
        )

    async def await_result(self, state: PlannerState) -> Command:
        """Wait (interrupted) for the result or awaited event; resumed by the runtime."""
        goal, awaiting = state["goal"], state["awaiting"]
        assert awaiting is not None
        answer = interrupt({"plan_id": goal["plan_id"], **awaiting})
        if awaiting.get("deadline"):
            await self.s.timers.cancel(_timer(goal, awaiting))
        if awaiting["kind"] == "event":
            await self._set_status(goal, PlanStatus.RUNNING)
        step = awaiting["step"]
        if answer.get("kind") == "timeout":
            what = "result" if awaiting["kind"] == "result" else "event"
            reason = (
                f"no {what} for {awaiting['event']} arrived before the deadline "
                "(timed out); decide what to do without it"
            )
            await self._record(goal, step, "timeout", event=awaiting["event"], note=reason)
            message = rejection_message(awaiting["tool_call_id"], awaiting["tool"], reason)
            return Command(goto="decide", update={"messages": [message], "awaiting": None})
        data = answer.get("data") or {}
        vague = looks_vague_result(data)
        note = f"this result looks vague: {vague.reason}" if vague else None
        message = result_message(
            tool_call_id=awaiting["tool_call_id"],
            tool_name=awaiting["tool"],
            event=answer.get("event") or awaiting["event"],
            data=data,
            source=answer.get("source"),
            note=note,
            max_chars=self.config.result_chars,
        )
        record = {
            "step": step,
            "event": answer.get("event") or awaiting["event"],
            "data": data,
            "source": answer.get("source"),
            "request": awaiting["event"],
            "vague": vague is not None,
        }
        await self._record(
            goal,
            step,
            "result",
            event=record["event"],
            note=note or f"from {answer.get('source') or 'unknown'}",
        )
        return Command(
            goto="decide", update={"messages": [message], "awaiting": None, "results": [record]}
        )

    async def finish(self, state: PlannerState) -> dict[str, Any]:
        """Answer the goal with the outcome, close the plan, remember the exchange."""
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
        await self._record(
            goal, report.steps, report.status, note=report.reason or (report.result or "")[:200]
        )
        await self._respond(goal, report)  # last: whoever gets the outcome sees a closed plan
        return {"outcome": outcome, "pending": None}

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

    # -- decide helpers ------------------------------------------------------------------------

    def _query(self, state: PlannerState) -> str:
        """What tool retrieval ranks events against: the goal and the latest result."""
        goal = state["goal"]
        parts = [goal["event"], text_of(goal["data"])]
        results = state.get("results") or []
        if results:
            parts.append(text_of(results[-1].get("data"))[:1000])
        return "\n".join(part for part in parts if part)

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
        self, goal: GoalState, step: int, error: ModelError, base: dict[str, Any]
    ) -> Command:
        """Transient failures are retried through the bus a few times; others fail the plan."""
        transient = isinstance(error, ModelUnavailableError | ModelRateLimitError)
        failures = await self.s.memory.increment_plan_state(
            goal["plan_id"], MODEL_FAILURES_KEY, **_scope(goal)
        )
        if transient and failures < self.config.max_model_failures:
            logger.warning(
                "plan %s: model call failed (%d of %d), retrying later: %s",
                goal["plan_id"],
                failures,
                self.config.max_model_failures,
                error,
            )
            raise error
        reason = f"the model failed: {error}"
        await self._record(goal, step, "failed", note=reason)
        return self._fail(reason, base)

    async def _read(
        self, reply: AIMessage, offer: Offer
    ) -> tuple[Decision | Rejection, list[ToolMessage]]:
        """The reply's one decision (or why there is none); extra calls are answered skipped."""
        if not reply.tool_calls:
            if reply.invalid_tool_calls:
                bad = reply.invalid_tool_calls[0]
                reason = (
                    f"the arguments of {bad.get('name')} are not a valid JSON object "
                    f"({bad.get('error') or bad.get('args')}); call it again with valid JSON"
                )
                return Rejection(reason, None, bad.get("name")), []
            names = ", ".join(offer.names)
            return Rejection(
                f"you answered without calling a tool; call exactly one of: {names}", None
            ), []
        first, *others = reply.tool_calls
        skipped = [
            rejection_message(
                call["id"] or "",
                call["name"],
                "only one tool call is carried out per turn; this one was skipped "
                "(call it again later if it is still needed)",
            )
            for call in others
        ]
        name, args, call_id = first["name"], first["args"], first["id"] or ""
        reasoning = reply_reasoning(reply)
        tool = offer.events.get(name)
        if tool is not None:
            try:
                payload = tool.validator.validated(args, event_name=tool.event.event_name)
            except PayloadValidationError as exc:
                problems = "\n".join(f"- {problem}" for problem in exc.errors)
                reason = (
                    f"the arguments do not match the schema of {tool.event.event_name}:\n{problems}"
                )
                return Rejection(reason, call_id, name), skipped
            return Decision(
                "publish",
                call_id,
                name,
                event=tool.event.event_name,
                payload=payload,
                reasoning=reasoning,
            ), skipped
        if name not in offer.decisions:
            reason = f"there is no tool named {name!r}; the tools are: {', '.join(offer.names)}"
            return Rejection(reason, call_id, name), skipped
        decision = decision_from_call(name, args, call_id)
        if isinstance(decision, Decision) and not decision.reasoning:
            decision = replace(decision, reasoning=reasoning)
        if isinstance(decision, Decision) and decision.kind == "delegate":
            return await self._check_delegation(decision, offer), skipped
        return decision, skipped

    async def _check_delegation(self, decision: Decision, offer: Offer) -> Decision | Rejection:
        goal_event = offer.goals.get(decision.event or "")
        if goal_event is None:
            known = ", ".join(sorted(offer.goals)) or "none"
            return Rejection(
                f"{decision.event!r} is not a goal event of another planner (goal events: {known})",
                decision.tool_call_id,
                DELEGATE_GOAL,
            )
        try:
            payload = await self.s.toolkit.create_payload(goal_event.event_name, decision.payload)
        except PayloadValidationError as exc:
            problems = "\n".join(f"- {problem}" for problem in exc.errors)
            return Rejection(
                f"goal_data does not match {goal_event.event_name}:\n{problems}",
                decision.tool_call_id,
                DELEGATE_GOAL,
            )
        except UnknownEventError:
            return Rejection(
                f"{goal_event.event_name} is no longer registered",
                decision.tool_call_id,
                DELEGATE_GOAL,
            )
        return replace(decision, payload=payload)

    async def _reject(
        self,
        state: PlannerState,
        step: int,
        messages: list[AnyMessage],
        rejection: Rejection,
        trips: list[GuardTrip],
        metrics: dict[str, Any],
        base: dict[str, Any],
    ) -> Command:
        """Send a decision back to the model; past ``max_repairs`` in a row, fail the plan."""
        goal = state["goal"]
        repairs = state.get("repairs", 0) + 1
        if rejection.tool_call_id:
            messages.append(
                rejection_message(rejection.tool_call_id, rejection.tool_name, rejection.reason)
            )
        else:
            messages.append(HumanMessage(f"Not done: {rejection.reason}"))
        await self._record(
            goal,
            step,
            "rejected",
            event=rejection.tool_name,
            guard_trips=_trips(trips),
            note=rejection.reason,
            **metrics,
        )
        update = {**base, "messages": messages, "repairs": repairs}
        if repairs > self.config.max_repairs:
            reason = f"{repairs} invalid decisions in a row; the last: {rejection.reason}"
            return self._fail(reason, update)
        return Command(goto="decide", update=update)

    async def _find(
        self,
        state: PlannerState,
        step: int,
        decision: Decision,
        messages: list[AnyMessage],
        metrics: dict[str, Any],
        base: dict[str, Any],
    ) -> Command:
        """Answer ``find_events`` with the closest events; they are offered from now on."""
        found = await find_events(
            self.s.toolkit,
            decision.query or "",
            own_goals=self.config.goal_events,
            allow=self.config.allow,
        )
        known = list(state.get("found_events", []))
        names = [event.event_name for event in found]
        if found:
            lines = "\n".join(
                f"- {self.s.toolkit.tool_name(e.event_name)}: {e.description}" for e in found
            )
            text = f"Events found (available as tools from now on):\n{lines}"
        else:
            text = "No event matches that description."
        messages.append(ToolMessage(text, tool_call_id=decision.tool_call_id, name=FIND_EVENTS))
        await self._record(
            state["goal"],
            step,
            "decision",
            event=None,
            note=f"find_events({decision.query!r}): {', '.join(names) or 'none'}",
            **metrics,
        )
        update = {
            **base,
            "messages": messages,
            "found_events": known + [n for n in names if n not in known],
        }
        return Command(goto="decide", update=update)

    def _view(self, state: PlannerState, step: int, memory: dict[str, Any]) -> PlanView:
        return PlanView(
            plan_id=state["goal"]["plan_id"],
            goal=state["goal"],
            step=step,
            max_actions=self.config.max_actions,
            results=state.get("results", []),
            actions=state.get("actions", []),
            working_memory=memory,
        )

    # -- act helpers ---------------------------------------------------------------------------

    def _request(
        self, goal: GoalState, event: EventDefinition, decision: Decision, step: int
    ) -> EventEnvelope:
        """The envelope of step ``step``'s publication; its id derives from (plan, step)."""
        request_id = derived_id(goal["plan_id"], step)
        expects_result = (
            event.topic == EventTopic.ACTION_REQUESTS or event.response_schema is not None
        )
        response_event = declared_response_event(event) if expects_result else None
        return EventEnvelope(
            id=request_id,
            source=self.config.name,
            type=event.event_name,
            topic=event.topic,
            data=decision.payload,
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

    async def _wait(self, goal: GoalState, step: int, decision: Decision) -> Command:
        awaiting = Awaiting(
            kind="event",
            step=step,
            tool_call_id=decision.tool_call_id,
            tool=WAIT_FOR_EVENT,
            event=decision.event or "",
            correlation_id=None,
            token=f"wait:{goal['plan_id']}:{step}",
            deadline=time.time() + float(decision.timeout_seconds or 3600),
        )
        await self.s.timers.schedule(_timer(goal, awaiting))
        await self._set_status(goal, PlanStatus.PAUSED)
        await self._record(
            goal, step, "waiting", event=awaiting["event"], note=decision.reasoning or None
        )
        return Command(goto="await_result", update={"awaiting": awaiting, "pending": None})

    async def _limit_reached(self, state: PlannerState, decision: Decision) -> Command:
        """The circuit breaker: publish nothing more, complete with the best content held."""
        goal = state["goal"]
        reason = (
            f"action limit reached ({self.config.max_actions} actions); "
            f"{decision.event} was not published"
        )
        memory = await self.s.memory.get_all_plan_state(goal["plan_id"], **_scope(goal))
        content = best_content(state.get("results", []), memory)
        await self._record(
            goal,
            state["step"],
            "rejected",
            event=decision.event,
            note=reason,
            guard_trips=[{"guard": "action_limit", "action": "stop", "reason": reason}],
        )
        message = rejection_message(decision.tool_call_id, decision.tool, reason)
        outcome = Outcome(status="completed", result=content, reason=reason, forced=True)
        return Command(
            goto="finish", update={"messages": [message], "outcome": outcome, "pending": None}
        )

    # -- finish helpers ------------------------------------------------------------------------

    async def _respond(self, goal: GoalState, report: PlanOutcome) -> None:
        """Publish the goal's response event (if it asked for one) and Soorma's system event."""
        data = report.model_dump(mode="json")
        common: dict[str, Any] = {
            "source": self.config.name,
            "tenant_id": goal["tenant_id"],
            "user_id": goal["user_id"],
            "session_id": goal.get("session_id"),
            "goal_id": goal.get("goal_id"),
            "trace_id": goal.get("trace_id"),
            "parent_event_id": goal.get("envelope_id"),
        }
        if goal.get("response_event"):
            await self.s.bus.publish(
                EventEnvelope(
                    id=derived_id(goal["plan_id"], "outcome"),
                    type=goal["response_event"],
                    topic=goal.get("response_topic") or EventTopic.ACTION_RESULTS,
                    data=data,
                    correlation_id=goal.get("correlation_id") or goal.get("envelope_id"),
                    plan_id=goal.get("parent_plan_id"),
                    **common,
                )
            )
        await self.s.bus.publish(
            EventEnvelope(
                id=derived_id(goal["plan_id"], "system", report.status),
                type=f"plan.{report.status}",
                topic=EventTopic.SYSTEM_EVENTS,
                data=data,
                plan_id=goal["plan_id"],
                correlation_id=goal.get("correlation_id") or goal.get("envelope_id"),
                **common,
            )
        )

    async def _set_status(
        self, goal: GoalState, status: PlanStatus, *, force_running: bool = False
    ) -> None:
        """Move the plan record along; a paused plan is resumed before it can finish."""
        plan = await self.s.memory.get_plan(goal["plan_id"], **_scope(goal))
        if plan is None or plan.status == status:
            return
        if force_running and plan.status == PlanStatus.PAUSED:
            await self.s.memory.update_plan_status(
                goal["plan_id"], PlanStatus.RUNNING, **_scope(goal)
            )
        elif plan.status in (PlanStatus.COMPLETED, PlanStatus.FAILED):
            return
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


def _with_call_ids(reply: AIMessage, step: int) -> AIMessage:
    """Give tool calls without an id one (every answer must name the call it answers)."""
    if all(call.get("id") for call in reply.tool_calls):
        return reply
    calls = [
        {**call, "id": call.get("id") or f"call-{step}-{index}"}
        for index, call in enumerate(reply.tool_calls)
    ]
    return reply.model_copy(update={"tool_calls": calls})


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
