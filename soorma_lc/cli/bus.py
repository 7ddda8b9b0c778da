"""Verbs for the event bus: stream and consumer-group stats, dead letters, replay.

``inspect`` (stats and the newest dead letters) and ``replay`` are kept as top-level verbs:
they were the first ones and scripts use them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from soorma_lc.cli import Verbs, add_group, add_verb, out
from soorma_lc.cli.settings import verb_settings

if TYPE_CHECKING:
    from soorma_lc.bus import RedisStreamsBus

T = TypeVar("T")


def _with_bus(work: Callable[[RedisStreamsBus], Awaitable[T]]) -> T:
    from soorma_lc.bus import RedisStreamsBus

    async def run() -> T:
        bus = RedisStreamsBus.from_settings(verb_settings())
        try:
            return await work(bus)
        finally:
            await bus.aclose()

    return asyncio.run(run())


async def _show_stats(bus: RedisStreamsBus, group: str | None) -> None:
    stats = await bus.stats()
    if not stats:
        out("no streams yet")
    for stream in stats:
        out(f"{stream.topic}: {stream.length} entries")
        for g in stream.groups:
            if group is not None and g.name != group:
                continue
            lag = "" if g.lag is None else f", lag {g.lag}"
            out(f"  group {g.name}: {g.consumers} consumers, {g.pending} pending{lag}")
            for member in sorted(g.members, key=lambda m: m.name):
                out(
                    f"    consumer {member.name}: {member.pending} pending, "
                    f"idle {member.idle_ms / 1000:.1f} s"
                )
    out(f"dead letters: {await bus.dead_letter_count()}")


async def _show_dead_letters(bus: RedisStreamsBus, group: str | None, count: int) -> None:
    for letter in await bus.dead_letters(group=group, count=count):
        what = letter.event_type or "(not an envelope)"
        out(
            f"  {letter.id} {letter.topic} group={letter.group} {what} "
            f"event={letter.event_id} deliveries={letter.deliveries}: {letter.error}"
        )


def cmd_stats(args: argparse.Namespace) -> int:
    """Streams, consumer groups with their consumers (idle ones too), pending, lag."""
    _with_bus(lambda bus: _show_stats(bus, args.group))
    return 0


def cmd_dead_letters(args: argparse.Namespace) -> int:
    """The newest dead letters: events a consumer group gave up on, and why."""

    async def show(bus: RedisStreamsBus) -> None:
        out(f"dead letters: {await bus.dead_letter_count()}")
        await _show_dead_letters(bus, args.group, args.count)

    _with_bus(show)
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    """Streams, consumer groups with pending counts, and the newest dead letters."""

    async def show(bus: RedisStreamsBus) -> None:
        await _show_stats(bus, args.group)
        await _show_dead_letters(bus, args.group, args.dead_letters)

    _with_bus(show)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Deliver dead letters again to the group that gave up on them."""
    if not args.ids and not args.all:
        out("name dead-letter ids, or use --all")
        return 2

    async def replay(bus: RedisStreamsBus) -> list[str]:
        ids = args.ids
        if not ids:
            letters = await bus.dead_letters(group=args.group, count=sys.maxsize)
            ids = [letter.id for letter in letters]
        return await bus.replay(ids)

    out(f"replayed {len(_with_bus(replay))} dead letters")
    return 0


def _replay_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="*", help="dead-letter ids (see bus dead-letters)")
    parser.add_argument("--all", action="store_true", help="every dead letter (of --group)")
    parser.add_argument("--group", help="with --all: only this consumer group's")


def register(verbs: Verbs) -> None:
    """Add bus stats|dead-letters|replay, and the inspect and replay shortcuts."""
    bus = add_group(verbs, "bus", "The event bus: streams, consumer groups, dead letters.")
    stats = add_verb(bus, "stats", cmd_stats)
    stats.add_argument("--group", help="only this consumer group")
    letters = add_verb(bus, "dead-letters", cmd_dead_letters)
    letters.add_argument("--group", help="only this consumer group's")
    letters.add_argument("--count", type=int, default=20, help="how many to list (default 20)")
    _replay_arguments(add_verb(bus, "replay", cmd_replay))

    inspect = add_verb(verbs, "inspect", cmd_inspect)
    inspect.add_argument("--group", help="only this consumer group")
    inspect.add_argument("--dead-letters", type=int, default=20, help="how many to list")
    _replay_arguments(add_verb(verbs, "replay", cmd_replay))
