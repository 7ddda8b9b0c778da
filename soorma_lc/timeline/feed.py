"""Reading one plan's public traces from Redis: its record, its history, its bus events and its
working memory, as :class:`~soorma_lc.timeline.entries.PlanSnapshot` s.

The history is the ``history`` value of the plan's graph state, read from the checkpoint
(thread_id = plan_id, the tenant in ``configurable``) through the checkpointer's public API.
Bus events are read without a consumer group (:func:`~soorma_lc.bus.tail.read_after`), from
shortly before the plan was created. A snapshot reads the history first and the bus after it,
so every request and result the history mentions is already among the events read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from soorma_lc.bus.streams import RedisStreamsBus
from soorma_lc.bus.tail import position_at, read_after
from soorma_lc.errors import PlanNotFoundError
from soorma_lc.events import EventEnvelope, EventTopic
from soorma_lc.memory.client import MemoryClient
from soorma_lc.memory.plans import Plan
from soorma_lc.planners.records import StepRecord
from soorma_lc.timeline.entries import PlanSnapshot, TimelineEntry, build_timeline

PLAN_TOPICS = (EventTopic.ACTION_REQUESTS, EventTopic.ACTION_RESULTS, EventTopic.SYSTEM_EVENTS)
"""Topics carrying a plan's requests, results and outcome."""

_LOOKBACK_MS = 5_000  # read the bus from this long before the plan was created (clock skew)


class PlanFeed:
    """One plan's traces as seen by ``tenant_id`` / ``user_id`` (the plan's owner)."""

    def __init__(
        self,
        plan_id: str,
        *,
        tenant_id: str,
        user_id: str,
        bus: RedisStreamsBus,
        memory: MemoryClient,
        checkpointer: BaseCheckpointSaver,
    ) -> None:
        self.plan_id = plan_id
        self.tenant_id = tenant_id
        self.user_id = user_id
        self.bus = bus
        self.memory = memory
        self.checkpointer = checkpointer
        self.events: list[EventEnvelope] = []
        self._positions: dict[EventTopic, str] | None = None

    async def plan(self) -> Plan:
        """The plan's record (:class:`PlanNotFoundError` when this tenant and user see none)."""
        plan = await self.memory.get_plan(
            self.plan_id, tenant_id=self.tenant_id, user_id=self.user_id
        )
        if plan is None:
            raise PlanNotFoundError(self.plan_id)
        return plan

    async def history(self) -> list[StepRecord]:
        """The plan's recorded steps, oldest first ([] for a plan no planner runs)."""
        config: dict[str, Any] = {
            "configurable": {
                "thread_id": self.plan_id,
                "tenant_id": self.tenant_id,
                "checkpoint_ns": "",
            }
        }
        found = await self.checkpointer.aget_tuple(config)
        if found is None:
            return []
        records = found.checkpoint.get("channel_values", {}).get("history") or []
        return [StepRecord.model_validate(record) for record in records]

    async def read_events(self, plan: Plan, *, block: float | None = None) -> None:
        """Add the plan's bus events published since the last read (waiting up to ``block``
        seconds for the first one)."""
        if self._positions is None:
            start = position_at(int(plan.created_at.timestamp() * 1000) - _LOOKBACK_MS)
            self._positions = dict.fromkeys(PLAN_TOPICS, start)
        envelopes = await read_after(self.bus, self._positions, block=block)
        self.events.extend(e for e in envelopes if e.plan_id == self.plan_id)

    async def snapshot(self) -> PlanSnapshot:
        """Record, history, then bus events and working memory, as they stand now."""
        plan = await self.plan()
        history = await self.history()
        await self.read_events(plan)
        memory = await self.memory.get_all_plan_state(
            self.plan_id, tenant_id=self.tenant_id, user_id=self.user_id
        )
        return PlanSnapshot(plan=plan, history=history, events=list(self.events), memory=memory)

    async def follow(
        self, *, poll: float = 0.25, timeout: float | None = None
    ) -> AsyncIterator[TimelineEntry | PlanSnapshot]:
        """Yield the timeline's entries as they happen, then the final snapshot.

        Between snapshots it waits on the bus (up to ``poll`` seconds) so entries show as soon
        as the plan's events arrive. A plan that has ended but whose outcome event is not on
        the bus one wait later (trimmed from a stream) ends the timeline without it. Raises
        :class:`TimeoutError` after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        shown = 0
        ended_before = False
        while True:
            snapshot = await self.snapshot()
            entries = build_timeline(snapshot)
            for entry in entries[shown:]:
                yield entry
            shown = max(shown, len(entries))
            if snapshot.finished or (snapshot.ended and ended_before):
                yield snapshot
                return
            ended_before = snapshot.ended
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"plan {self.plan_id} did not finish within {timeout} s")
            await self.read_events(snapshot.plan, block=poll)


async def next_plan(
    memory: MemoryClient,
    *,
    tenant_id: str,
    user_id: str,
    known: set[str],
    poll: float = 0.2,
    timeout: float | None = None,
) -> Plan:
    """The user's first plan whose id is not in ``known`` (the plans that existed when the
    caller started watching), waiting for one to open. :class:`TimeoutError` after
    ``timeout`` seconds."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        plans = await memory.list_plans(tenant_id=tenant_id, user_id=user_id, limit=20)
        for plan in plans:
            if plan.plan_id not in known:
                return plan
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"no new plan opened within {timeout} s")
        await asyncio.sleep(poll)
