"""A worker for multi-process tests, configured by BUS_TEST_* environment variables.

It records every start and completion of a handler in Redis hashes (event id -> count), so the
parent test can tell what ran, what finished and what ran twice.
"""

from __future__ import annotations

import asyncio
import os

from soorma_lc.agents import AgentContext, Worker
from soorma_lc.bus import RedisStreamsBus
from soorma_lc.events import EventEnvelope
from soorma_lc.registry import RedisRegistry

STARTED_KEY = "test:started"
COMPLETED_KEY = "test:completed"


def make_worker() -> Worker:
    url = os.environ["SOORMA_REDIS_URL"]
    delay = float(os.environ.get("BUS_TEST_DELAY", "0"))
    bus = RedisStreamsBus.from_url(
        url, claim_idle=float(os.environ.get("BUS_TEST_CLAIM_IDLE", "30"))
    )
    worker = Worker(
        os.environ.get("BUS_TEST_NAME", "crash-test"),
        bus=bus,
        registry=RedisRegistry.from_url(url),
        concurrency=int(os.environ.get("BUS_TEST_CONCURRENCY", "8")),
        heartbeat_interval=1.0,
    )

    @worker.on_event("work.requested")
    async def work(event: EventEnvelope, context: AgentContext) -> None:
        await bus.client.hincrby(STARTED_KEY, event.id, 1)
        await asyncio.sleep(delay)
        await bus.client.hincrby(COMPLETED_KEY, event.id, 1)
        if event.response_event:
            await context.bus.respond(event, data={"pid": os.getpid()})

    return worker
