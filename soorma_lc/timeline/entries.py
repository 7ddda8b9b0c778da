"""A plan's timeline, built only from what anyone may read: the plan record, its recorded
history (:class:`~soorma_lc.planners.StepRecord`), its events on the bus and its working memory.

:func:`build_timeline` is a pure function of a :class:`PlanSnapshot`. Entries follow the
history's order; bus events and working memory add detail to the history entries they belong
to, so the same plan always reads the same way, however late an observer looked.

Working memory carries no author, so an update is shown at the result of the agent that made
it, recognised by the value: a key whose value equals the result's data, or one of its
fields, is what that agent stored and answered with. Keys no result carries are listed once at
the end. Keys starting with ``_`` are the planner's bookkeeping and are left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from soorma_lc.events import EventEnvelope, EventTopic
from soorma_lc.llm.offline import OFFLINE_MODEL_NAME
from soorma_lc.memory.plans import Plan
from soorma_lc.planners.records import PlanOutcome, StepRecord

EntryKind = Literal[
    "goal",
    "decision",
    "rejected",
    "published",
    "result",
    "waiting",
    "timeout",
    "completed",
    "failed",
    "memory",
    "answer",
]

OUTCOME_EVENTS = ("plan.completed", "plan.failed")
"""System events a planner announces when a plan ends (data: the PlanOutcome)."""

_TEXT_CHARS = 160


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a plan's timeline (with detail lines under it).

    ``agent`` names who acted (the planner for decisions, the responding agent for results);
    ``offline`` marks decisions of the offline heuristic planner model, which is not an LLM.
    """

    kind: EntryKind
    step: int
    title: str
    details: tuple[str, ...] = ()
    agent: str | None = None
    model: str | None = None
    offline: bool = False
    text: str | None = None
    """A long text shown whole (the final answer)."""


@dataclass(frozen=True)
class PlanSnapshot:
    """What is known of one plan at one moment.

    ``events`` are the plan's envelopes on the bus (requests, results and its outcome events)
    in the order they were read; ``memory`` is its working memory.
    """

    plan: Plan
    history: Sequence[StepRecord] = ()
    events: Sequence[EventEnvelope] = ()
    memory: Mapping[str, Any] = field(default_factory=dict)

    @property
    def outcome(self) -> PlanOutcome | None:
        """The outcome the planner announced, once the plan has ended."""
        for envelope in self.events:
            if envelope.topic == EventTopic.SYSTEM_EVENTS and envelope.type in OUTCOME_EVENTS:
                return PlanOutcome.model_validate(envelope.data or {})
        return None

    @property
    def ended(self) -> bool:
        """True once the history records the plan's end (or, for a plan no planner runs, once
        its record is completed or failed)."""
        if self.history:
            return self.history[-1].kind in ("completed", "failed")
        return self.plan.status.value in ("completed", "failed")

    @property
    def finished(self) -> bool:
        """True once the plan has ended and, for a planner's plan, announced its outcome."""
        return self.ended and (not self.history or self.outcome is not None)


def build_timeline(snapshot: PlanSnapshot) -> list[TimelineEntry]:
    """Every entry of the plan's timeline that ``snapshot`` can tell, in order."""
    return _Builder(snapshot).build()


def summary_line(snapshot: PlanSnapshot) -> str:
    """One line: plan id, status, steps, actions, time, tokens (and cost when priced)."""
    plan, outcome = snapshot.plan, snapshot.outcome
    status = outcome.status if outcome else plan.status.value
    parts = [f"plan {plan.plan_id} {status}"]
    if outcome is not None:
        parts.append(f"{outcome.steps} steps, {outcome.actions} actions")
    elif snapshot.history:
        steps = snapshot.history[-1].step
        parts.append(f"{steps} steps" if snapshot.ended else f"{steps} steps so far")
    if snapshot.history:
        seconds = (snapshot.history[-1].at - snapshot.history[0].at).total_seconds()
        parts.append(f"{seconds:.2f} s")
    if outcome is not None:
        tokens = f"{outcome.input_tokens} in / {outcome.output_tokens} out tokens"
        if _offline_only(snapshot.history):
            tokens += " (offline heuristic, no LLM)"
        elif outcome.cost_usd:
            tokens += f", {dollars(outcome.cost_usd)}"
        parts.append(tokens)
    return " · ".join(parts)


def dollars(cost: float) -> str:
    """A cost in US dollars, with the digits a fraction of a cent needs."""
    return f"${cost:.4f}" if cost >= 0.01 else f"${cost:.6f}"


def is_offline(model: str | None) -> bool:
    """Whether a decision came from the offline heuristic planner model (not an LLM)."""
    return model == OFFLINE_MODEL_NAME


def _offline_only(history: Iterable[StepRecord]) -> bool:
    models = {record.model for record in history if record.model}
    return bool(models) and all(is_offline(model) for model in models)


def brief(value: Any, limit: int = _TEXT_CHARS) -> str:
    """A value in one short line: text as is, lists by size, the rest as sorted JSON."""
    if isinstance(value, str):
        text = " ".join(value.split())
    elif isinstance(value, list):
        return f"{len(value)} item{'s' if len(value) != 1 else ''}"
    else:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def data_lines(data: Mapping[str, Any] | None) -> tuple[str, ...]:
    """One ``key: value`` line per field, keys sorted."""
    return tuple(f"{key}: {brief(value)}" for key, value in sorted((data or {}).items()))


class _Builder:
    """Walks the history once, attaching bus events and working memory to its entries."""

    def __init__(self, snapshot: PlanSnapshot) -> None:
        self.snapshot = snapshot
        plan_id = snapshot.plan.plan_id
        own = [e for e in snapshot.events if e.plan_id == plan_id]
        self.requests = _unique(e for e in own if e.topic == EventTopic.ACTION_REQUESTS)
        self.results = _unique(e for e in own if e.topic != EventTopic.ACTION_REQUESTS)
        self.shown: dict[str, Any] = {}
        self.memory = {k: v for k, v in sorted(snapshot.memory.items()) if not k.startswith("_")}
        self.planner = next((e.source for e in self.requests if e.source), None)
        self.last_request: EventEnvelope | None = None
        self.used_requests: set[str] = set()

    def build(self) -> list[TimelineEntry]:
        entries = [self._goal()]
        last = len(self.snapshot.history) - 1
        for index, record in enumerate(self.snapshot.history):
            entry = self._entry(record, final=index == last)
            if entry is not None:
                entries.append(entry)
        if not self.snapshot.history and self.snapshot.finished:
            failed = self.snapshot.plan.status.value == "failed"
            entries.append(
                TimelineEntry("failed", 0, "plan failed")
                if failed
                else TimelineEntry("completed", 0, "plan completed")
            )
        if self.snapshot.finished:
            entries.extend(self._ending())
        return entries

    def _goal(self) -> TimelineEntry:
        plan = self.snapshot.plan
        return TimelineEntry(
            "goal",
            0,
            f"goal {plan.goal_event} opened plan {plan.plan_id}",
            data_lines(plan.goal_data),
        )

    def _entry(self, record: StepRecord, *, final: bool) -> TimelineEntry | None:
        if record.kind == "decision":
            return None if record.step == 0 else self._decision(record)
        if record.kind == "rejected":
            details = [f"why: {brief(record.note or '')}", *_trip_lines(record.guard_trips)]
            return TimelineEntry(
                "rejected",
                record.step,
                f"decision rejected{f' ({record.event})' if record.event else ''}",
                tuple(details),
                model=record.model,
                offline=is_offline(record.model),
            )
        if record.kind == "published":
            return self._published(record)
        if record.kind == "result":
            return self._result(record)
        if record.kind in ("waiting", "timeout"):
            what = "waiting for" if record.kind == "waiting" else "timed out waiting for"
            details = (f"note: {brief(record.note)}",) if record.note else ()
            return TimelineEntry(record.kind, record.step, f"{what} {record.event}", details)
        status = record.kind
        details = (f"reason: {brief(record.note or '')}",) if status == "failed" else ()
        if status == "completed":
            title = "plan completed"
        else:  # a step that fails the plan is recorded, then the plan's end
            title = "plan failed" if final else "this step fails the plan"
        trips = _trip_lines(record.guard_trips)
        return TimelineEntry(status, record.step, title, (*details, *trips))

    def _decision(self, record: StepRecord) -> TimelineEntry:
        decision = record.decision
        action = decision.next_action if decision is not None else None
        if action is None:
            title = f"decision: {record.note or 'search the registry'}"
        elif action.action == "publish":
            title = f"decision: publish {action.event_type}"
        elif action.action == "complete":
            title = "decision: complete the goal"
        elif action.action == "wait":
            title = f"decision: wait for {action.expected_event}"
        else:
            title = f"decision: delegate {action.goal_event} to another planner"
        details: list[str] = []
        if record.reasoning:
            details.append(f"reasoning: {brief(record.reasoning, 400)}")
        details.extend(_trip_lines(record.guard_trips))
        details.append(_model_line(record))
        return TimelineEntry(
            "decision",
            record.step,
            title,
            tuple(details),
            agent=self.planner,
            model=record.model,
            offline=is_offline(record.model),
        )

    def _published(self, record: StepRecord) -> TimelineEntry:
        request = next(
            (e for e in self.requests if e.type == record.event and e.id not in self.used_requests),
            None,
        )
        details: list[str] = []
        if request is not None:
            self.used_requests.add(request.id)
            self.last_request = request
            details.extend(data_lines(request.data))
            if request.response_event:
                details.append(f"expects: {request.response_event}")
        return TimelineEntry(
            "published",
            record.step,
            f"published {record.event}{f' ({record.note})' if record.note else ''}",
            tuple(details),
        )

    def _result(self, record: StepRecord) -> TimelineEntry:
        request = self.last_request
        result = None
        if request is not None:
            result = next((e for e in self.results if e.correlation_id == request.id), None)
        if result is None:
            result = next((e for e in self.results if e.type == record.event), None)
        source = result.source if result is not None else None
        data = dict(result.data or {}) if result is not None else {}
        details = list(data_lines(data))
        if request is not None and result is not None:
            details.insert(0, f"handled {request.type} (request {request.id[:8]})")
        if record.note and not record.note.startswith("from "):
            details.append(f"note: {brief(record.note)}")
        stored = self._stored_by(data)
        if stored:
            details.append("working memory ← " + ", ".join(stored))
        who = source or (record.note or "").removeprefix("from ") or None
        return TimelineEntry(
            "result",
            record.step,
            f"{record.event} from {who or 'an unnamed agent'}",
            tuple(details),
            agent=who,
        )

    def _stored_by(self, data: Mapping[str, Any]) -> list[str]:
        """Working-memory keys holding what this result carries (see the module docstring)."""
        carried = [data, *data.values()]
        stored = []
        for key, value in self.memory.items():
            if key in self.shown and self.shown[key] == value:
                continue
            if any(value == item for item in carried):
                self.shown[key] = value
                stored.append(f"{key} ({brief(value, 60)})")
        return stored

    def _ending(self) -> list[TimelineEntry]:
        entries: list[TimelineEntry] = []
        rest = [
            f"{key}: {brief(value)}"
            for key, value in self.memory.items()
            if key not in self.shown or self.shown[key] != value
        ]
        if rest:
            step = self._last_step()
            entries.append(TimelineEntry("memory", step, "working memory", tuple(rest)))
        outcome = self.snapshot.outcome
        if outcome is not None:
            flags = [
                label
                for label, on in (
                    ("forced by the action limit", outcome.forced),
                    ("vague completion replaced by content the plan received", outcome.substituted),
                )
                if on
            ]
            details = tuple(f"note: {flag}" for flag in flags)
            if outcome.reason and outcome.status == "failed":
                details += (f"reason: {brief(outcome.reason)}",)
            entries.append(
                TimelineEntry(
                    "answer",
                    outcome.steps,
                    "answer" if outcome.status == "completed" else "no answer: the plan failed",
                    details,
                    text=outcome.result,
                )
            )
        return entries

    def _last_step(self) -> int:
        return self.snapshot.history[-1].step if self.snapshot.history else 0


def _unique(envelopes: Iterable[EventEnvelope]) -> list[EventEnvelope]:
    """Envelopes oldest first, without repeats of one id (a step re-run after a crash
    republishes it), whatever order they were read in."""
    seen: dict[str, EventEnvelope] = {}
    for envelope in envelopes:
        seen.setdefault(envelope.id, envelope)
    return sorted(seen.values(), key=lambda e: (e.time, e.id))


def _trip_lines(trips: Sequence[Mapping[str, Any]]) -> list[str]:
    return [
        f"guard {trip.get('guard')} → {trip.get('action')}: {brief(str(trip.get('reason', '')))}"
        for trip in trips
    ]


def _model_line(record: StepRecord) -> str:
    if is_offline(record.model):
        return f"model: {record.model} (offline heuristic planner, not an LLM)"
    parts = [f"model: {record.model or 'unknown'}"]
    parts.append(f"{record.input_tokens} in / {record.output_tokens} out tokens")
    if record.latency_ms is not None:
        parts.append(f"{record.latency_ms / 1000:.2f} s")
    if record.cost_usd:
        parts.append(dollars(record.cost_usd))
    return " · ".join(parts)
