"""Plan timelines from public traces: entries in history order, bus events and working memory
attached where they belong, whatever order the observer read them in."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console

from soorma_lc.events import EventEnvelope, EventTopic
from soorma_lc.memory.plans import Plan, PlanStatus
from soorma_lc.planners.records import PlanOutcome, StepRecord
from soorma_lc.timeline import PlanSnapshot, TimelinePrinter, build_timeline, summary_line
from soorma_lc.timeline.entries import brief

PLAN = "plan-1"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _plan(status: PlanStatus = PlanStatus.COMPLETED) -> Plan:
    return Plan(
        plan_id=PLAN,
        tenant_id="acme",
        user_id="alice",
        goal_event="research.goal",
        goal_data={"topic": "Docker", "audience": "devs"},
        status=status,
        created_at=T0,
        updated_at=T0,
    )


def _record(step: int, kind: str, seconds: float, **fields: Any) -> StepRecord:
    return StepRecord(
        plan_id=PLAN, step=step, kind=kind, at=T0 + timedelta(seconds=seconds), **fields
    )


def _envelope(type_: str, topic: EventTopic, id_: str, **fields: Any) -> EventEnvelope:
    return EventEnvelope(id=id_, type=type_, topic=topic, plan_id=PLAN, **fields)


REQUEST = _envelope(
    "research.requested",
    EventTopic.ACTION_REQUESTS,
    "req-1",
    source="research-planner",
    data={"topic": "Docker"},
    correlation_id="req-1",
    response_event="research.completed",
)
FINDINGS = [{"source": "docker-images.md", "text": "Images are layered."}]
RESULT = _envelope(
    "research.completed",
    EventTopic.ACTION_RESULTS,
    "res-1",
    source="researcher",
    correlation_id="req-1",
    data={"topic": "Docker", "findings": FINDINGS},
)
OUTCOME = PlanOutcome(
    plan_id=PLAN, status="completed", result="# Docker\n\nImages are layered.", actions=1, steps=2
)
DONE = _envelope(
    "plan.completed", EventTopic.SYSTEM_EVENTS, "sys-1", data=OUTCOME.model_dump(mode="json")
)
HISTORY = [
    _record(0, "decision", 0, event="research.goal", note="plan opened"),
    _record(
        1,
        "decision",
        0.1,
        event="research.requested",
        reasoning="Find facts first.",
        model="gpt-x",
        input_tokens=90,
        output_tokens=9,
        latency_ms=800,
        cost_usd=0.0012,
        decision={
            "plan_id": PLAN,
            "current_state": "decide",
            "next_action": {"action": "publish", "event_type": "research.requested"},
        },
    ),
    _record(1, "published", 0.2, event="research.requested", note="action 1 of 5"),
    _record(2, "result", 0.6, event="research.completed", note="from researcher"),
    _record(
        2,
        "decision",
        0.7,
        model="gpt-x",
        guard_trips=[{"guard": "vague_completion", "action": "replace", "reason": "vague"}],
        decision={
            "plan_id": PLAN,
            "current_state": "decide",
            "next_action": {"action": "complete", "result": {"result": "done"}},
        },
    ),
    _record(2, "completed", 0.8, note="# Docker"),
]


def _snapshot(**fields: Any) -> PlanSnapshot:
    values: dict[str, Any] = {
        "plan": _plan(),
        "history": HISTORY,
        "events": [REQUEST, RESULT, DONE],
        "memory": {"findings": FINDINGS, "notes": "kept", "_action_count": 1},
    }
    return PlanSnapshot(**{**values, **fields})


def test_entries_follow_the_history_with_bus_and_memory_detail() -> None:
    entries = build_timeline(_snapshot())

    assert [e.kind for e in entries] == [
        "goal",
        "decision",
        "published",
        "result",
        "decision",
        "completed",
        "memory",
        "answer",
    ]
    goal, decision, published, result, complete, _, memory, answer = entries
    assert goal.details == ("audience: devs", "topic: Docker")  # sorted keys
    assert decision.title == "decision: publish research.requested"
    assert decision.details == (
        "reasoning: Find facts first.",
        "model: gpt-x · 90 in / 9 out tokens · 0.80 s · $0.001200",
    )
    assert not decision.offline and decision.agent == "research-planner"
    assert published.details == ("topic: Docker", "expects: research.completed")
    assert result.title == "research.completed from researcher" and result.agent == "researcher"
    assert result.details == (
        "handled research.requested (request req-1)",
        "findings: 1 item",
        "topic: Docker",
        "working memory ← findings (1 item)",
    )
    assert complete.details[0] == "guard vague_completion → replace: vague"
    assert memory.details == ("notes: kept",)  # no result carried it; _keys are bookkeeping
    assert answer.text == OUTCOME.result


def test_the_order_events_were_read_in_does_not_change_the_timeline() -> None:
    forward = build_timeline(_snapshot())
    backward = build_timeline(_snapshot(events=[DONE, RESULT, REQUEST, REQUEST]))
    assert forward == backward


def test_a_running_plan_shows_what_is_known_and_no_ending() -> None:
    snapshot = _snapshot(
        plan=_plan(PlanStatus.RUNNING), history=HISTORY[:3], events=[REQUEST], memory={}
    )
    assert not snapshot.finished
    assert [e.kind for e in build_timeline(snapshot)] == ["goal", "decision", "published"]
    assert summary_line(snapshot) == f"plan {PLAN} running · 1 steps so far · 0.20 s"


def test_a_plan_without_history_ends_with_its_status() -> None:
    snapshot = _snapshot(plan=_plan(PlanStatus.FAILED), history=[], events=[], memory={})
    assert snapshot.finished
    assert [(e.kind, e.title) for e in build_timeline(snapshot)] == [
        ("goal", f"goal research.goal opened plan {PLAN}"),
        ("failed", "plan failed"),
    ]


def test_summary_and_printed_lines() -> None:
    snapshot = _snapshot()
    assert summary_line(snapshot) == (
        f"plan {PLAN} completed · 2 steps, 1 actions · 0.80 s · 0 in / 0 out tokens"
    )
    buffer = io.StringIO()
    printer = TimelinePrinter(Console(file=buffer, width=80, color_system=None))
    for entry in build_timeline(snapshot):
        printer.entry(entry)
    out = buffer.getvalue()
    assert "   1  ◆ decision: publish research.requested\n" in out
    assert "   2  ← research.completed from researcher\n" in out
    assert "[offline" not in out


def test_text_from_plans_is_not_read_as_markup() -> None:
    buffer = io.StringIO()
    printer = TimelinePrinter(Console(file=buffer, width=80, color_system=None))
    printer.notice("[bold]not markup[/bold]")
    assert "[bold]not markup[/bold]" in buffer.getvalue()


def test_brief_values_are_short_and_stable() -> None:
    assert brief({"b": 1, "a": [1, 2]}) == '{"a": [1, 2], "b": 1}'
    assert brief(["x", "y"]) == "2 items"
    assert brief("one\n  two") == "one two"
    assert brief("x" * 300, 10) == "x" * 9 + "…"


def test_a_plan_failed_by_a_guard_reads_as_one_failure() -> None:
    trip = {"guard": "budget", "action": "fail", "reason": "over budget"}
    history = [
        *HISTORY[:4],
        _record(2, "failed", 0.7, note="over budget", guard_trips=[trip]),
        _record(2, "failed", 0.8, note="over budget"),
    ]
    failed = PlanOutcome(plan_id=PLAN, status="failed", reason="over budget", actions=1, steps=2)
    done = _envelope(
        "plan.failed", EventTopic.SYSTEM_EVENTS, "sys-2", data=failed.model_dump(mode="json")
    )
    entries = build_timeline(
        _snapshot(plan=_plan(PlanStatus.FAILED), history=history, events=[REQUEST, RESULT, done])
    )
    assert [(e.kind, e.title) for e in entries[-4:]] == [
        ("failed", "this step fails the plan"),
        ("failed", "plan failed"),
        ("memory", "working memory"),
        ("answer", "no answer: the plan failed"),
    ]
    assert entries[-4].details == ("reason: over budget", "guard budget → fail: over budget")
    assert entries[-1].details == ("reason: over budget",) and entries[-1].text is None
