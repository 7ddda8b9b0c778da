"""The research choreography as separate processes, for the scale-out test and benchmark.

``soorma-lc run tests/scale_out_agents.py:make_planner`` runs the research planner (scripted
research policy); ``...:make_worker`` runs the worker named by ``SCALE_OUT_ROLE`` (researcher,
advisor or validator). Both use ``SOORMA_REDIS_URL`` and ``SOORMA_CHROMA_URL``, and reclaim a
killed peer's events after ``SCALE_OUT_CLAIM_IDLE`` seconds (default 2). Workers count every
handler run in the hash :data:`HANDLED_KEY` (event id -> runs) and store the findings in the
plan's working memory, so the parent can tell what ran. Options (environment):

- ``SCALE_OUT_EPISODES``: ``0`` stops the planner logging episodes to Chroma (default ``1``);
- ``SCALE_OUT_WORK_MS``: each handler waits that long, as on a remote call (default 0);
- ``SCALE_OUT_CPU_MS``: each handler computes that long, holding its core (default 0);
- ``SCALE_OUT_LATENCY_KEY``: each handler appends to that Redis list how many milliseconds
  passed between the request's creation and the handler's start.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from soorma_lc import AgentContext, EventEnvelope, Settings, Worker
from soorma_lc.bus import RedisStreamsBus
from soorma_lc.planners import ChoreographyPlanner
from tests.planner_helpers import (
    DRAFT,
    FINDINGS,
    RESEARCH,
    VALIDATE,
    PolicyChatModel,
    draft_text,
    research_policy,
)

HANDLED_KEY = "scale-out:handled"
PLANNER = "research-planner"
ROLES = {"researcher": RESEARCH, "advisor": DRAFT, "validator": VALIDATE}


PLANNER_TARGET = "tests/scale_out_agents.py:make_planner"
WORKER_TARGET = "tests/scale_out_agents.py:make_worker"
"""What ``soorma-lc run`` takes to serve the planner, or the worker of ``SCALE_OUT_ROLE``."""


def _bus(settings: Settings) -> RedisStreamsBus:
    claim_idle = float(os.environ.get("SCALE_OUT_CLAIM_IDLE", "2"))
    return RedisStreamsBus.from_settings(settings, claim_idle=claim_idle, retry_backoff=0.1)


def _milliseconds(name: str) -> float:
    return float(os.environ.get(name, "0")) / 1000


def make_planner() -> ChoreographyPlanner:
    settings = Settings()
    return ChoreographyPlanner(
        PLANNER,
        PolicyChatModel(policy=research_policy),
        goal_events=["research.goal"],
        log_episodes=os.environ.get("SCALE_OUT_EPISODES", "1") != "0",
        lease_ttl=2.0,
        timer_interval=0.2,
        bus=_bus(settings),
        settings=settings,
        heartbeat_interval=1.0,
    )


def make_worker(role: str | None = None) -> Worker:
    """The worker of ``role`` (default: ``SCALE_OUT_ROLE``)."""
    settings = Settings()
    role = role or os.environ["SCALE_OUT_ROLE"]
    definition = ROLES[role]
    wait, compute = _milliseconds("SCALE_OUT_WORK_MS"), _milliseconds("SCALE_OUT_CPU_MS")
    latency_key = os.environ.get("SCALE_OUT_LATENCY_KEY")
    bus = _bus(settings)
    worker = Worker(role, consumes=[definition], bus=bus, settings=settings, heartbeat_interval=1.0)

    @worker.on_event(definition.event_name)
    async def handle(event: EventEnvelope, context: AgentContext) -> None:
        if latency_key:
            waited_ms = (time.time() - event.time.timestamp()) * 1000
            await bus.client.rpush(latency_key, f"{waited_ms:.3f}")
        await bus.client.hincrby(HANDLED_KEY, event.id, 1)
        if wait:
            await asyncio.sleep(wait)
        busy_until = time.perf_counter() + compute
        while time.perf_counter() < busy_until:
            pass
        if role == "researcher" and event.plan_id and event.tenant_id and event.user_id:
            await context.memory.set_plan_state(
                event.plan_id,
                "findings",
                FINDINGS,
                tenant_id=event.tenant_id,
                user_id=event.user_id,
            )
        await context.bus.respond(event, data=_answer(role, event))

    return worker


def _answer(role: str, event: EventEnvelope) -> dict[str, Any]:
    data = event.data or {}
    if role == "researcher":
        return {"findings": FINDINGS}
    if role == "advisor":
        return {"draft": draft_text(str(data["topic"]), str(data["findings"]))}
    return {"approved": True, "feedback": "accurate"}
