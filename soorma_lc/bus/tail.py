"""Reading a topic stream without joining a consumer group: for callers that wait for one
event (a client awaiting a plan's outcome) and should leave nothing behind in Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from soorma_lc.backends.redis_clients import socket_timeout_of
from soorma_lc.backends.redis_errors import redis_errors
from soorma_lc.bus.codec import decode
from soorma_lc.errors import InvalidEventError
from soorma_lc.events import EventEnvelope, EventTopic

if TYPE_CHECKING:
    from soorma_lc.bus.streams import RedisStreamsBus

_BATCH = 100


async def stream_position(bus: RedisStreamsBus, topic: EventTopic | str) -> str:
    """The id of the newest entry on ``topic`` (``0-0`` when empty): read after it."""
    with redis_errors("event bus tail"):
        newest = await bus.client.xrevrange(bus.keys.stream(topic), "+", "-", count=1)
    if not newest:
        return "0-0"
    entry_id = newest[0][0]
    return entry_id.decode() if isinstance(entry_id, bytes) else entry_id


async def wait_for_event(
    bus: RedisStreamsBus,
    topic: EventTopic | str,
    matches: Callable[[EventEnvelope], bool],
    *,
    after: str,
    timeout: float,
) -> EventEnvelope | None:
    """The first event on ``topic`` after entry ``after`` that ``matches``; None on timeout.

    Entries that are not valid envelopes are skipped (they are the dead letters' business).
    """
    stream = bus.keys.stream(topic)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    position = after
    # Each blocking read ends well within the client's socket timeout (see the consumer).
    longest = min(1.0, (socket_timeout_of(bus.client) or 2.0) / 2)
    while (remaining := deadline - loop.time()) > 0:
        with redis_errors("event bus tail"):
            reply = await bus.client.xread(
                {stream: position}, count=_BATCH, block=max(1, int(min(remaining, longest) * 1000))
            )
        for _, entries in reply or []:
            for entry_id, fields in entries:
                position = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                try:
                    envelope = decode(fields, bus.max_event_bytes)
                except InvalidEventError:
                    continue
                if matches(envelope):
                    return envelope
    return None


def position_at(when_ms: int) -> str:
    """The stream position just before entries added at ``when_ms`` (epoch milliseconds)."""
    return f"{max(0, when_ms)}-0"


async def read_after(
    bus: RedisStreamsBus,
    positions: dict[EventTopic, str],
    *,
    block: float | None = None,
    count: int = _BATCH,
) -> list[EventEnvelope]:
    """The envelopes added to the ``positions`` topics after their positions, oldest first
    per topic; ``positions`` moves past what was read. ``block`` waits up to that many seconds
    for a first entry (None: return at once). Invalid entries are skipped.

    Observers (timelines, ``soorma-lc plan watch``) read this way: no consumer group, so they
    leave nothing behind in Redis and never take work from an agent.
    """
    streams = {bus.keys.stream(topic): topic for topic in positions}
    found: list[EventEnvelope] = []
    wait = None if block is None else max(1, int(block * 1000))
    while True:
        with redis_errors("event bus tail"):
            reply = await bus.client.xread(
                {stream: positions[topic] for stream, topic in streams.items()},
                count=count,
                block=wait,
            )
        full = False
        for stream, entries in reply or []:
            topic = streams[stream.decode() if isinstance(stream, bytes) else stream]
            full = full or len(entries) >= count
            for entry_id, fields in entries:
                positions[topic] = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                try:
                    found.append(decode(fields, bus.max_event_bytes))
                except InvalidEventError:
                    continue
        if not full:
            return found
        wait = None  # a full batch: there may be more, read on without waiting
