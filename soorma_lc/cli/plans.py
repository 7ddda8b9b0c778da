"""Verbs for plans: submit a goal, list plans, show a plan's timeline from its recorded history,
watch one live, cancel one, answer one paused for review.

Plans are visible to the tenant and user that own them: ``--tenant`` / ``--user`` (default:
the settings' SOORMA_TENANT_ID / SOORMA_USER_ID).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from soorma_lc.cli import Verbs, add_group, add_verb, err, out
from soorma_lc.cli.settings import (
    add_scope,
    positive_float,
    positive_int,
    scope,
    verb_settings,
)
from soorma_lc.errors import PlanNotFoundError

if TYPE_CHECKING:
    from soorma_lc.timeline import PlanFeed


@contextlib.asynccontextmanager
async def _feed_parts(args: argparse.Namespace) -> AsyncIterator[dict[str, Any]]:
    """Bus, memory and checkpointer on the configured Redis, plus the scope; closed after."""
    from soorma_lc.bus import RedisStreamsBus
    from soorma_lc.memory import MemoryClient, RedisCheckpointSaver

    settings = verb_settings()
    bus = RedisStreamsBus.from_settings(settings)
    memory = MemoryClient.from_settings(settings)
    checkpointer = RedisCheckpointSaver.from_settings(settings)
    try:
        yield {
            **scope(args, settings),
            "bus": bus,
            "memory": memory,
            "checkpointer": checkpointer,
        }
    finally:
        await checkpointer.aclose()
        await memory.aclose()
        await bus.aclose()


def _feed(plan_id: str, parts: dict[str, Any]) -> PlanFeed:
    from soorma_lc.timeline import PlanFeed

    return PlanFeed(plan_id, **parts)


def _not_found(exc: PlanNotFoundError, parts: dict[str, Any]) -> int:
    err(
        f"{exc} for tenant {parts['tenant_id']}, user {parts['user_id']} "
        "(see soorma-lc plan list; --tenant and --user choose whose plans)"
    )
    return 1


def _printer() -> Any:
    from rich.console import Console

    from soorma_lc.timeline import TimelinePrinter

    return TimelinePrinter(Console())


def cmd_list(args: argparse.Namespace) -> int:
    """The user's plans, most recently updated first."""

    from soorma_lc.timeline.entries import brief

    async def show() -> None:
        async with _feed_parts(args) as parts:
            plans = await parts["memory"].list_plans(
                tenant_id=parts["tenant_id"],
                user_id=parts["user_id"],
                status=args.status,
                limit=args.limit,
            )
        if not plans:
            out(f"no plans for tenant {parts['tenant_id']}, user {parts['user_id']}")
        for plan in plans:
            updated = plan.updated_at.strftime("%Y-%m-%d %H:%M:%S")
            out(
                f"{plan.plan_id}  {plan.status.value:<9}  {updated}  {plan.goal_event}  "
                f"{brief(plan.goal_data, 60)}"
            )

    asyncio.run(show())
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """A plan's timeline (past or running) from its recorded history, and its summary."""
    from soorma_lc.timeline import build_timeline

    async def show() -> int:
        async with _feed_parts(args) as parts:
            try:
                snapshot = await _feed(args.plan_id, parts).snapshot()
            except PlanNotFoundError as exc:
                return _not_found(exc, parts)
        printer = _printer()
        for entry in build_timeline(snapshot):
            printer.entry(entry)
        printer.summary(snapshot)
        return 0

    return asyncio.run(show())


def cmd_watch(args: argparse.Namespace) -> int:
    """Follow a plan live until it ends: PLAN_ID, or else the newest running plan, or else
    the next plan to open."""
    from soorma_lc.memory import PlanStatus
    from soorma_lc.timeline import PlanSnapshot, next_plan

    async def watch() -> int:
        async with _feed_parts(args) as parts:
            plan_id = args.plan_id
            memory, who = parts["memory"], {k: parts[k] for k in ("tenant_id", "user_id")}
            if plan_id is None:
                plans = await memory.list_plans(**who, limit=None)
                live = [p for p in plans if p.status in (PlanStatus.RUNNING, PlanStatus.PAUSED)]
                if live:
                    plan_id = live[0].plan_id
                else:
                    err("waiting for the next plan to open (Ctrl-C stops)")
                    known = {p.plan_id for p in plans}
                    plan_id = (await next_plan(memory, **who, known=known)).plan_id
            printer = _printer()
            try:
                async for item in _feed(plan_id, parts).follow(timeout=args.timeout):
                    if isinstance(item, PlanSnapshot):
                        printer.summary(item)
                    else:
                        printer.entry(item)
            except PlanNotFoundError as exc:
                return _not_found(exc, parts)
            except TimeoutError as exc:
                err(f"soorma-lc plan watch: {exc}")
                return 1
            return 0

    return asyncio.run(watch())


def _steer(args: argparse.Namespace, build: Any) -> int:
    """Publish a control event for a plan the user can see (cancel, review)."""

    async def send() -> int:
        async with _feed_parts(args) as parts:
            who = {"tenant_id": parts["tenant_id"], "user_id": parts["user_id"]}
            if await parts["memory"].get_plan(args.plan_id, **who) is None:
                return _not_found(PlanNotFoundError(args.plan_id), parts)
            event_id = await parts["bus"].publish(build(args.plan_id, **who))
            out(f"sent {event_id}; the planner serving plan {args.plan_id} handles it")
            return 0

    return asyncio.run(send())


def cmd_cancel(args: argparse.Namespace) -> int:
    """Cancel a plan: it publishes nothing more, undoes what declares a compensation, fails."""
    from soorma_lc.planners.control import cancel_request

    return _steer(
        args,
        lambda plan_id, **who: cancel_request(
            plan_id, reason=args.reason, source="soorma-lc", **who
        ),
    )


def cmd_review(args: argparse.Namespace) -> int:
    """Answer a plan paused for review: --approve (with an --instruction) or --reject."""
    from soorma_lc.planners.control import review_answer

    return _steer(
        args,
        lambda plan_id, **who: review_answer(
            plan_id, approve=args.approve, instruction=args.instruction, source="soorma-lc", **who
        ),
    )


def cmd_submit(args: argparse.Namespace) -> int:
    """Publish a goal event for the planners that serve it and wait for its plan's outcome."""
    from soorma_lc.bus import RedisStreamsBus
    from soorma_lc.errors import InvalidArgumentError, PlanOutcomeTimeoutError
    from soorma_lc.jsonvalues import parse_json
    from soorma_lc.planners.submitting import await_outcome, publish_goal
    from soorma_lc.registry import registry_from_settings

    data = parse_json(args.data, "DATA", InvalidArgumentError)
    if not isinstance(data, dict):
        err(f"soorma-lc plan submit: DATA must be a JSON object, got {args.data}")
        return 2

    async def submit() -> int:
        settings = verb_settings()
        who = scope(args, settings)
        registry = registry_from_settings(settings)
        try:
            definition = await registry.get_event(args.goal_event)
        finally:
            await registry.aclose()
        if definition is None:
            err(
                f"no event {args.goal_event!r} is registered (registry of tenant "
                f"{settings.tenant_id}): is a planner serving it running? "
                "(see soorma-lc registry events)"
            )
            return 1
        async with RedisStreamsBus.from_settings(settings) as bus:
            submitted = await publish_goal(
                bus, definition, data, session_id=args.session, source="soorma-lc", **who
            )
            out(f"plan {submitted.plan_id} (goal event {submitted.goal_id})")
            if args.no_wait:
                return 0
            err(f"waiting for its outcome; soorma-lc plan watch {submitted.plan_id} shows it live")
            try:
                outcome = await await_outcome(bus, submitted, timeout=args.timeout)
            except PlanOutcomeTimeoutError as exc:
                err(f"soorma-lc plan submit: {exc}")
                return 1
        out(
            f"{outcome.status} ({outcome.termination}): {outcome.actions} actions, "
            f"{outcome.steps} steps"
        )
        out(outcome.result if outcome.status == "completed" else f"reason: {outcome.reason}")
        return 0 if outcome.status == "completed" else 1

    return asyncio.run(submit())


def register(verbs: Verbs) -> None:
    """Add plan submit|list|show|watch|cancel|review."""
    plan = add_group(
        verbs,
        "plan",
        "Plans: submit a goal, list, show a timeline, watch live, cancel, answer a review.",
    )
    submit = add_verb(plan, "submit", cmd_submit)
    submit.add_argument("goal_event", metavar="GOAL_EVENT", help="a planner's goal event")
    submit.add_argument("data", metavar="DATA", nargs="?", default="{}", help="JSON object")
    submit.add_argument("--session", help="session id the plan belongs to")
    submit.add_argument(
        "--timeout", type=positive_float, default=300.0, help="seconds to wait (default 300)"
    )
    submit.add_argument(
        "--no-wait", action="store_true", help="print the plan id and return at once"
    )
    add_scope(submit)

    listing = add_verb(plan, "list", cmd_list)
    listing.add_argument(
        "--status", choices=["running", "paused", "completed", "failed"], help="only these"
    )
    listing.add_argument(
        "--limit", type=positive_int, default=20, help="at most this many (default 20)"
    )
    add_scope(listing)

    show = add_verb(plan, "show", cmd_show)
    show.add_argument("plan_id", metavar="PLAN_ID", help="the plan (see plan list)")
    add_scope(show)

    watch = add_verb(plan, "watch", cmd_watch)
    watch.add_argument("plan_id", metavar="PLAN_ID", nargs="?", help="the plan to follow")
    watch.add_argument("--timeout", type=positive_float, help="give up after this many seconds")
    add_scope(watch)

    cancel = add_verb(plan, "cancel", cmd_cancel)
    cancel.add_argument("plan_id", metavar="PLAN_ID", help="the plan (see plan list)")
    cancel.add_argument("--reason", default="cancelled from the command line", help="why")
    add_scope(cancel)

    review = add_verb(plan, "review", cmd_review)
    review.add_argument("plan_id", metavar="PLAN_ID", help="the paused plan (see plan list)")
    decision = review.add_mutually_exclusive_group(required=True)
    decision.add_argument("--approve", action="store_true", help="let the plan go on")
    decision.add_argument("--reject", action="store_true", help="stop the plan (it fails)")
    review.add_argument("--instruction", help="what the planner's model should do now")
    add_scope(review)
