"""The research-advisor choreography end to end: planner, three workers, real bus and Redis."""

from __future__ import annotations

from soorma_lc import WorkflowState
from soorma_lc.planners import ChoreographyPlanner
from tests.planner_helpers import (
    FINDINGS,
    RESEARCH,
    Stack,
    draft_text,
    research_policy,
    research_workers,
)
from tests.toolkit_helpers import agent_consuming


async def test_research_choreography_completes_with_the_draft(settings) -> None:
    async with Stack(settings) as stack:
        planner = stack.planner(research_policy)
        await stack.start(*research_workers(**stack.shared()), planner)

        outcome = await planner.submit(
            "research.goal", {"topic": "Docker"}, tenant_id="acme", user_id="alice", timeout=30
        )

        assert (outcome.status, outcome.termination) == ("completed", "goal_completed")
        assert outcome.result == draft_text("Docker", FINDINGS)
        assert (outcome.actions, outcome.forced, outcome.substituted) == (3, False, False)
        assert outcome.input_tokens == 400 and outcome.cost_usd > 0
        state = WorkflowState(stack.memory, outcome.plan_id, tenant_id="acme", user_id="alice")
        assert await state.get_action_history() == [
            "research.requested",
            "draft.requested",
            "validation.requested",
        ]
        assert await state.get("_action_count") == 3
        history = await planner.history(outcome.plan_id, tenant_id="acme", user_id="alice")
        kinds = [record.kind for record in history]
        assert kinds.count("published") == 3 and kinds.count("result") == 3
        assert kinds[-1] == "completed"
        plan = await stack.memory.get_plan(outcome.plan_id, tenant_id="acme", user_id="alice")
        assert plan is not None and plan.status == "completed"
        assert plan.goal_data == {"topic": "Docker"}


async def test_graph_state_shows_a_waiting_plan(settings) -> None:
    async with Stack(settings) as stack:
        planner: ChoreographyPlanner = stack.planner(research_policy)
        await stack.start(planner)
        # A researcher is registered but not running: the plan waits for its result.
        await stack.registry.register_agent(agent_consuming(RESEARCH))
        envelope_id = await stack.bus.request(
            "research.goal",
            {"topic": "Docker"},
            response_event="research.goal.completed",
            tenant_id="acme",
            user_id="alice",
        )
        plan_id = planner.plan_id_for(envelope_id)
        config = planner.run_config(plan_id, tenant_id="acme")
        for _ in range(200):
            snapshot = await planner.graph.aget_state(config)
            if snapshot.interrupts:
                break
            import asyncio

            await asyncio.sleep(0.05)
        assert snapshot.next == ("decide",)
        awaiting = snapshot.values["awaiting"]
        assert awaiting["event"] == "research.requested" and awaiting["kind"] == "result"
        assert snapshot.interrupts[0].value["plan_id"] == plan_id


async def test_history_pairs_each_request_with_its_result(settings) -> None:
    async with Stack(settings) as stack:
        planner = stack.planner(research_policy)
        await stack.start(*research_workers(**stack.shared()), planner)

        outcome = await planner.submit(
            "research.goal", {"topic": "Docker"}, tenant_id="acme", user_id="alice", timeout=30
        )

        history = await planner.history(outcome.plan_id, tenant_id="acme", user_id="alice")
        published = {r.correlation_id: r.event for r in history if r.kind == "published"}
        answered = {r.correlation_id: r.event for r in history if r.kind == "result"}
        assert set(published) == set(answered) and len(published) == 3
        assert published[next(c for c, e in answered.items() if e == "draft.completed")] == (
            "draft.requested"
        )
