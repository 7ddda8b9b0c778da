"""Provider swap: the same plan on several litellm models, each with ordered fallbacks.

A planner, a researcher and a writer (the researcher and the writer are plain Workers) run one
goal per ``--model``; only the model string changes between runs. Each run prints the plan's
timeline with the model that answered every decision (a fallback when the model failed), and
a comparison table at the end.

    python examples/provider_swap/provider_swap.py          # SOORMA_LLM_MODEL, or offline
    python examples/provider_swap/provider_swap.py \\
        --model openai/gpt-4o-mini --model anthropic/claude-haiku-4-5 \\
        --fallback gemini/gemini-2.5-flash

``--api-base`` / ``--api-key`` point models at an OpenAI-compatible server (vLLM, LM Studio,
llama.cpp): ``--model openai/<served-name> --api-base http://localhost:8000/v1``.
Data lives in ./.soorma/provider_swap (or SOORMA_DATA_DIR); ``rm -rf .soorma/provider_swap``
resets it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

from soorma_lc import (
    AgentContext,
    ChoreographyPlanner,
    EventDefinition,
    EventEnvelope,
    EventTopic,
    PlanOutcome,
    Settings,
    StepRecord,
    Worker,
    resolve_model,
)

SCOPE = {"tenant_id": "acme", "user_id": "alice"}
GOAL = {"topic": "Redis Streams consumer groups"}


def request(name: str, description: str, *fields: str) -> EventDefinition:
    """An action request whose payload needs the given string fields."""
    return EventDefinition(
        event_name=name,
        topic=EventTopic.ACTION_REQUESTS,
        description=description,
        payload_schema={
            "type": "object",
            "properties": {field: {"type": "string"} for field in fields},
            "required": list(fields),
        },
    )


FACTS = request("facts.requested", "Collect the key facts about a topic", "topic")
SUMMARY = request(
    "summary.requested", "Write a short summary of a topic from its key facts", "topic", "facts"
)


def build_workers(settings: Settings) -> list[Worker]:
    researcher = Worker("researcher", consumes=[FACTS], settings=settings)
    writer = Worker("writer", consumes=[SUMMARY], settings=settings)

    @researcher.on_event(FACTS.event_name)
    async def facts(event: EventEnvelope, context: AgentContext) -> None:
        await context.bus.respond(
            event,
            data={
                "facts": "Each consumer group sees every entry of a stream once; its consumers "
                "share the work; unacknowledged entries stay pending until claimed."
            },
        )

    @writer.on_event(SUMMARY.event_name)
    async def summary(event: EventEnvelope, context: AgentContext) -> None:
        data = event.data or {}
        text = f"{data['topic']}, in short: {data['facts']}"
        await context.bus.respond(event, data={"summary": text})

    return [researcher, writer]


def timeline(records: list[StepRecord]) -> list[str]:
    """The plan's steps, with the model behind each decision and its tokens."""
    lines = []
    for record in records:
        what = record.event or (record.decision.next_action.action if record.decision else "")
        line = f"  {record.step:>2} {record.kind:<9} {what:<18}"
        if record.model is not None:
            tokens = f"{record.input_tokens}+{record.output_tokens}"
            line += f" answered by {record.model}, {tokens} tokens"
        elif record.note and record.kind != "completed":
            line += f" {record.note}"
        lines.append(line.rstrip())
    return lines


def row(model: str, outcome: PlanOutcome, records: list[StepRecord]) -> list[str]:
    answered = [r for r in records if r.model is not None]
    costs = [r.cost_usd for r in answered if r.cost_usd is not None]
    return [
        model,
        outcome.status,
        str(outcome.actions),
        str(len(answered)),
        ", ".join(dict.fromkeys(r.model or "" for r in answered)),
        f"{outcome.input_tokens}/{outcome.output_tokens}",
        f"${sum(costs):.6f}" if costs else "unknown",
    ]


async def run_plan(model: Any, label: str, settings: Settings) -> tuple[PlanOutcome, list[str]]:
    """One goal on ``model``; the same planner, workers and goal every time."""
    planner = ChoreographyPlanner(
        "swap-planner",
        model,
        goal_events=["summary.goal"],
        max_actions=4,
        system_instructions="Collect the facts first, then have the summary written.",
        log_episodes=False,
        settings=settings,
    )
    async with planner:
        outcome = await planner.submit("summary.goal", GOAL, timeout=300, **SCOPE)
        records = await planner.history(outcome.plan_id, **SCOPE)
    print(f"== {label}")
    print("\n".join(timeline(records)))
    print(f"  {outcome.status}: {outcome.result or outcome.reason}\n")
    return outcome, row(label, outcome, records)


async def main(
    models: list[str | None], fallbacks: list[str], options: dict[str, str], settings: Settings
) -> None:
    workers = build_workers(settings)
    for worker in workers:
        await worker.start()
    rows = []
    try:
        for name in models:
            extra = {"fallbacks": fallbacks, **options} if name else {}
            model = resolve_model(name, settings, **extra)
            label = name or settings.llm_model or "offline planner model"
            _, table_row = await run_plan(model, label, settings)
            rows.append(table_row)
    finally:
        for worker in workers:
            await worker.stop()
    header = ["model", "status", "actions", "decisions", "answered by", "tokens in/out", "cost"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for line in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=True)]
        print("  ".join(cells).rstrip())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", action="append", help="litellm model string; repeat to compare models"
    )
    parser.add_argument(
        "--fallback", action="append", default=[], help="fallback model, in order (repeatable)"
    )
    parser.add_argument("--api-base", help="base URL of an OpenAI-compatible server")
    parser.add_argument("--api-key", help="API key for --api-base (else the provider's variable)")
    args = parser.parse_args()
    options = {
        key: value
        for key, value in (("api_base", args.api_base), ("api_key", args.api_key))
        if value
    }
    data_dir = os.environ.get("SOORMA_DATA_DIR", ".soorma/provider_swap")
    settings = Settings(data_dir=data_dir)
    asyncio.run(main(args.model or [None], args.fallback, options, settings))
