"""Models demo: one chat model interface for the offline planner and every litellm provider.

With no model configured it runs the offline planner model (no key, no network): a
deterministic heuristic that picks an event tool, fills its payload from the goal, and
completes with the result. Give a litellm model string to run the same steps on a real LLM.

    python examples/models/models_demo.py
    python examples/models/models_demo.py --model openai/gpt-4o-mini \
        --fallback anthropic/claude-haiku-4-5
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from soorma_lc import resolve_model


def tool(name: str, description: str, properties: dict[str, Any], *required: str) -> dict:
    parameters = {"type": "object", "properties": properties, "required": list(required)}
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


TEXT = {"type": "string"}
# What a planner offers: a few registry events as tools, plus its decision tools.
TOOLS = [
    tool("weather_lookup", "Look up the weather forecast for a city", {"city": TEXT}, "city"),
    tool(
        "research_requested",
        "Research a topic and return findings (event research.requested; a result follows)",
        {"topic": {"type": "string", "description": "What to research"}},
        "topic",
    ),
    tool(
        "complete_goal",
        "Finish the goal with its result, content included",
        {"result": TEXT, "reasoning": TEXT},
        "result",
        "reasoning",
    ),
]
GOAL = {"topic": "Docker volumes"}
FINDINGS = {
    "findings": "Named volumes keep container data across restarts; bind mounts map host paths."
}


def show(step: int, reply: AIMessage) -> dict[str, Any]:
    call = reply.tool_calls[0]
    usage = reply.usage_metadata or {}
    cost = reply.response_metadata.get("cost_usd")
    print(f"step {step}: {call['name']} {json.dumps(call['args'])}")
    print(f"  said: {reply.content}")
    price = "unknown" if cost is None else f"${cost:.6f}"
    print(
        f"  model {reply.response_metadata.get('model_name')}, "
        f"{usage.get('total_tokens', 0)} tokens, cost {price}"
    )
    return call


async def main(model_name: str | None, fallbacks: list[str]) -> None:
    options = {"fallbacks": fallbacks} if model_name and fallbacks else {}
    chat_model = resolve_model(model_name, **options)
    print(
        f"chat model: {type(chat_model).__name__} {getattr(chat_model, 'model', '')}".strip() + "\n"
    )
    model = chat_model.bind_tools(TOOLS, tool_choice="any")
    messages: list[BaseMessage] = [
        SystemMessage("You are a planner. Call exactly one tool per step."),
        HumanMessage(f"Goal event: research.goal\nGoal data:\n```json\n{json.dumps(GOAL)}\n```"),
    ]
    for step in (1, 2, 3):
        reply = await model.ainvoke(messages)
        call = show(step, reply)
        if call["name"] == "complete_goal":
            print(f"\nresult: {call['args']['result']}")
            return
        messages += [
            reply,
            ToolMessage(  # what the planner hands back once the worker's result event arrives
                f"Result event research.completed:\n```json\n{json.dumps(FINDINGS)}\n```",
                tool_call_id=call["id"],
                artifact={"event": "research.completed", "data": FINDINGS},
            ),
        ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="litellm model string (default: SOORMA_LLM_MODEL)")
    parser.add_argument("--fallback", action="append", default=[], help="fallback model")
    args = parser.parse_args()
    asyncio.run(main(args.model, args.fallback))
