"""The planner on real model layers: the offline heuristic (zero configuration), and a litellm
provider string answered by a mocked OpenAI API in its wire format."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import respx

from soorma_lc.llm import OfflinePlannerModel, resolve_model
from tests.llm_wire import Turn, openai_reply
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


def _next_turn(request: httpx.Request) -> httpx.Response:
    """A provider that behaves like a competent model, reading the conversation litellm sent."""
    body = json.loads(request.content)
    tools = {tool["function"]["name"] for tool in body["tools"]}
    results = [
        json.loads(_JSON_BLOCK.search(m["content"]).group(1))
        for m in body["messages"]
        if m["role"] == "tool" and _JSON_BLOCK.search(m.get("content") or "")
    ]
    step = len(results)
    if step == 0:
        assert {"research_requested", "complete_goal"} <= tools
        turn = Turn("research_requested", {"topic": "Docker"}, "call_r")
    elif step == 1:
        turn = Turn(
            "draft_requested", {"topic": "Docker", "findings": results[0]["findings"]}, "call_d"
        )
    elif step == 2:
        turn = Turn("validation_requested", {"draft": results[1]["draft"]}, "call_v")
    else:
        turn = Turn(
            "complete_goal", {"result": results[1]["draft"], "reasoning": "validated"}, "call_c"
        )
    return openai_reply(turn)


async def test_a_litellm_provider_string_plans_through_the_provider_api(settings):
    with respx.mock(assert_all_called=False) as router:
        route = router.post("https://api.openai.com/v1/chat/completions").mock(
            side_effect=_next_turn
        )
        async with Stack(settings) as stack:
            model: Any = resolve_model("openai/gpt-4o-mini", settings, api_key="sk-test")
            planner = stack.planner(model)
            await stack.start(*research_workers(**stack.shared()), planner)

            outcome = await run_goal(planner)

    assert outcome.status == "completed" and outcome.result == DRAFT_TEXT
    assert route.call_count == 4
    assert outcome.input_tokens == 4 * 120 and outcome.output_tokens == 4 * 30
    assert outcome.cost_usd > 0  # priced from litellm's local cost map
    first = json.loads(route.calls[0].request.content)
    assert first["messages"][0]["role"] == "system"
    assert "Goal event: research.goal" in first["messages"][1]["content"]
