"""Verbs for the runtime: run an agent, inspect the bus, replay dead letters, the Redis URL."""

from __future__ import annotations

import argparse
import asyncio
import sys

from soorma_lc.cli import Verbs, add_verb
from soorma_lc.cli import out as _out
from soorma_lc.config import Settings


def cmd_run(args: argparse.Namespace) -> int:
    """Import a worker or planner and serve it until SIGINT/SIGTERM."""
    from soorma_lc.agents.loading import load_worker
    from soorma_lc.agents.worker import Worker

    agent = load_worker(args.worker)
    worker = agent if isinstance(agent, Worker) else agent.worker
    if args.concurrency is not None:
        worker.concurrency = args.concurrency
    agent.run()
    return 0


async def _inspect(dead_letters: int, group: str | None) -> None:
    from soorma_lc.bus import RedisStreamsBus

    bus = RedisStreamsBus.from_settings(Settings())
    try:
        stats = await bus.stats()
        if not stats:
            _out("no streams yet")
        for stream in stats:
            _out(f"{stream.topic}: {stream.length} entries")
            for g in stream.groups:
                if group is None or g.name == group:
                    lag = "" if g.lag is None else f", lag {g.lag}"
                    _out(f"  group {g.name}: {g.consumers} consumers, {g.pending} pending{lag}")
        _out(f"dead letters: {await bus.dead_letter_count()}")
        for letter in await bus.dead_letters(group=group, count=dead_letters):
            what = letter.event_type or "(not an envelope)"
            _out(
                f"  {letter.id} {letter.topic} group={letter.group} {what} "
                f"event={letter.event_id} deliveries={letter.deliveries}: {letter.error}"
            )
    finally:
        await bus.aclose()


def cmd_inspect(args: argparse.Namespace) -> int:
    """Streams, consumer groups with pending counts, and the newest dead letters."""
    asyncio.run(_inspect(args.dead_letters, args.group))
    return 0


async def _replay(ids: list[str], group: str | None) -> list[str]:
    from soorma_lc.bus import RedisStreamsBus

    bus = RedisStreamsBus.from_settings(Settings())
    try:
        if not ids:
            letters = await bus.dead_letters(group=group, count=sys.maxsize)
            ids = [letter.id for letter in letters]
        return await bus.replay(ids)
    finally:
        await bus.aclose()


def cmd_replay(args: argparse.Namespace) -> int:
    """Deliver dead letters again to the group that gave up on them."""
    if not args.ids and not args.all:
        _out("name dead-letter ids, or use --all")
        return 2
    replayed = asyncio.run(_replay(args.ids, args.group))
    _out(f"replayed {len(replayed)} dead letters")
    return 0


def cmd_redis_url(args: argparse.Namespace) -> int:
    """Print the Redis URL in use (an embedded server lives while a process uses it)."""
    from soorma_lc.backends.redis_clients import resolve_redis_url

    _out(resolve_redis_url(Settings()))
    return 0


def register(verbs: Verbs) -> None:
    """Add run, inspect, replay and redis-url."""
    run = add_verb(verbs, "run", cmd_run)
    run.add_argument("worker", help="module.path:attribute (or file.py:attribute) of a Worker")
    run.add_argument("--concurrency", type=int, help="handlers running at once")

    inspect = add_verb(verbs, "inspect", cmd_inspect)
    inspect.add_argument("--group", help="only this consumer group")
    inspect.add_argument("--dead-letters", type=int, default=20, help="how many to list")

    replay = add_verb(verbs, "replay", cmd_replay)
    replay.add_argument("ids", nargs="*", help="dead-letter ids (see inspect)")
    replay.add_argument("--all", action="store_true", help="every dead letter (of --group)")
    replay.add_argument("--group", help="with --all: only this consumer group's")

    add_verb(verbs, "redis-url", cmd_redis_url)
