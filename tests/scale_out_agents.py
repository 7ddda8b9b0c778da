"""The research choreography as separate processes, for the scale-out test and benchmark.

``soorma-lc run tests/scale_out_agents.py:make_planner`` runs the research planner (scripted
research policy, episodes logged to the configured Chroma); ``...:make_worker`` runs the worker
named by ``SCALE_OUT_ROLE`` (researcher, advisor or validator). Both use ``SOORMA_REDIS_URL``
and ``SOORMA_CHROMA_URL``, and reclaim a killed peer's events after ``SCALE_OUT_CLAIM_IDLE``
seconds (default 2). Workers count every handler run in the hash :data:`HANDLED_KEY` (event id
-> runs) and store the findings in the plan's working memory, so the parent can tell what ran.
``SCALE_OUT_WORK_MS`` makes each handler take that long (default 0).
"""

from __future__ import annotations

import asyncio
import os
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


def _bus(settings: Settings) -> RedisStreamsBus:
    claim_idle = float(os.environ.get("SCALE_OUT_CLAIM_IDLE", "2"))
    return RedisStreamsBus.from_settings(settings, claim_idle=claim_idle, retry_backoff=0.1)


def make_planner() -> ChoreographyPlanner:
    settings = Settings()
    return ChoreographyPlanner(
        PLANNER,
        PolicyChatModel(policy=research_policy),
        goal_events=["research.goal"],
        log_episodes=True,
        lease_ttl=2.0,
        timer_interval=0.2,
        bus=_bus(settings),
        settings=settings,
        heartbeat_interval=1.0,
    )


def make_worker() -> Worker:
    settings = Settings()
    role = os.environ["SCALE_OUT_ROLE"]
    definition = ROLES[role]
    work = float(os.environ.get("SCALE_OUT_WORK_MS", "0")) / 1000
    bus = _bus(settings)
    worker = Worker(role, consumes=[definition], bus=bus, settings=settings, heartbeat_interval=1.0)

    @worker.on_event(definition.event_name)
    async def handle(event: EventEnvelope, context: AgentContext) -> None:
        await bus.client.hincrby(HANDLED_KEY, event.id, 1)
        if work:
            await asyncio.sleep(work)
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
