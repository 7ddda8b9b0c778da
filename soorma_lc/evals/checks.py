"""Expectations against what a trial showed: one :class:`CheckResult` per expectation given."""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator
from typing import Any

from soorma_lc.evals.observe import Observation
from soorma_lc.evals.paths import PathError, json_path
from soorma_lc.evals.results import CheckResult
from soorma_lc.evals.scenario import (
    Bounds,
    CompletionExpect,
    Expect,
    PayloadExpect,
    ResultRef,
)
from soorma_lc.evals.trajectory import matches
from soorma_lc.planners.vague import text_of


def evaluate(expect: Expect, seen: Observation) -> list[CheckResult]:
    """Every check ``expect`` asks for, in a stable order."""
    return list(_checks(expect, seen))


def _check(name: str, passed: bool, detail: str = "") -> CheckResult:
    return CheckResult(name=name, passed=passed, detail="" if passed else detail)


def _checks(expect: Expect, seen: Observation) -> Iterator[CheckResult]:
    outcome = seen.outcome
    status = outcome.status if outcome else "no outcome"
    if expect.status is not None:
        yield _check("status", status == expect.status, f"expected {expect.status}, got {status}")
    if expect.termination is not None:
        got = seen.termination
        yield _check(
            "termination", got == expect.termination, f"expected {expect.termination}, got {got}"
        )
    reason = (outcome.reason if outcome else None) or ""
    for text in expect.reason_contains:
        yield _check(f"reason contains {text!r}", text in reason, f"reason: {reason!r}")
    for flag in ("forced", "substituted"):
        wanted = getattr(expect, flag)
        if wanted is not None:
            got = bool(outcome and getattr(outcome, flag))
            yield _check(flag, got == wanted, f"expected {flag}={wanted}, got {got}")
    if expect.abstain is not None:
        detail = (
            f"published {seen.trajectory}" if expect.abstain else "published nothing and completed"
        )
        yield _check(
            "abstain" if expect.abstain else "acts", seen.abstained == expect.abstain, detail
        )
    yield from _event_checks(expect, seen)
    if expect.trajectory is not None:
        want, mode = expect.trajectory.events, expect.trajectory.match
        yield _check(
            f"trajectory ({mode})",
            matches(seen.trajectory, want, mode),
            f"expected {want}, published {seen.trajectory}",
        )
    for payload in expect.payloads:
        yield _payload_check(payload, seen)
    if expect.completion is not None:
        yield from _completion_checks(expect.completion, seen)
    counts = {
        "actions": len(seen.actions),
        "steps": outcome.steps if outcome else 0,
        "rejections": seen.count("rejected"),
        "timeouts": seen.count("timeout"),
        "vague_results": seen.vague_results,
    }
    for name, value in counts.items():
        bounds: Bounds | None = getattr(expect, name)
        if bounds is not None:
            yield _check(f"{name} {bounds}", bounds.holds(value), f"got {value}")
    waited = [d.removeprefix("wait_for_event:") for d in seen.decisions if d.startswith("wait_for")]
    for event in expect.waits:
        yield _check(f"waits for {event}", event in waited, f"waited for {waited or 'nothing'}")
    if expect.compensated is not None:
        done = [c.get("event") for c in (outcome.compensations if outcome else []) if _done(c)]
        yield _check(
            f"compensates {expect.compensated}", done == expect.compensated, f"compensated {done}"
        )
    trips = seen.guard_trips
    for guard in expect.guards.expected:
        yield _check(f"guard {guard} trips", trips[guard] > 0, f"trips: {dict(trips) or 'none'}")
    for guard in expect.guards.forbidden:
        yield _check(f"guard {guard} never trips", trips[guard] == 0, f"tripped {trips[guard]}x")


def _done(compensation: dict[str, Any]) -> bool:
    return compensation.get("status") == "done"


def _event_checks(expect: Expect, seen: Observation) -> Iterator[CheckResult]:
    published = seen.trajectory
    for event in expect.events.required:
        yield _check(f"publishes {event}", event in published, f"published {published}")
    for pattern in expect.events.forbidden:
        hits = [e for e in published if fnmatch.fnmatchcase(e, pattern)]
        yield _check(f"never publishes {pattern}", not hits, f"published {hits}")
    for first, then in expect.events.order:
        ok = first in published and then in published
        ok = ok and published.index(first) < published.index(then)
        yield _check(f"{first} before {then}", ok, f"published {published}")


def _result_value(ref: ResultRef, seen: Observation) -> tuple[Any, str | None]:
    """The referenced value, or why there is none."""
    data = seen.latest_result(ref.event)
    if data is None:
        return None, f"no {ref.event} result was received"
    if ref.path is None:
        return text_of(data), None
    try:
        return json_path(data, ref.path), None
    except PathError as exc:
        return None, f"{ref.event}: {exc}"


def _carries(value: Any, source: Any) -> bool:
    if isinstance(value, str) and isinstance(source, str):
        return source.strip() in value
    return value == source


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _payload_check(expect: PayloadExpect, seen: Observation) -> CheckResult:
    name = f"payload of {expect.event} at {expect.path}"
    payloads = [a.get("payload") for a in seen.actions if a.get("event") == expect.event]
    index = expect.occurrence - 1 if expect.occurrence > 0 else expect.occurrence
    if not -len(payloads) <= index < len(payloads):
        return _check(name, False, f"{expect.event} published {len(payloads)} times")
    try:
        value = json_path(payloads[index], expect.path)
    except PathError as exc:
        return _check(name, expect.exists is False, str(exc))
    problems = []
    if expect.exists is False:
        problems.append("exists, expected absent")
    if expect.equals is not None and value != expect.equals:
        problems.append(f"{value!r} != {expect.equals!r}")
    if expect.contains is not None and expect.contains not in _as_text(value):
        problems.append(f"{_as_text(value)[:200]!r} lacks {expect.contains!r}")
    if expect.matches is not None and not re.search(expect.matches, _as_text(value)):
        problems.append(f"{_as_text(value)[:200]!r} does not match {expect.matches!r}")
    if expect.from_result is not None:
        source, missing = _result_value(expect.from_result, seen)
        if missing:
            problems.append(missing)
        elif not _carries(value, source):
            problems.append(f"{_as_text(value)[:120]!r} does not carry {_as_text(source)[:120]!r}")
    return _check(name, not problems, "; ".join(problems))


def _completion_checks(expect: CompletionExpect, seen: Observation) -> Iterator[CheckResult]:
    result = (seen.outcome.result if seen.outcome else None) or ""
    shown = repr(result[:200])
    for text in expect.contains:
        yield _check(f"completion contains {text!r}", text in result, f"completion: {shown}")
    for text in expect.not_contains:
        yield _check(f"completion lacks {text!r}", text not in result, f"completion: {shown}")
    if expect.from_result is not None:
        source, missing = _result_value(expect.from_result, seen)
        ok = missing is None and _carries(result, _as_text(source))
        detail = missing or f"completion {shown} does not carry {_as_text(source)[:120]!r}"
        yield _check(f"completion from {expect.from_result.event}", ok, detail)
