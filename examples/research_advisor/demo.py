"""The research-advisor choreography with a live timeline; ends by itself.

    python examples/research_advisor/demo.py [--topic TEXT] [--audience TEXT] [--model MODEL]
    soorma-lc demo ...                       (the same thing)

Starts the planner and its three workers in this process (or, with ``--external-agents``,
uses agents running elsewhere on the same Redis), puts the corpus into semantic memory,
submits one ``research.goal`` and prints the plan's timeline as it happens: decisions with
their reasoning, events and the agents that handled them, guard trips, working-memory updates,
the final answer and a one-line summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from rich.console import Console

from soorma_lc import (
    ChoreographyPlanner,
    MemoryClient,
    PlanFeed,
    PlanSnapshot,
    RedisCheckpointSaver,
    RedisRegistry,
    RedisStreamsBus,
    Settings,
    TimelinePrinter,
    Worker,
    next_plan,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))

from agents import ingest_corpus, make_agents, make_planner

DEFAULT_TOPIC = "vector search"
DEFAULT_AUDIENCE = "backend developers"


def model_notice(model: str | BaseChatModel | None, settings: Settings) -> str:
    """The first line: which model decides, and whether it is an LLM at all."""
    if isinstance(model, BaseChatModel):
        return f"model: {type(model).__name__}: every decision below is a call to it"
    name = model or settings.llm_model
    if name:
        return f"model: {name}: every decision below is a real LLM call"
    return (
        "no LLM configured (set SOORMA_LLM_MODEL or pass --model): the offline heuristic "
        "planner decides, and it is not an LLM; every decision below says so"
    )


@contextlib.asynccontextmanager
async def _running(agents: list[Worker | ChoreographyPlanner]) -> AsyncIterator[None]:
    started: list[Worker | ChoreographyPlanner] = []
    try:
        for agent in agents:
            await agent.start()
            started.append(agent)
        yield
    finally:
        for agent in reversed(started):
            await agent.stop()


async def run_demo(
    console: Console,
    *,
    settings: Settings | None = None,
    model: str | BaseChatModel | None = None,
    topic: str = DEFAULT_TOPIC,
    audience: str | None = DEFAULT_AUDIENCE,
    external_agents: bool = False,
    timeout: float = 300.0,
) -> PlanSnapshot:
    """Run one research goal and print its timeline; returns the plan's final snapshot."""
    settings = settings or Settings()
    printer = TimelinePrinter(console)
    printer.notice(model_notice(model, settings))
    bus = RedisStreamsBus.from_settings(settings)
    registry = RedisRegistry.from_settings(settings)
    memory = MemoryClient.from_settings(settings)
    checkpointer = RedisCheckpointSaver.from_settings(settings)
    shared: dict[str, Any] = {
        "bus": bus,
        "registry": registry,
        "memory": memory,
        "settings": settings,
    }
    scope = {"tenant_id": settings.tenant_id, "user_id": settings.user_id}
    try:
        if not settings.redis_url or not settings.chroma_url:
            printer.notice(
                f"data dir: {settings.data_dir.resolve()} (embedded servers; plans stay there "
                "for soorma-lc plan show, and soorma-lc reset starts over)",
                style="dim",
            )
        count = await ingest_corpus(memory, tenant_id=settings.tenant_id)
        printer.notice(
            f"knowledge base: {count} documents of examples/research_advisor/corpus in "
            "semantic memory (stored by file name, so a second run stores nothing twice)",
            style="dim",
        )
        if external_agents:
            planner, agents = make_planner(model, **shared), []
        else:
            planner, workers = make_agents(model, **shared)
            agents = [*workers, planner]
        async with _running(agents):
            known = {p.plan_id for p in await memory.list_plans(**scope, limit=None)}
            goal = {"topic": topic, **({"audience": audience} if audience else {})}
            submitted = asyncio.create_task(
                planner.submit("research.goal", goal, **scope, timeout=timeout)
            )
            try:
                plan = await next_plan(memory, **scope, known=known, timeout=timeout)
                feed = PlanFeed(
                    plan.plan_id, **scope, bus=bus, memory=memory, checkpointer=checkpointer
                )
                final = None
                async for item in feed.follow(timeout=timeout):
                    if isinstance(item, PlanSnapshot):
                        final = item
                    else:
                        printer.entry(item)
                await submitted
            finally:
                submitted.cancel()
                await asyncio.gather(submitted, return_exceptions=True)
        assert final is not None
        printer.summary(final)
        return final
    finally:
        await checkpointer.aclose()
        await memory.aclose()
        await registry.aclose()
        await bus.aclose()


def main() -> int:
    """``python examples/research_advisor/demo.py`` is ``soorma-lc demo``."""
    from soorma_lc.cli import main as cli

    return cli(["demo", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
