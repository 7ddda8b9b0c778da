"""A planner process for the kill -9 tests (``soorma-lc run``, ``make_planner``).

It runs the research policy; PLANNER_TEST_PAUSE_DECIDING pauses the model call once the plan
holds that many results, PLANNER_TEST_PAUSE_AFTER pauses right after publishing that event
type. Either writes PLANNER_TEST_MARKER first, so the test knows where to kill the process.
PLANNER_TEST_RESPONSE_TIMEOUT and PLANNER_TEST_RETRIES set a response deadline with retries.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

from soorma_lc.bus import RedisStreamsBus
from soorma_lc.events import EventEnvelope
from soorma_lc.planners import ChoreographyPlanner, RetryPolicy
from soorma_lc.registry import RedisRegistry
from tests.planner_helpers import PolicyChatModel, research_policy, results

PAUSE = 3600.0


def _mark() -> None:
    Path(os.environ["PLANNER_TEST_MARKER"]).write_text(str(os.getpid()))


class PausingBus(RedisStreamsBus):
    """Stops (as if frozen) right after publishing the configured event type."""

    async def publish(self, envelope: EventEnvelope) -> str:
        event_id = await super().publish(envelope)
        if envelope.type == os.environ.get("PLANNER_TEST_PAUSE_AFTER"):
            _mark()
            await asyncio.sleep(PAUSE)
        return event_id


def policy(messages: list[BaseMessage], tools: list[str]) -> AIMessage:
    pause_at = os.environ.get("PLANNER_TEST_PAUSE_DECIDING")
    if pause_at is not None and len(results(messages)) == int(pause_at):
        _mark()
        time.sleep(PAUSE)
    return research_policy(messages, tools)


def make_planner() -> Any:
    url = os.environ["SOORMA_REDIS_URL"]
    timeout = os.environ.get("PLANNER_TEST_RESPONSE_TIMEOUT")
    retries = os.environ.get("PLANNER_TEST_RETRIES")
    return ChoreographyPlanner(
        "research-planner",
        PolicyChatModel(policy=policy),
        goal_events=["research.goal"],
        log_episodes=False,
        lease_ttl=1.0,
        timer_interval=0.1,
        response_timeout=float(timeout) if timeout else None,
        retry=RetryPolicy(attempts=int(retries), backoff=1.0) if retries else None,
        bus=PausingBus.from_url(url, claim_idle=1.0, retry_backoff=0.05),
        registry=RedisRegistry.from_url(url),
        heartbeat_interval=1.0,
    )
