"""Resilience: budgets, deadlines with retries and late results, cancellation with
compensation (Saga), escalation to a person, loop and stall guards."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from soorma_lc import AgentContext, EventDefinition, EventEnvelope, EventTopic, Worker
from soorma_lc.errors import InvalidEventError
from soorma_lc.planners import Budget, EscalationPolicy, RetryPolicy
from soorma_lc.planners.compensation import build_compensation, compensation_spec
from soorma_lc.planners.guards import LoopGuard, StallGuard
from tests.planner_helpers import (
    FINDINGS,
    RESEARCH,
    Stack,
    call,
    draft_text,
    goal_data,
    published_types,
    research_policy,
    research_workers,
    results,
    run_goal,
)
from tests.toolkit_helpers import agent_consuming

SCOPE = {"tenant_id": "acme", "user_id": "alice"}
DRAFT_TEXT = draft_text("Docker", FINDINGS)


async def plan_of(stack: Stack) -> str:
    for _ in range(400):
        plans = await stack.memory.list_plans(**SCOPE)
        if plans:
            return plans[0].plan_id
        await asyncio.sleep(0.025)
    raise AssertionError("no plan")


def prompts_text(planner: Any) -> str:
    return "\n".join(str(m.content) for prompt in planner.services.model.prompts for m in prompt)


# -- budgets --------------------------------------------------------------------------------------


async def test_a_token_budget_forces_a_graceful_completion(settings, redis_client):
    async with Stack(settings) as stack:
        planner = stack.planner(research_policy, budget=Budget(tokens=200))
        await stack.start(*research_workers(**stack.shared()), planner)

        outcome = await run_goal(planner)

        assert outcome.forced and "token budget exhausted (220 of 200" in (outcome.reason or "")
        assert outcome.termination == "budget"
        assert outcome.result == DRAFT_TEXT and outcome.actions == 2
        assert "validation.requested" not in published_types(redis_client)


async def test_a_cost_budget_forces_a_graceful_completion(settings):
    async with Stack(settings) as stack:
        planner = stack.planner(research_policy, budget=Budget(cost_usd=0.0025))
        await stack.start(*research_workers(**stack.shared()), planner)

        outcome = await run_goal(planner)

        assert outcome.forced and "cost budget exhausted" in (outcome.reason or "")


async def test_a_time_budget_fires_while_the_plan_waits(settings):
    async with Stack(settings) as stack:
        planner = stack.planner(research_policy, budget=Budget(seconds=0.4))
        await stack.start(planner)
        await stack.registry.register_agent(agent_consuming(RESEARCH))  # never answers

        outcome = await run_goal(planner)

        assert outcome.forced and "time budget exhausted (0.4 s)" in (outcome.reason or "")
        assert outcome.actions == 1 and await planner.services.timers.pending() == 0


def test_budget_and_policy_values_are_checked():
    from soorma_lc.errors import ConfigurationError

    for bad in (
        lambda: Budget(tokens=0),
        lambda: Budget(seconds=-1),
        lambda: RetryPolicy(attempts=-1),
        lambda: RetryPolicy(backoff=0),
        lambda: EscalationPolicy(timeout=0),
    ):
        with pytest.raises(ConfigurationError):
            bad()
    assert EscalationPolicy(topic="ops.reviews").topic == "ops.reviews"  # a custom topic


# -- deadlines and retries ------------------------------------------------------------------------


def slow_researcher(stack: Stack, delays: list[float]) -> Worker:
    """Answers its n-th request after delays[n] seconds (concurrently)."""
    worker = Worker("researcher", consumes=[RESEARCH], **stack.shared())
    calls: list[str] = []

    @worker.on_event("research.requested")
    async def research(event: EventEnvelope, context: AgentContext) -> None:
        calls.append(event.id)
        await asyncio.sleep(delays[min(len(calls) - 1, len(delays) - 1)])
        await context.bus.respond(event, data={"findings": FINDINGS})

    worker.calls = calls  # type: ignore[attr-defined]
    return worker


async def test_a_missed_deadline_publishes_the_request_again(settings, redis_client):
    async with Stack(settings) as stack:
        _, advisor, validator = research_workers(**stack.shared())
        researcher = slow_researcher(stack, [0.8, 0.0])
        planner = stack.planner(
            research_policy, response_timeout=0.3, retry=RetryPolicy(attempts=2, backoff=1.0)
        )
        await stack.start(researcher, advisor, validator, planner)

        outcome = await run_goal(planner)

        assert outcome.status == "completed" and outcome.result == DRAFT_TEXT
        assert outcome.actions == 3  # a retry is not a new action
        assert len(set(researcher.calls)) == 2  # two attempts, two ids
        history = await planner.history(outcome.plan_id, **SCOPE)
        assert any(r.kind == "timeout" and "attempt 2" in (r.note or "") for r in history)


async def test_a_late_result_of_an_earlier_attempt_is_accepted_once(settings):
    async with Stack(settings) as stack:
        _, advisor, validator = research_workers(**stack.shared())
        researcher = slow_researcher(stack, [0.5, 3.0])  # the first attempt answers, late
        planner = stack.planner(
            research_policy, response_timeout=0.3, retry=RetryPolicy(attempts=1, backoff=1.0)
        )
        await stack.start(researcher, advisor, validator, planner)

        outcome = await run_goal(planner)

        assert outcome.status == "completed"
        history = await planner.history(outcome.plan_id, **SCOPE)
        assert [r.event for r in history if r.kind == "result"].count("research.completed") == 1


async def test_after_the_last_attempt_the_model_hears_of_the_timeout_and_a_late_result(settings):
    def policy(messages: list[BaseMessage], tools: list[str]) -> AIMessage:
        errors = [m for m in messages if isinstance(m, ToolMessage) and m.status == "error"]
        late = [
            m for m in messages if isinstance(m, HumanMessage) and "late result" in str(m.content)
        ]
        if late:
            return call("complete_goal", {"result": f"Late but here: {FINDINGS}"})
        if errors:
            return call("wait_for_event", {"event_name": "never.happens", "timeout_seconds": 3})
        return call("research_requested", {"topic": goal_data(messages)["topic"]})

    async with Stack(settings) as stack:
        researcher = slow_researcher(stack, [0.6])
        planner = stack.planner(policy, response_timeout=0.2)
        await stack.start(researcher, planner)

        outcome = await run_goal(planner)

        assert outcome.result == f"Late but here: {FINDINGS}"
        assert "timed out" in prompts_text(planner)


# -- cancellation and compensation ----------------------------------------------------------------

RESERVE = EventDefinition(
    event_name="inventory.reserve.requested",
    topic=EventTopic.ACTION_REQUESTS,
    description="Reserve stock for an order",
    payload_schema={
        "type": "object",
        "properties": {"sku": {"type": "string"}},
        "required": ["sku"],
    },
    metadata={
        "compensation": {
            "event": "inventory.release.requested",
            "payload": {"reservation_id": "$.result.reservation_id", "sku": "$.request.sku"},
        }
    },
)
CHARGE = EventDefinition(
    event_name="payment.charge.requested",
    topic=EventTopic.ACTION_REQUESTS,
    description="Charge the customer for an order",
    payload_schema={
        "type": "object",
        "properties": {"amount": {"type": "number"}},
        "required": ["amount"],
    },
    metadata={
        "compensation": {
            "event": "payment.refund.requested",
            "payload": {
                "charge_id": "$.result.charge_id",
                "amount": "$.request.amount",
                "reason": "order cancelled",
            },
        }
    },
)
SHIP = EventDefinition(
    event_name="shipping.book.requested",
    topic=EventTopic.ACTION_REQUESTS,
    description="Book a courier for an order",
)
RELEASE = EventDefinition(
    event_name="inventory.release.requested",
    topic=EventTopic.ACTION_REQUESTS,
    description="Release reserved stock",
)
REFUND = EventDefinition(
    event_name="payment.refund.requested",
    topic=EventTopic.ACTION_REQUESTS,
    description="Refund a charge",
)


def order_workers(stack: Stack, undone: list[tuple[str, dict[str, Any]]]) -> list[Worker]:
    shop = Worker("shop", consumes=[RESERVE, CHARGE, RELEASE, REFUND], **stack.shared())

    @shop.on_event("inventory.reserve.requested")
    async def reserve(event: EventEnvelope, context: AgentContext) -> None:
        await context.bus.respond(event, data={"reservation_id": "r-1"})

    @shop.on_event("payment.charge.requested")
    async def charge(event: EventEnvelope, context: AgentContext) -> None:
        await context.bus.respond(event, data={"charge_id": "ch-9"})

    async def undo(event: EventEnvelope, context: AgentContext) -> None:
        undone.append((event.type, dict(event.data or {})))
        await context.bus.respond(event, data={"ok": True})

    shop.add_handler("inventory.release.requested", undo)
    shop.add_handler("payment.refund.requested", undo)
    return [shop]


def order_policy(messages: list[BaseMessage], tools: list[str]) -> AIMessage:
    done = [r["event"] for r in results(messages)]
    if not done:
        return call("inventory_reserve_requested", {"sku": "A-1"})
    if len(done) == 1:
        return call("payment_charge_requested", {"amount": 42.5})
    return call("shipping_book_requested", {})


async def test_cancel_runs_the_compensations_in_reverse_order(settings):
    undone: list[tuple[str, dict[str, Any]]] = []
    async with Stack(settings) as stack:
        planner = stack.planner(order_policy)
        await stack.start(*order_workers(stack, undone), planner)
        await stack.registry.register_agent(agent_consuming(SHIP, agent_id="courier"))
        outcome_task = asyncio.create_task(run_goal(planner, {"order": "o-1"}))
        plan_id = await plan_of(stack)
        for _ in range(400):  # until the plan waits for the courier
            history = await planner.history(plan_id, **SCOPE)
            if any(r.event == "shipping.book.requested" for r in history):
                break
            await asyncio.sleep(0.025)

        await planner.cancel(plan_id, reason="customer changed their mind", **SCOPE)
        await planner.cancel(plan_id, reason="changed it twice", **SCOPE)  # handled at once
        outcome = await outcome_task

        assert (outcome.status, outcome.termination) == ("failed", "cancelled")
        assert outcome.reason in (  # whichever cancel took the plan's lease first
            "cancelled: customer changed their mind",
            "cancelled: changed it twice",
        )
        assert undone == [
            (
                "payment.refund.requested",
                {"charge_id": "ch-9", "amount": 42.5, "reason": "order cancelled"},
            ),
            ("inventory.release.requested", {"reservation_id": "r-1", "sku": "A-1"}),
        ]
        assert [(c["event"], c["status"]) for c in outcome.compensations] == [
            ("payment.refund.requested", "done"),
            ("inventory.release.requested", "done"),
        ]
        plan = await stack.memory.get_plan(plan_id, **SCOPE)
        assert plan is not None and plan.status == "failed"


async def test_a_compensation_that_cannot_be_built_is_reported_not_guessed(settings):
    broken = RESERVE.model_copy(
        update={
            "metadata": {
                "compensation": {
                    "event": "inventory.release.requested",
                    "payload": {"reservation_id": "$.result.no_such_field"},
                }
            }
        }
    )
    undone: list[tuple[str, dict[str, Any]]] = []
    async with Stack(settings) as stack:
        workers = order_workers(stack, undone)
        planner = stack.planner(order_policy)
        await stack.start(*workers, planner)
        await stack.registry.register_event(broken)  # the shop registered the good one
        await stack.registry.register_agent(agent_consuming(SHIP, agent_id="courier"))
        task = asyncio.create_task(run_goal(planner, {"order": "o-2"}))
        plan_id = await plan_of(stack)
        for _ in range(400):
            history = await planner.history(plan_id, **SCOPE)
            if any(r.event == "shipping.book.requested" for r in history):
                break
            await asyncio.sleep(0.025)
        await planner.cancel(plan_id, **SCOPE)
        outcome = await task

        statuses = {c["event"]: c["status"] for c in outcome.compensations}
        assert statuses["payment.refund.requested"] == "done"
        assert statuses["inventory.release.requested"] == "skipped"
        skipped = next(c for c in outcome.compensations if c["status"] == "skipped")
        assert "$.result.no_such_field" in skipped["reason"]


def test_compensation_specs_and_paths():
    spec = compensation_spec(
        {
            "compensation": {
                "event": "x.undo",
                "payload": {
                    "id": "$.result.items[1].id",
                    "why": "rollback",
                    "sku": "$.request.sku",
                },
            }
        }
    )
    assert spec is not None
    request, result = {"sku": "A"}, {"items": [{"id": 1}, {"id": 2}]}
    assert build_compensation(spec, request, result) == {"id": 2, "why": "rollback", "sku": "A"}
    with pytest.raises(KeyError, match=r"\$\.result\.missing"):
        build_compensation({"event": "x", "payload": {"a": "$.result.missing"}}, {}, {})
    assert compensation_spec({}) is None
    for bad in (
        {"compensation": "x.undo"},
        {"compensation": {"payload": {}}},
        {"compensation": {"event": "x", "payload": []}},
    ):
        with pytest.raises(InvalidEventError):
            compensation_spec(bad)


# -- escalation -----------------------------------------------------------------------------------


def stubborn_until_told(messages: list[BaseMessage], tools: list[str]) -> AIMessage:
    """Calls a tool that does not exist, until a person's instruction arrives."""
    if any(isinstance(m, HumanMessage) and "approved going on" in str(m.content) for m in messages):
        return research_policy(messages, tools)
    return call("web_search", {"q": "docker"})


async def test_escalation_pauses_the_plan_until_a_person_approves(settings):
    async with Stack(settings) as stack:
        planner = stack.planner(
            stubborn_until_told, max_repairs=1, escalation=EscalationPolicy(timeout=30)
        )
        await stack.start(*research_workers(**stack.shared()), planner)
        task = asyncio.create_task(run_goal(planner))
        plan_id = await plan_of(stack)
        for _ in range(400):
            plan = await stack.memory.get_plan(plan_id, **SCOPE)
            if plan is not None and plan.status == "paused":
                break
            await asyncio.sleep(0.025)
        assert plan is not None and plan.status == "paused"

        reviewer = stack.planner(research_policy)  # another process would do the same
        await reviewer.review(plan_id, approve=True, instruction="use research_requested", **SCOPE)
        outcome = await task

        assert outcome.status == "completed" and outcome.result == DRAFT_TEXT
        assert "use research_requested" in prompts_text(planner)


async def test_a_person_can_stop_a_paused_plan(settings):
    async with Stack(settings) as stack:
        planner = stack.planner(
            stubborn_until_told, max_repairs=0, escalation=EscalationPolicy(timeout=30)
        )
        await stack.start(planner)
        task = asyncio.create_task(run_goal(planner))
        plan_id = await plan_of(stack)
        for _ in range(400):
            plan = await stack.memory.get_plan(plan_id, **SCOPE)
            if plan is not None and plan.status == "paused":
                break
            await asyncio.sleep(0.025)
        await planner.review(plan_id, approve=False, instruction="wrong goal", **SCOPE)
        outcome = await task

        assert (outcome.status, outcome.termination) == ("failed", "review_rejected")
        assert outcome.reason == "a reviewer stopped the plan: wrong goal"


# -- loops and stalls -----------------------------------------------------------------------------


async def test_a_ping_pong_between_two_events_is_sent_back(settings):
    def ping_pong(messages: list[BaseMessage], tools: list[str]) -> AIMessage:
        errors = [m for m in messages if isinstance(m, ToolMessage) and m.status == "error"]
        if errors:
            return call("complete_goal", {"result": FINDINGS})
        n = len(results(messages))
        if n % 2 == 0:
            return call("research_requested", {"topic": f"docker {n}"})
        return call("draft_requested", {"topic": f"docker {n}", "findings": FINDINGS})

    async with Stack(settings) as stack:
        planner = stack.planner(ping_pong, guards=[LoopGuard(length=4)])
        await stack.start(*research_workers(**stack.shared()), planner)

        outcome = await run_goal(planner)

        assert outcome.status == "completed" and outcome.actions == 3
        assert "alternating between research.requested and draft.requested" in prompts_text(
            planner
        ) or "alternating between draft.requested and research.requested" in prompts_text(planner)


async def test_results_that_bring_nothing_new_trip_the_stall_guard(settings):
    def same_again(messages: list[BaseMessage], tools: list[str]) -> AIMessage:
        if any(isinstance(m, ToolMessage) and "No progress" in str(m.content) for m in messages):
            return call("complete_goal", {"result": FINDINGS})
        return call("research_requested", {"topic": f"docker part {len(results(messages))}"})

    async with Stack(settings) as stack:
        planner = stack.planner(same_again, guards=[StallGuard(steps=2)])
        await stack.start(*research_workers(**stack.shared()), planner)

        outcome = await run_goal(planner)

        assert outcome.status == "completed" and outcome.result == FINDINGS
        assert outcome.actions == 3  # new findings, then two that added nothing


async def test_a_persistent_stall_escalates_or_stops(settings):
    async with Stack(settings) as stack:
        planner = stack.planner(
            lambda m, t: call("research_requested", {"topic": f"t{len(results(m))}"}),
            guards=[StallGuard(steps=1, nudges=2)],
            max_repairs=10,
        )
        await stack.start(*research_workers(**stack.shared()), planner)

        outcome = await run_goal(planner)

        assert outcome.forced and "stalled" in (outcome.reason or "")
        assert outcome.termination == "guard_stopped"
        assert outcome.result == FINDINGS
