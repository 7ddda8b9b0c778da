"""RedisStreamsBus: Soorma's event bus on Redis Streams, at-least-once and idempotent.

One stream per topic; one consumer group per agent name, so instances of one agent share the
work and different agents each see every event. Delivery semantics are described in
:mod:`soorma_lc.bus.consumer`. Streams are trimmed on every publish (approximate ``MAXLEN``, or
``MINID`` for a time-based ``retention``) so memory stays bounded; choose the bound well above
the largest backlog a consumer group may build up, since trimming does not wait for consumers.
"""

from __future__ import annotations

import logging
import re
import time
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio
from redis.exceptions import ResponseError

from soorma_lc.backends.redis_clients import reply_text
from soorma_lc.backends.redis_component import RedisComponent
from soorma_lc.backends.redis_errors import redis_errors
from soorma_lc.bus.codec import (
    DEFAULT_MAX_EVENT_BYTES,
    ENVELOPE_FIELD,
    TARGET_GROUP_FIELD,
    encode,
)
from soorma_lc.bus.completions import CompletionLog
from soorma_lc.bus.consumer import Accepts, Handler, Subscription
from soorma_lc.bus.dead_letters import DeadLetter
from soorma_lc.bus.keys import DEFAULT_PREFIX, BusKeys
from soorma_lc.bus.publisher import BusPublisher
from soorma_lc.checks import (
    check_int,
    check_name,
    check_optional_int,
    check_optional_seconds,
    check_seconds,
    items_argument,
    names_argument,
    shown,
)
from soorma_lc.errors import (
    BusError,
    DeadLetterNotFoundError,
    InvalidArgumentError,
    InvalidEventError,
)
from soorma_lc.events import EventEnvelope, EventTopic, parse_topic

logger = logging.getLogger(__name__)

MIN_EVENT_BYTES = 256
"""Smallest ``max_event_bytes`` accepted (an envelope without data is about 200 bytes)."""
_ENTRY_ID = re.compile(r"[0-9]{1,20}(-[0-9]{1,20})?")


def check_entry_id(value: object, what: str) -> str:
    """``value`` if it is a stream entry id (``<ms>-<seq>``), else :class:`InvalidArgumentError`."""
    if not isinstance(value, str) or not _ENTRY_ID.fullmatch(value):
        raise InvalidArgumentError(
            f"{what} must be a stream entry id like '1700000000000-0', got {shown(value)}"
        )
    return value


def check_start_from(value: object) -> str:
    """A consumer group's start: ``$`` (new events), ``0`` (all kept) or a stream entry id."""
    if value == "$":
        return value
    return check_entry_id(value, "start_from ('$', '0' or a stream entry id)")


@dataclass(frozen=True)
class ConsumerStats:
    """One consumer of a group: entries it holds, and milliseconds since Redis last saw it
    read (an idle consumer is still a member: it joins its group when it starts)."""

    name: str
    pending: int
    idle_ms: int


@dataclass(frozen=True)
class GroupStats:
    """One consumer group on one stream, as ``soorma-lc inspect`` shows it."""

    name: str
    consumers: int
    pending: int
    lag: int | None
    members: tuple[ConsumerStats, ...] = ()


@dataclass(frozen=True)
class StreamStats:
    """One topic stream: its length and its consumer groups."""

    topic: str
    length: int
    groups: list[GroupStats]


class RedisStreamsBus(RedisComponent, BusPublisher):
    """Publish and consume Soorma events on Redis Streams.

    Built like every Redis-backed component (:mod:`soorma_lc.backends.redis_component`):
    ``RedisStreamsBus(client, ...)`` on an injected ``redis.asyncio`` client, or
    ``from_url`` / ``from_settings``, which own theirs; ``async with`` closes it.

    Options: ``prefix`` of every key; ``maxlen`` (approximate entries kept per topic stream) or
    ``retention`` (seconds, trims by MINID instead); ``max_event_bytes``; the retry policy
    ``max_deliveries``, ``retry_backoff`` / ``max_retry_backoff`` (seconds, doubling);
    ``claim_idle`` (seconds before another consumer reclaims an orphaned entry);
    ``dedupe_ttl`` (a group remembers a completed event id for one to two times this many
    seconds); ``dead_letter_maxlen`` (None keeps every dead letter).
    """

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        maxlen: int | None = 100_000,
        retention: float | None = None,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        max_deliveries: int = 5,
        retry_backoff: float = 0.5,
        max_retry_backoff: float = 30.0,
        claim_idle: float = 30.0,
        dedupe_ttl: int = 24 * 3600,
        dead_letter_maxlen: int | None = None,
        owns_client: bool = False,
    ) -> None:
        check_name(prefix, "prefix")
        check_optional_int(maxlen, "maxlen", minimum=1)
        check_optional_seconds(retention, "retention")
        check_int(max_event_bytes, "max_event_bytes", minimum=MIN_EVENT_BYTES)
        check_int(max_deliveries, "max_deliveries", minimum=1)
        check_seconds(retry_backoff, "retry_backoff")
        check_seconds(max_retry_backoff, "max_retry_backoff")
        check_seconds(claim_idle, "claim_idle", positive=True)
        check_int(dedupe_ttl, "dedupe_ttl", minimum=1)
        check_optional_int(dead_letter_maxlen, "dead_letter_maxlen", minimum=1)
        super().__init__(client, owns_client=owns_client)
        self.keys = BusKeys(prefix)
        self.maxlen = maxlen
        self.retention = retention
        self.max_event_bytes = max_event_bytes
        self.max_deliveries = max_deliveries
        self.retry_backoff = retry_backoff
        self.max_retry_backoff = max_retry_backoff
        self.claim_idle = claim_idle
        self.dedupe_ttl = dedupe_ttl
        self.completions = CompletionLog(client, self.keys, dedupe_ttl)
        self.dead_letter_maxlen = dead_letter_maxlen
        self._subscriptions: weakref.WeakSet[Subscription] = weakref.WeakSet()

    @property
    def maintenance_interval(self) -> float:
        """How often consumers refresh their in-flight entries and look for orphans."""
        return min(self.claim_idle / 3, 5.0)

    def retry_delay(self, deliveries: int) -> float:
        """Seconds before retrying an entry that failed on delivery number ``deliveries``."""
        return min(self.retry_backoff * 2 ** (deliveries - 1), self.max_retry_backoff)

    # -- publishing --------------------------------------------------------------------------

    def _trim_options(self) -> dict[str, Any]:
        if self.retention is not None:
            return {"minid": int((time.time() - self.retention) * 1000), "approximate": True}
        return {"maxlen": self.maxlen, "approximate": True}

    async def publish(self, envelope: EventEnvelope) -> str:
        """Append ``envelope`` to its topic's stream; return its event id.

        Raises ``InvalidEventError`` (not an envelope, or no topic), ``SerializationError``
        (data JSON cannot carry) or ``EventTooLargeError`` before anything is written.
        """
        payload = encode(envelope, self.max_event_bytes)
        with redis_errors(f"event bus: publishing event {envelope.id}"):
            await self.client.xadd(
                self.keys.stream(envelope.topic or ""),
                {ENVELOPE_FIELD: payload},
                **self._trim_options(),
            )
        return envelope.id

    async def publish_many(self, envelopes: Sequence[EventEnvelope]) -> list[str]:
        """Publish several envelopes in one pipelined round trip (all checked before any write)."""
        envelopes = items_argument(envelopes, "envelopes", error=InvalidEventError)
        payloads = [encode(envelope, self.max_event_bytes) for envelope in envelopes]
        trim = self._trim_options()
        with redis_errors(f"event bus: publishing {len(envelopes)} events"):
            async with self.client.pipeline(transaction=False) as pipe:
                for envelope, payload in zip(envelopes, payloads, strict=True):
                    pipe.xadd(
                        self.keys.stream(envelope.topic or ""), {ENVELOPE_FIELD: payload}, **trim
                    )
                await pipe.execute()
        return [envelope.id for envelope in envelopes]

    # -- consuming ---------------------------------------------------------------------------

    async def ensure_group(
        self, group: str, topics: Iterable[EventTopic | str], *, start_from: str = "$"
    ) -> None:
        """Create consumer group ``group`` on each topic's stream unless it exists.

        ``start_from="$"`` (default): a new group sees events published from now on; ``"0"``:
        it also sees every event still kept in the stream; a stream entry id: events after it.
        """
        check_name(group, "consumer group name")
        check_start_from(start_from)
        for topic in names_argument(topics, "topics"):
            stream = self.keys.stream(topic)
            with redis_errors(f"event bus: creating consumer group {group!r} on {stream}"):
                try:
                    await self.client.xgroup_create(stream, group, id=start_from, mkstream=True)
                except ResponseError as exc:
                    if "BUSYGROUP" not in str(exc):  # the group exists: nothing to do
                        raise

    async def subscribe(
        self,
        group: str,
        topics: Iterable[EventTopic | str],
        handler: Handler,
        *,
        accepts: Accepts | None = None,
        consumer: str | None = None,
        concurrency: int = 16,
        batch_size: int = 64,
        start_from: str = "$",
        block: float = 1.0,
    ) -> Subscription:
        """Start consuming ``topics`` as a member of ``group``; returns the running consumer.

        ``handler(envelope)`` runs for every event ``accepts`` (default: all); events it does not
        accept are acknowledged without running. Stop with ``await subscription.stop()``.
        """
        subscription = Subscription(
            self,
            group,
            topics,
            handler,
            accepts=accepts,
            consumer=consumer,
            concurrency=concurrency,
            batch_size=batch_size,
            block=block,
        )
        await subscription.start(start_from)
        self._subscriptions.add(subscription)
        return subscription

    # -- dead letters ------------------------------------------------------------------------

    async def dead_letters(
        self, *, group: str | None = None, topic: EventTopic | str | None = None, count: int = 100
    ) -> list[DeadLetter]:
        """The newest dead letters first, optionally only those of ``group`` / ``topic``."""
        check_int(count, "count", minimum=1)
        if group is not None:
            check_name(group, "consumer group name")
        wanted_topic = None if topic is None else str(parse_topic(topic))
        found: list[DeadLetter] = []
        last = "+"
        while len(found) < count:
            with redis_errors("event bus: reading dead letters"):
                entries = await self.client.xrevrange(self.keys.dead_letters, last, "-", count=100)
            if last != "+" and entries:
                entries = entries[1:]  # the boundary entry was in the previous page
            if not entries:
                break
            for entry_id, values in entries:
                letter = DeadLetter.from_entry(entry_id, values, self.max_event_bytes)
                if (group is None or letter.group == group) and (
                    wanted_topic is None or letter.topic == wanted_topic
                ):
                    found.append(letter)
            last = entries[-1][0]
        return found[:count]

    async def dead_letter_count(self) -> int:
        """How many dead letters are stored."""
        with redis_errors("event bus: counting dead letters"):
            return int(await self.client.xlen(self.keys.dead_letters))

    async def replay(self, dead_letter_ids: str | Iterable[str]) -> list[str]:
        """Deliver dead letters again, only to the group that gave up on them.

        Each is re-added to its topic's stream (same event id, so groups that completed it
        skip it), then removed from the dead-letter stream (two slots on a cluster: a failure
        in between leaves the dead letter, and replaying it again is harmless). Returns the
        new stream entry ids. Raises :class:`DeadLetterNotFoundError` for an unknown id and
        :class:`BusError` for one that kept nothing to replay, before replaying any.
        """
        ids = [check_entry_id(i, "dead letter id") for i in names_argument(dead_letter_ids, "ids")]
        letters: list[DeadLetter] = []
        for dead_letter_id in ids:
            with redis_errors(f"event bus: reading dead letter {dead_letter_id}"):
                entries = await self.client.xrange(
                    self.keys.dead_letters, dead_letter_id, dead_letter_id
                )
            if not entries:
                raise DeadLetterNotFoundError(dead_letter_id)
            letter = DeadLetter.from_entry(*entries[0], self.max_event_bytes)
            if not letter.fields:
                raise BusError(
                    f"dead letter {dead_letter_id} kept no original entry (it was trimmed from "
                    "the stream before it was processed); there is nothing to replay"
                )
            letters.append(letter)
        new_ids: list[str] = []
        for letter in letters:
            fields = {**letter.fields, TARGET_GROUP_FIELD: letter.group.encode()}
            with redis_errors(f"event bus: replaying dead letter {letter.id}"):
                added = await self.client.xadd(
                    self.keys.stream(letter.topic), fields, **self._trim_options()
                )
                await self.client.xdel(self.keys.dead_letters, letter.id)
            new_ids.append(added.decode())
            logger.info("replayed dead letter %s to group %s", letter.id, letter.group)
        return new_ids

    # -- inspection --------------------------------------------------------------------------

    async def topics(self) -> list[EventTopic | str]:
        """The topics that have a stream: the standard ones first, then custom topics by name."""
        found: set[str] = set()
        with redis_errors("event bus: listing the topic streams"):
            async for key in self.client.scan_iter(match=self.keys.streams_pattern, count=1000):
                found.add(self.keys.topic_of(key))
        custom = sorted(found - {topic.value for topic in EventTopic})
        return [*(t for t in EventTopic if t.value in found), *custom]

    async def stats(self) -> list[StreamStats]:
        """Length and consumer groups (consumers with their pending entries and idle time,
        pending, lag) of every topic stream, custom topics included."""
        result: list[StreamStats] = []
        for topic in await self.topics():
            stream = self.keys.stream(topic)
            with redis_errors(f"event bus: reading the stats of {stream}"):
                if not await self.client.exists(stream):
                    continue
                groups = await self.client.xinfo_groups(stream)
                length = int(await self.client.xlen(stream))
                members = {
                    reply_text(group["name"]): await self.client.xinfo_consumers(
                        stream, group["name"]
                    )
                    for group in groups
                }
            stats = [
                GroupStats(
                    name=reply_text(group["name"]),
                    consumers=int(group["consumers"]),
                    pending=int(group["pending"]),
                    lag=None if group.get("lag") is None else int(group["lag"]),
                    members=tuple(
                        ConsumerStats(
                            reply_text(member["name"]), int(member["pending"]), int(member["idle"])
                        )
                        for member in members[reply_text(group["name"])]
                    ),
                )
                for group in groups
            ]
            result.append(StreamStats(str(topic), length, stats))
        return result

    async def aclose(self) -> None:
        """Stop every subscription started here, then close the client if this bus made it."""
        for subscription in list(self._subscriptions):
            await subscription.stop()
        await super().aclose()
