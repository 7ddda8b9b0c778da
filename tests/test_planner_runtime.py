"""The planner as an event-driven agent: duplicates, waits and deadlines, delegation, bad
input, model failures, Trinity and retrieval."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from soorma_lc import AgentContext, EventDefinition, EventEnvelope, EventTopic, Worker
from soorma_lc.bus.tail import stream_position, wait_for_event
from soorma_lc.errors import (
    ContextWindowExceededError,
    ModelAuthenticationError,
    ModelUnavailableError,
)
from soorma_lc.planners import ChoreographyPlanner
from tests.planner_helpers import (
    FINDINGS,
    RESEARCH,
    PolicyChatModel,
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

DRAFT_TEXT = draft_text("Docker", FINDINGS)
SCOPE = {"tenant_id": "acme", "user_id": "alice"}


async def waiting_plan(planner: ChoreographyPlanner, memory: Any) -> str:
    """The id of alice's one plan, once its graph waits (interrupted)."""
    for _ in range(400):
        plans = await memory.list_plans(**SCOPE)
        if plans:
            snapshot = await planner.graph.aget_state(
                planner.run_config(plans[0].plan_id, tenant_id="acme")
            )
            if snapshot.interrupts:
                return plans[0].plan_id
        await asyncio.sleep(0.025)
    raise AssertionError("no plan started waiting")


# -- duplicates and concurrency ---------------------------------------------------------------


async def test_a_result_delivered_twice_at_once_advances_the_plan_once(settings):
    async with Stack(settings) as stack:
        _, advisor, validator = research_workers(**stack.shared())
        researcher = Worker("researcher", consumes=[RESEARCH], **stack.shared())

        @researcher.on_event("research.requested")
        async def answer_twice(event: EventEnvelope, context: AgentContext) -> None:
            await asyncio.gather(
                context.bus.respond(event, data={"findings": FINDINGS}),
                context.bus.respond(event, data={"findings": FINDINGS}),
            )

        planner = stack.planner(research_policy)
        await stack.start(researcher, advisor, validator, planner)

        outcome = await run_goal(planner)

        assert outcome.status == "completed" and outcome.actions == 3
        history = await planner.history(outcome.plan_id, **SCOPE)
        assert [r.event for r in history if r.kind == "result"] == [
            "research.completed",
            "draft.completed",
            "validation.completed",
        ]


async def test_the_same_goal_event_twice_opens_one_plan(settings, redis_client):
    async with Stack(settings) as stack:
        planner = stack.planner(research_policy)
        await stack.start(*research_workers(**stack.shared()), planner)
        goal = stack.bus.build(
            "research.goal",
            {"topic": "Docker"},
            EventTopic.ACTION_REQUESTS,
            {"response_event": "research.goal.completed", **SCOPE},
        )
        await planner.handle(goal)
        await planner.handle(goal)  # a redelivery: the plan is already open

        assert len(await stack.memory.list_plans(**SCOPE)) == 1
        assert published_types(redis_client).count("research.requested") == 1


async def test_events_for_unknown_or_finished_plans_are_ignored(settings):
    async with Stack(settings) as stack:
        planner = stack.planner(research_policy)
        await stack.start(*research_workers(**stack.shared()), planner)
        outcome = await run_goal(planner)
        stray = EventEnvelope(
            type="research.completed",
            topic=EventTopic.ACTION_RESULTS,
            data={"findings": "late"},
            correlation_id="nobody",
            **SCOPE,
        )
        await planner.handle(stray.model_copy(update={"plan_id": "no-such-plan"}))
        await planner.handle(stray.model_copy(update={"plan_id": outcome.plan_id}))

        history = await planner.history(outcome.plan_id, **SCOPE)
        assert [r.kind for r in history][-1] == "completed"


# -- waits and deadlines ------------------------------------------------------------------------


def approval_policy(timeout: float):
    def policy(messages: list[BaseMessage], tools: list[str]) -> AIMessage:
        answers = [m for m in messages if isinstance(m, ToolMessage)]
        if not answers:
            return call(
                "wait_for_event",
                {
                    "event_name": "approval.granted",
                    "timeout_seconds": timeout,
                    "reason": "a person must approve",
                },
            )
        last = answers[-1]
        if last.status == "error":
            return call("complete_goal", {"result": "Not approved in time: nothing was done."})
        return call("complete_goal", {"result": f"Approved by {last.artifact['data']['by']}."})

    return policy


async def test_wait_for_event_pauses_the_plan_until_the_event_arrives(settings):
    async with Stack(settings) as stack:
        planner = stack.planner(approval_policy(60))
        await stack.start(planner)
        outcome_task = asyncio.create_task(run_goal(planner))
        plan_id = await waiting_plan(planner, stack.memory)
        plan = await stack.memory.get_plan(plan_id, **SCOPE)
        assert plan is not None and plan.status == "paused"

        await stack.bus.announce("approval.granted", {"by": "Dana"}, plan_id=plan_id, **SCOPE)
        outcome = await outcome_task

        assert (outcome.status, outcome.result) == ("completed", "Approved by Dana.")
        assert await planner.services.timers.pending() == 0


async def test_a_wait_that_times_out_tells_the_model(settings):
    async with Stack(settings) as stack:
        planner = stack.planner(approval_policy(0.2))
        await stack.start(planner)

        outcome = await run_goal(planner)

        assert outcome.result == "Not approved in time: nothing was done."
        history = await planner.history(outcome.plan_id, **SCOPE)
        assert "timeout" in [r.kind for r in history]
        assert await planner.services.timers.pending() == 0


async def test_a_request_without_answer_times_out_when_a_deadline_is_set(settings):
    def policy(messages: list[BaseMessage], tools: list[str]) -> AIMessage:
        answers = [m for m in messages if isinstance(m, ToolMessage)]
        if not answers:
            return call("research_requested", {"topic": "Docker"})
        return call("complete_goal", {"result": f"Research failed: {answers[-1].content}"})

    async with Stack(settings) as stack:
        planner = stack.planner(policy, response_timeout=0.3)
        await stack.start(planner)
        await stack.registry.register_agent(agent_consuming(RESEARCH))  # never answers

        outcome = await run_goal(planner)

        assert "timed out" in (outcome.result or "")
        assert outcome.actions == 1


# -- delegation -----------------------------------------------------------------------------------

ARTICLE_GOAL = EventDefinition(
    event_name="article.goal",
    topic=EventTopic.ACTION_REQUESTS,
    description="Write a researched article about a topic",
    payload_schema={
        "type": "object",
        "properties": {"topic": {"type": "string"}},
        "required": ["topic"],
    },
)


async def test_delegate_goal_runs_a_child_plan_on_another_planner(settings):
    def parent_policy(messages: list[BaseMessage], tools: list[str]) -> AIMessage:
        got = results(messages)
        if not got:
            assert "delegate_goal" in tools and "research_requested" in tools
            return call(
                "delegate_goal",
                {
                    "goal_event": "article.goal",
                    "goal_data": {"topic": goal_data(messages)["topic"]},
                    "reasoning": "the writer planner does articles",
                },
            )
        return call("complete_goal", {"result": got[-1]["data"]["result"]})

    async with Stack(settings) as stack:
        parent = stack.planner(parent_policy)
        child = ChoreographyPlanner(
            "writer-planner",
            PolicyChatModel(policy=research_policy),
            goal_events=[ARTICLE_GOAL],
            log_episodes=False,
            lease_ttl=2.0,
            **stack.shared(),
        )
        await stack.start(*research_workers(**stack.shared()), child, parent)

        outcome = await run_goal(parent)

        assert (outcome.status, outcome.result) == ("completed", DRAFT_TEXT)
        plans = {p.goal_event: p for p in await stack.memory.list_plans(**SCOPE)}
        assert plans["article.goal"].parent_plan_id == outcome.plan_id
        assert plans["article.goal"].status == "completed"


# -- bad input ------------------------------------------------------------------------------------


async def test_a_goal_without_scope_runs_in_the_default_scope(settings):
    async with Stack(settings) as stack:
        planner = stack.planner(research_policy)
        await stack.start(*research_workers(**stack.shared()), planner)

        outcome = await planner.submit("research.goal", {"topic": "Docker"}, timeout=30)

        assert outcome.status == "completed"
        default = {"tenant_id": settings.tenant_id, "user_id": settings.user_id}
        assert await stack.memory.get_plan(outcome.plan_id, **default) is not None


async def test_a_goal_answered_on_a_custom_response_topic(settings):
    async with Stack(settings) as stack:
        planner = stack.planner(research_policy)
        await stack.start(*research_workers(**stack.shared()), planner)
        position = await stream_position(stack.bus, "research.replies")
        goal_id = await stack.bus.request(
            "research.goal",
            {"topic": "Docker"},
            response_event="research.goal.completed",
            response_topic="research.replies",
            **SCOPE,
        )
        reply = await wait_for_event(
            stack.bus,
            "research.replies",
            lambda e: e.parent_event_id == goal_id,
            after=position,
            timeout=30,
        )
        assert reply is not None and reply.topic == "research.replies"
        assert reply.type == "research.goal.completed"
        assert reply.data["status"] == "completed"


async def test_goal_data_that_fails_the_goal_schema_fails_the_plan(settings, redis_client):
    async with Stack(settings) as stack:
        planner = stack.planner(
            research_policy,
            goal_events=[ARTICLE_GOAL.model_copy(update={"event_name": "research.goal"})],
        )
        await stack.start(*research_workers(**stack.shared()), planner)

        outcome = await run_goal(planner, {"subject": "Docker"})

        assert (outcome.status, outcome.termination) == ("failed", "invalid_goal")
        assert "missing required field 'topic'" in (outcome.reason or "")
        assert published_types(redis_client) == ["research.goal"]


class FlakyModel(PolicyChatModel):
    """Raises the given errors on its first calls, then follows its policy."""

    errors: list[Exception]

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> Any:
        if self.errors:
            raise self.errors.pop(0)
        return super()._generate(messages, stop, run_manager, **kwargs)


async def test_a_transient_model_outage_is_retried_through_the_bus(settings):
    model = FlakyModel(
        policy=research_policy,
        errors=[ModelUnavailableError("503 from provider"), ModelUnavailableError("503 again")],
    )
    async with Stack(settings) as stack:
        planner = stack.planner(model)
        await stack.start(*research_workers(**stack.shared()), planner)

        outcome = await run_goal(planner)

        assert outcome.status == "completed" and outcome.result == DRAFT_TEXT


async def test_a_model_that_stays_down_fails_the_plan_with_the_reason(settings):
    model = FlakyModel(policy=research_policy, errors=[ModelUnavailableError("503")] * 5)
    async with Stack(settings) as stack:
        planner = stack.planner(model)
        await stack.start(*research_workers(**stack.shared()), planner)

        outcome = await run_goal(planner)

        assert outcome.status == "failed" and "the model failed: 503" in (outcome.reason or "")
        assert outcome.termination == "model_failed"


async def test_a_rejected_api_key_fails_the_plan_at_once(settings):
    model = FlakyModel(policy=research_policy, errors=[ModelAuthenticationError("bad key")])
    async with Stack(settings) as stack:
        planner = stack.planner(model)
        await stack.start(*research_workers(**stack.shared()), planner)

        outcome = await run_goal(planner)

        assert outcome.status == "failed" and "bad key" in (outcome.reason or "")


async def test_context_window_overflow_trims_history_and_retries_once(settings):
    model = FlakyModel(policy=research_policy, errors=[])
    async with Stack(settings) as stack:
        planner = stack.planner(model)
        await stack.start(*research_workers(**stack.shared()), planner)
        model.errors.append(ContextWindowExceededError("too long"))

        outcome = await run_goal(planner)

        assert outcome.status == "completed"


# -- Trinity and retrieval ------------------------------------------------------------------------


async def test_a_fixed_event_list_limits_what_the_planner_offers(settings):
    def policy(messages: list[BaseMessage], tools: list[str]) -> AIMessage:
        assert "validation_requested" not in tools
        got = results(messages)
        if got and "draft" in got[-1]["data"]:
            return call("complete_goal", {"result": got[-1]["data"]["draft"]})
        return research_policy(messages, tools)

    async with Stack(settings) as stack:
        planner = stack.planner(policy, events=["research.requested", "draft.requested"])
        await stack.start(*research_workers(**stack.shared()), planner)

        outcome = await run_goal(planner)

        assert (outcome.result, outcome.actions) == (DRAFT_TEXT, 2)


async def test_large_registries_offer_top_k_tools_and_a_search(settings):
    distractors = [
        EventDefinition(
            event_name=f"billing.task{i}.requested",
            topic=EventTopic.ACTION_REQUESTS,
            description=f"Compute invoice line {i} for a customer account",
        )
        for i in range(30)
    ]

    def policy(messages: list[BaseMessage], tools: list[str]) -> AIMessage:
        searched = any(isinstance(m, ToolMessage) and m.name == "find_events" for m in messages)
        events = [t for t in tools if t.endswith("_requested")]
        assert len(events) <= (4 + 5 if searched else 4)  # top-k, plus what was found
        if not searched:
            return call("find_events", {"query": "check a draft for accuracy"})
        return research_policy(messages, tools)

    async with Stack(settings) as stack:
        await stack.registry.register_agent(agent_consuming(*distractors, agent_id="billing"))
        planner = stack.planner(policy, max_tools=4)
        await stack.start(*research_workers(**stack.shared()), planner)

        outcome = await run_goal(planner)

        assert outcome.status == "completed" and outcome.result == DRAFT_TEXT
        found = next(
            m
            for prompt in planner.services.model.prompts
            for m in prompt
            if isinstance(m, ToolMessage) and m.name == "find_events"
        )
        assert "validation_requested" in str(found.content)
        assert "validation_requested" in planner.services.model.tool_names[-1]


async def test_an_oversized_result_is_cut_for_the_model_and_kept_whole_in_the_plan(settings):
    long_findings = "Docker layers images. " * 2000  # ~44 kB
    async with Stack(settings) as stack:
        _, advisor, validator = research_workers(**stack.shared())
        researcher = Worker("researcher", consumes=[RESEARCH], **stack.shared())

        @researcher.on_event("research.requested")
        async def verbose(event: EventEnvelope, context: AgentContext) -> None:
            await context.bus.respond(event, data={"findings": long_findings})

        def research_then_complete(messages: list[BaseMessage], tools: list[str]) -> AIMessage:
            if results(messages):
                return call("complete_goal", {"result": "Docker layers images."})
            return call("research_requested", {"topic": "Docker"})

        planner = stack.planner(research_then_complete, result_chars=2000)
        await stack.start(researcher, advisor, validator, planner)

        outcome = await run_goal(planner)

        assert outcome.status == "completed"
        shown = next(
            m
            for prompt in planner.services.model.prompts
            for m in prompt
            if isinstance(m, ToolMessage) and "research.completed" in str(m.content)
        )
        assert len(str(shown.content)) < 2200 and "characters cut" in str(shown.content)
        snapshot = await planner.graph.aget_state(
            planner.run_config(outcome.plan_id, tenant_id="acme")
        )
        assert snapshot.values["results"][0]["data"]["findings"] == long_findings


async def test_a_bad_event_never_stops_the_planner(settings):
    async with Stack(settings) as stack:
        planner = stack.planner(research_policy)
        await stack.start(*research_workers(**stack.shared()), planner)
        # a result for a plan that does not exist, one with no scope, and garbage on the stream
        await stack.bus.respond(
            EventEnvelope(
                type="x.requested",
                topic=EventTopic.ACTION_REQUESTS,
                plan_id="nope",
                tenant_id="acme",
                user_id="alice",
            ),
            "x.completed",
            {"n": 1},
        )
        await stack.bus.publish(
            EventEnvelope(type="y.completed", topic=EventTopic.ACTION_RESULTS, plan_id="nope")
        )
        await stack.bus.client.xadd(
            stack.bus.keys.stream(EventTopic.ACTION_RESULTS), {b"e": b"not json"}
        )

        outcome = await run_goal(planner)

        assert outcome.status == "completed" and planner.worker.running


async def test_planner_configuration_errors_are_typed(settings):
    from soorma_lc.errors import ConfigurationError

    bad_options: list[dict[str, Any]] = [
        {"goal_events": []},
        {"max_actions": 0},
        {"max_repairs": -1},
        {"max_tools": "3"},
        {"lease_ttl": 0},
        {"response_timeout": -1},
        {"registry_refresh": -1},
        {"compensation_timeout": 0},
        {"goal_events": [EventDefinition(event_name="g.goal", topic=EventTopic.BUSINESS_FACTS)]},
    ]
    async with Stack(settings) as stack:
        for options in bad_options:
            with pytest.raises(ConfigurationError):
                stack.planner(research_policy, **options)
        planner = ChoreographyPlanner(
            "p",
            42,
            goal_events=["research.goal"],
            **stack.shared(),  # type: ignore[arg-type]
        )
        with pytest.raises(ConfigurationError, match="model must be"):
            await planner.start()  # refused when the planner builds its services
        assert not planner.worker.running
