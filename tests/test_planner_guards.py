"""Every guard trips when it should and stays quiet on good runs; nothing invalid is published."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from soorma_lc import AgentContext, EventEnvelope, Worker
from tests.planner_helpers import (
    DRAFT,
    FINDINGS,
    Stack,
    call,
    draft_text,
    published_types,
    research_policy,
    research_workers,
    results,
    run_goal,
)

DRAFT_TEXT = draft_text("Docker", FINDINGS)


def completing_with(text: str):
    """The research policy, except that its completion says ``text``."""

    def policy(messages: list[BaseMessage], tools: list[str]) -> AIMessage:
        reply = research_policy(messages, tools)
        if reply.tool_calls[0]["name"] == "complete_goal":
            return call("complete_goal", {"result": text, "reasoning": "done"})
        return reply

    return policy


def scripted(*replies: AIMessage, then=research_policy):
    """Replies in order for the first calls, then ``then``."""
    queue = list(replies)

    def policy(messages: list[BaseMessage], tools: list[str]) -> AIMessage:
        return queue.pop(0) if queue else then(messages, tools)

    return policy


def tool_errors(model: Any) -> list[str]:
    """Every error tool message and feedback the model was shown, in order, without repeats."""
    seen: list[str] = []
    for prompt in model.prompts:
        for message in prompt:
            text = str(message.content)
            is_error = isinstance(message, ToolMessage) and message.status == "error"
            if (is_error or text.startswith("Not done:")) and text not in seen:
                seen.append(text)
    return seen


# -- action limit ---------------------------------------------------------------------------------


async def test_action_limit_forces_a_completion_with_the_best_content(settings, redis_client):
    async with Stack(settings) as stack:
        planner = stack.planner(research_policy, max_actions=2)
        await stack.start(*research_workers(**stack.shared()), planner)

        outcome = await run_goal(planner)

        assert outcome.status == "completed" and outcome.forced
        assert "action limit reached (2 actions)" in (outcome.reason or "")
        assert outcome.result == DRAFT_TEXT  # the most recent substantive result
        assert outcome.actions == 2
        assert published_types(redis_client) == [
            "research.goal",
            "research.requested",
            "draft.requested",
        ]


async def test_action_limit_never_exceeded_by_concurrent_or_repeated_reservations(settings):
    import asyncio

    async with Stack(settings) as stack:
        ledger = stack.planner(research_policy).services.ledger
        scope = {"tenant_id": "acme", "user_id": "alice"}
        outcomes = await asyncio.gather(
            *(ledger.reserve_action("p1", step, "x.requested", 3, **scope) for step in range(10))
        )
        assert sum(o.allowed for o in outcomes) == 3
        # Which three steps win depends on which reservation reaches Redis first.
        reserved = next(step for step, o in enumerate(outcomes) if o.allowed)
        again = await ledger.reserve_action("p1", reserved, "x.requested", 3, **scope)
        assert again.allowed and again.repeated  # a re-run step keeps its reservation
        assert await ledger.action_count("p1", **scope) == 3
        history = await stack.memory.get_plan_state("p1", "_action_history", **scope)
        assert history == ["x.requested"] * 3


# -- vague completions ----------------------------------------------------------------------------


async def test_vague_completion_is_replaced_by_the_content_received(settings):
    async with Stack(settings) as stack:
        planner = stack.planner(completing_with("The draft is ready and has been validated."))
        await stack.start(*research_workers(**stack.shared()), planner)

        outcome = await run_goal(planner)

        assert outcome.status == "completed" and outcome.substituted
        assert outcome.result == DRAFT_TEXT
        history = await planner.history(outcome.plan_id, tenant_id="acme", user_id="alice")
        trips = [trip for record in history for trip in record.guard_trips]
        assert [t["guard"] for t in trips] == ["vague_completion"]


@pytest.mark.parametrize(
    "completion",
    [
        f"Your post is ready:\n\n{DRAFT_TEXT}",
        f"{DRAFT_TEXT}\n\nThe draft is complete and validated.",
        "Docker containers share the host kernel; images are layered and volumes keep data, "
        "as the research found, so the post explains images, containers and volumes.",
    ],
)
async def test_good_completions_pass_even_with_indicator_phrases(settings, completion):
    async with Stack(settings) as stack:
        planner = stack.planner(completing_with(completion))
        await stack.start(*research_workers(**stack.shared()), planner)

        outcome = await run_goal(planner)

        assert (outcome.result, outcome.substituted) == (completion, False)


async def test_vague_completion_without_content_goes_back_to_the_model(settings):
    honest = "No registered agent can research or write, so no post could be written."
    policy = scripted(
        call("complete_goal", {"result": "I have completed the task; see above."}),
        then=lambda messages, tools: call("complete_goal", {"result": honest}),
    )
    async with Stack(settings) as stack:
        planner = stack.planner(policy)
        await stack.start(planner)  # an empty registry: nothing can serve the goal

        outcome = await run_goal(planner)

        assert (outcome.status, outcome.result) == ("completed", honest)
        model = planner.services.model
        assert model.tool_names[0] == ["complete_goal", "wait_for_event"]
        assert "describes the content instead of including it" in tool_errors(model)[0]


async def test_vague_completions_without_content_fail_the_plan_cleanly(settings, redis_client):
    async with Stack(settings) as stack:
        planner = stack.planner(
            lambda messages, tools: call("complete_goal", {"result": "The report is ready."}),
            max_repairs=2,
        )
        await stack.start(planner)

        outcome = await run_goal(planner)

        assert outcome.status == "failed" and outcome.result is None
        assert "3 invalid decisions in a row" in (outcome.reason or "")
        plan = await stack.memory.get_plan(outcome.plan_id, tenant_id="acme", user_id="alice")
        assert plan is not None and plan.status == "failed"
        assert published_types(redis_client) == ["research.goal"]


async def test_a_vague_worker_result_is_flagged_to_the_model(settings):
    async with Stack(settings) as stack:
        researcher, _, validator = research_workers(**stack.shared())
        advisor = Worker("advisor", consumes=[DRAFT], **stack.shared())

        @advisor.on_event("draft.requested")
        async def vague_draft(event: EventEnvelope, context: AgentContext) -> None:
            await context.bus.respond(event, data={"draft": "The draft has been prepared."})

        planner = stack.planner(research_policy)
        await stack.start(researcher, advisor, validator, planner)

        outcome = await run_goal(planner)

        flagged = [
            m
            for prompt in planner.services.model.prompts
            for m in prompt
            if isinstance(m, ToolMessage) and "looks vague" in str(m.content)
        ]
        assert flagged and "draft.completed" in str(flagged[0].content)
        # The model completed with the vague draft: the guard falls back to real content.
        assert outcome.substituted and outcome.result == FINDINGS


# -- invalid decisions ----------------------------------------------------------------------------


async def test_invalid_decisions_go_back_with_reasons_and_are_never_published(
    settings, redis_client
):
    policy = scripted(
        AIMessage("I think we should research first."),  # no tool call
        call("web_search", {"q": "docker"}),  # not an offered tool
        call("research_requested", {"topic": 5, "depth": "deep"}),  # fails the schema
        AIMessage(
            "",
            invalid_tool_calls=[
                {
                    "name": "research_requested",
                    "args": "{topic: Docker",
                    "id": "bad-1",
                    "error": "Expecting property name",
                    "type": "invalid_tool_call",
                }
            ],
        ),
    )
    async with Stack(settings) as stack:
        planner = stack.planner(policy, max_repairs=4)
        await stack.start(*research_workers(**stack.shared()), planner)

        outcome = await run_goal(planner)

        assert outcome.status == "completed" and outcome.result == DRAFT_TEXT
        errors = tool_errors(planner.services.model)
        assert "answered without calling a tool" in errors[0]
        assert "there is no tool named 'web_search'" in errors[1]
        assert "$.topic: expected string, got integer 5" in errors[2]
        assert "not a valid JSON object" in errors[3]
        assert published_types(redis_client) == [
            "research.goal",
            "research.requested",
            "draft.requested",
            "validation.requested",
        ]


async def test_a_model_that_keeps_deciding_badly_fails_the_plan(settings, redis_client):
    async with Stack(settings) as stack:
        planner = stack.planner(
            lambda messages, tools: call("web_search", {"q": "docker"}), max_repairs=3
        )
        await stack.start(*research_workers(**stack.shared()), planner)

        outcome = await run_goal(planner)

        assert outcome.status == "failed"
        assert "4 invalid decisions in a row" in (outcome.reason or "")
        assert "web_search" in (outcome.reason or "")
        assert published_types(redis_client) == ["research.goal"]


async def test_repeating_an_action_with_the_same_payload_is_rejected(settings, redis_client):
    def repeat_research_once(messages: list[BaseMessage], tools: list[str]) -> AIMessage:
        if len(results(messages)) == 1 and not any(
            isinstance(m, ToolMessage) and m.status == "error" for m in messages
        ):
            return call("research_requested", {"topic": "  DOCKER "})  # same, normalised
        return research_policy(messages, tools)

    async with Stack(settings) as stack:
        planner = stack.planner(repeat_research_once)
        await stack.start(*research_workers(**stack.shared()), planner)

        outcome = await run_goal(planner, {"topic": "docker"})

        assert outcome.status == "completed"
        assert "already published research.requested" in tool_errors(planner.services.model)[0]
        assert published_types(redis_client).count("research.requested") == 1


async def test_only_the_first_of_parallel_tool_calls_is_carried_out(settings, redis_client):
    both = AIMessage(
        "",
        tool_calls=[
            {"name": "research_requested", "args": {"topic": "Docker"}, "id": "a"},
            {"name": "validation_requested", "args": {"draft": "x"}, "id": "b"},
        ],
    )
    async with Stack(settings) as stack:
        planner = stack.planner(scripted(both))
        await stack.start(*research_workers(**stack.shared()), planner)

        outcome = await run_goal(planner)

        assert outcome.status == "completed"
        assert "this one was skipped" in tool_errors(planner.services.model)[0]
        assert published_types(redis_client)[:2] == ["research.goal", "research.requested"]
        assert published_types(redis_client).count("validation.requested") == 1
