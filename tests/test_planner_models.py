"""The planner on real model layers: the offline heuristic (zero configuration), and a litellm
provider string answered by a mocked OpenAI API in its wire format."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
import respx

from soorma_lc.llm import OfflinePlannerModel, resolve_model
from tests.llm_wire import INPUT_TOKENS, OUTPUT_TOKENS, PROVIDERS, Provider, Turn
from tests.planner_helpers import FINDINGS, Stack, draft_text, research_workers, run_goal

DRAFT_TEXT = draft_text("Docker", FINDINGS)
_JSON_BLOCK = re.compile(r"```json\n(.*?)\n```", re.S)


async def test_the_offline_model_runs_the_research_choreography(settings):
    async with Stack(settings) as stack:
        planner = stack.planner(OfflinePlannerModel())
        await stack.start(*research_workers(**stack.shared()), planner)

        outcome = await run_goal(planner)

        assert outcome.status == "completed"
        assert outcome.result == DRAFT_TEXT
        assert outcome.actions == 3 and outcome.cost_usd == 0
        history = await planner.history(outcome.plan_id, tenant_id="acme", user_id="alice")
        decisions = [r for r in history if r.kind == "decision" and r.decision is not None]
        assert decisions and all(r.model == "soorma-offline-planner" for r in decisions)
        assert all("not an LLM" in (r.reasoning or "") for r in decisions)


def _tool_text(sent: str) -> str:
    """A tool result as the model read it (Gemini wraps it in a JSON response object)."""
    try:
        wrapped = json.loads(sent)
    except ValueError:
        return sent
    return wrapped.get("content", sent) if isinstance(wrapped, dict) else sent


def _research_turns(provider: Provider) -> Any:
    """A provider that behaves like a competent model, reading the conversation litellm sent
    in that provider's wire format, and answering in it."""

    def next_turn(request: httpx.Request) -> httpx.Response:
        tools, sent_results = provider.sent(json.loads(request.content))
        results = [
            json.loads(match.group(1))
            for text in map(_tool_text, sent_results)
            if (match := _JSON_BLOCK.search(text))
        ]
        if not results:
            assert {"research_requested", "complete_goal"} <= set(tools)
            turn = Turn("research_requested", {"topic": "Docker"}, "call_r")
        elif len(results) == 1:
            args = {"topic": "Docker", "findings": results[0]["findings"]}
            turn = Turn("draft_requested", args, "call_d")
        elif len(results) == 2:
            turn = Turn("validation_requested", {"draft": results[1]["draft"]}, "call_v")
        else:
            args = {"result": results[1]["draft"], "reasoning": "validated"}
            turn = Turn("complete_goal", args, "call_c")
        return provider.reply(turn)

    return next_turn


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.name)
async def test_a_litellm_provider_string_plans_through_the_provider_api(settings, provider):
    with respx.mock(assert_all_called=False) as router:
        route = router.route(url__regex=provider.url).mock(side_effect=_research_turns(provider))
        async with Stack(settings) as stack:
            model: Any = resolve_model(provider.model, settings, **provider.options)
            planner = stack.planner(model)
            await stack.start(*research_workers(**stack.shared()), planner)

            outcome = await run_goal(planner)

    assert outcome.status == "completed" and outcome.result == DRAFT_TEXT
    assert route.call_count == 4
    assert outcome.input_tokens == 4 * INPUT_TOKENS and outcome.output_tokens == 4 * OUTPUT_TOKENS
    if provider.price == "paid":
        assert outcome.cost_usd > 0  # priced from litellm's local cost map
