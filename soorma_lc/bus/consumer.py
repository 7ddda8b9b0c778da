"""One consumer of a consumer group: reads in batches, runs handlers, acks once per batch.

Delivery guarantees (per consumer group, i.e. per agent name):

* At least once. An entry is acknowledged only after its handler returned. Entries left pending
  by a consumer that died are reclaimed (XAUTOCLAIM) by live consumers of the group once idle for
  ``claim_idle`` seconds; a live consumer keeps its in-flight entries fresh (XCLAIM JUSTID), so
  a slow handler is never taken over while its process is alive.
* Idempotent by event id. Completion first records (group, event id) in the group's completion
  log (:mod:`soorma_lc.bus.completions`), then acknowledges the entry (XACK): an entry is never
  acknowledged without its marker. Before running a handler the consumer checks the marker: a
  redelivered or re-published event that the group already completed is acknowledged without
  running again, and so is an entry whose consumer died between marker and XACK. The marker and
  the stream live in different Redis Cluster slots; this order, not a shared script, is what
  makes it safe, on one server and on a cluster alike. The one window left is a process that
  dies after its handler returned but before the marker reached Redis (one round trip): the
  event then runs again elsewhere. Handlers with external side effects should key them by
  ``event.id`` (at-least-once, as the rules of the house say).
* Bounded retries. A handler exception is logged with the event id and retried with exponential
  backoff; after ``max_deliveries`` attempts (crashes included) the entry moves to the
  dead-letter stream with the last error (written before the entry is acknowledged, so a crash
  in between may record a dead letter twice but never loses one). Entries that are not valid
  envelopes go there at once.
* Cluster-ready. One XREADGROUP reads every topic of the subscription on a single server; on a
  Redis Cluster, where topic streams sit in different hash slots, one read loop per slot.
* Supervised. The read, acknowledge, reclaim and handler loops never die silently: a failing
  loop is logged and restarted with backoff (:mod:`soorma_lc.bus.health`), and
  :meth:`Subscription.health` reports it until it works again.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
import socket
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from redis.crc import key_slot
from redis.exceptions import RedisClusterException, RedisError, ResponseError

from soorma_lc.backends.redis_clients import socket_timeout_of
from soorma_lc.backends.redis_cluster import is_cluster_client
from soorma_lc.backends.redis_errors import redis_errors
from soorma_lc.bus.codec import TARGET_GROUP_FIELD, decode
from soorma_lc.bus.dead_letters import dead_letter_entry
from soorma_lc.bus.health import (
    LoopSupervisor,
    SubscriptionHealth,
    cancel_and_wait,
    timestamp,
)
from soorma_lc.checks import check_int, check_name, check_seconds, names_argument, shown
from soorma_lc.errors import ConfigurationError, InvalidEventError, SoormaValidationError
from soorma_lc.events import EventEnvelope, EventTopic, parse_topic

if TYPE_CHECKING:
    from soorma_lc.bus.streams import RedisStreamsBus

logger = logging.getLogger(__name__)

Handler = Callable[[EventEnvelope], Awaitable[None]]
Accepts = Callable[[EventEnvelope], bool]

_ACK_LINGER = 0.002  # seconds completed entries may wait to share a round trip
_REDIS_FAILURES = (RedisError, RedisClusterException)  # the cluster client's own are no RedisError
MAX_CONCURRENCY = 10_000
MAX_BATCH_SIZE = 10_000


def is_async_callable(handler: object) -> bool:
    """True for ``async def`` functions and methods, partials of them, and objects whose
    ``__call__`` is ``async def``: handlers the bus can await."""
    if inspect.iscoroutinefunction(handler):
        return True
    return callable(handler) and inspect.iscoroutinefunction(type(handler).__call__)


def check_handler(handler: object, what: str = "handler") -> None:
    """Refuse a handler that is not an async callable: a plain function would run, return no
    awaitable, fail, and be retried, repeating its side effects on every delivery."""
    if not is_async_callable(handler):
        raise ConfigurationError(
            f"{what} {shown(handler)} must be an async function (async def handler(event))"
        )


def default_consumer_name() -> str:
    """Unique per process and subscription: host, pid and a random suffix."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass(slots=True)
class Delivery:
    """One stream entry handed to this consumer, and what we know about it."""

    stream: bytes
    message_id: bytes
    fields: dict[bytes, bytes] | None
    deliveries: int
    envelope: EventEnvelope | None = None
    had_error: bool = False

    @property
    def key(self) -> tuple[bytes, bytes]:
        return (self.stream, self.message_id)

    @property
    def error_field(self) -> bytes:
        return self.stream + b"|" + self.message_id


class Subscription:
    """A running consumer of ``group`` on the streams of ``topics``; see the module docstring."""

    def __init__(
        self,
        bus: RedisStreamsBus,
        group: str,
        topics: Iterable[EventTopic | str],
        handler: Handler,
        *,
        accepts: Accepts | None = None,
        consumer: str | None = None,
        concurrency: int = 16,
        batch_size: int = 64,
        block: float = 1.0,
    ) -> None:
        check_int(concurrency, "concurrency", minimum=1, maximum=MAX_CONCURRENCY)
        check_int(batch_size, "batch_size", minimum=1, maximum=MAX_BATCH_SIZE)
        check_seconds(block, "block", positive=True)
        check_handler(handler)
        if accepts is not None and not callable(accepts):
            raise ConfigurationError(f"accepts must be callable, got {type(accepts).__name__}")
        self.bus = bus
        self.group = check_name(group, "consumer group name")
        self.topics = sorted({parse_topic(topic) for topic in names_argument(topics, "topics")})
        if not self.topics:
            raise SoormaValidationError("subscribe to at least one topic")
        self.name = (
            default_consumer_name() if consumer is None else check_name(consumer, "consumer")
        )
        self.concurrency = concurrency
        self.batch_size = batch_size
        self._handler = handler
        self._accepts = accepts
        # A blocking read must answer well within the client's socket timeout, or every idle
        # read would end in a timeout error: it waits at most half of it.
        timeout = socket_timeout_of(bus.client)
        if timeout is not None:
            block = min(block, timeout / 2)
        self._block_ms = max(1, int(block * 1000))
        # Entries read ahead of free handler slots, so the next batch is ready when they free.
        self._prefetch_limit = concurrency + 4 * batch_size
        self._redis = bus.client
        self._keys = bus.keys
        self._streams = [self._keys.stream(topic).encode() for topic in self.topics]
        self._read_groups = _read_groups(self._redis, self._streams)
        self._group_b = group.encode()
        # A fixed pool of ``concurrency`` handler tasks drains ``_ready``. A pool task runs
        # entries back to back; another idle one is woken only once the running one has
        # yielded to the loop (its handler awaits I/O), so fast handlers cost no task switches.
        self._ready: deque[Delivery] = deque()
        self._idle: deque[asyncio.Future[None]] = deque()
        self._wake_scheduled = False
        self._running = 0
        self._pool: list[asyncio.Task[None]] = []
        self._inflight: dict[tuple[bytes, bytes], Delivery] = {}
        self._capacity = asyncio.Event()
        self._acks: list[tuple[Delivery, bool]] = []
        self._ack_ready = asyncio.Event()
        self._flushing = False
        # Set whenever a handler finishes or an ack flush ends, so stop() can wait for both.
        self._progress = asyncio.Event()
        self._retry_tasks: set[asyncio.Task[None]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._stopping = False
        self._supervisor = LoopSupervisor(f"consumer {self.name} of group {self.group}")
        self._last_read_at: float | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, start_from: str = "$") -> None:
        """Create the group on every stream (if new), reclaim orphans, then consume."""
        await self.bus.ensure_group(self.group, self.topics, start_from=start_from)
        with redis_errors(f"event bus: joining consumer group {self.group!r}"):
            await self._join_group()
        self._capacity.set()
        supervised = self._supervisor.run
        self._loops = [
            asyncio.create_task(supervised("ack", self._flush_loop), name=f"bus-ack-{self.name}"),
            asyncio.create_task(
                supervised("reclaim", self._maintenance_loop), name=f"bus-claim-{self.name}"
            ),
        ]
        for streams in self._read_groups:
            loop = self._read_loop_name(streams)
            self._loops.append(
                asyncio.create_task(
                    supervised(loop, functools.partial(self._read_loop, streams, loop)),
                    name=f"bus-{loop.replace(' ', '-')}-{self.name}",
                )
            )
        self._pool = [
            asyncio.create_task(
                supervised("handler", self._handler_loop), name=f"bus-handler-{self.name}-{n}"
            )
            for n in range(self.concurrency)
        ]
        logger.info(
            "consumer %s of group %s reading %s", self.name, self.group, ", ".join(self.topics)
        )

    @property
    def in_flight(self) -> int:
        """Entries received and not yet acknowledged or dead-lettered."""
        return len(self._inflight)

    @property
    def running(self) -> bool:
        """Started and not stopped."""
        return bool(self._loops) and not self._stopping

    def health(self) -> SubscriptionHealth:
        """Whether this consumer is running and reading, and what fails if it is not."""
        supervisor = self._supervisor
        running = self.running and not any(task.done() for task in self._loops)
        return SubscriptionHealth(
            consumer=self.name,
            group=self.group,
            running=running,
            healthy=running and not supervisor.problems,
            problems=dict(supervisor.problems),
            restarts=supervisor.restarts,
            last_error=supervisor.last_error,
            last_error_at=timestamp(supervisor.last_error_at),
            last_read_at=timestamp(self._last_read_at),
            in_flight=len(self._inflight),
        )

    async def stop(self, timeout: float = 30.0) -> None:
        """Stop reading, let running handlers finish (up to ``timeout``), flush acks.

        Entries whose handler did not finish stay pending in Redis for other consumers.
        """
        if self._stopping or not self._loops:
            return
        self._stopping = True
        flusher, maintenance, *readers = self._loops
        await cancel_and_wait(*readers, maintenance, *self._retry_tasks)
        try:
            await asyncio.wait_for(self._until(self._handlers_done), timeout)
        except TimeoutError:
            logger.warning("consumer %s: handlers did not finish in %ss", self.name, timeout)
        await cancel_and_wait(*self._pool)
        self._ack_ready.set()
        try:
            await asyncio.wait_for(self._until(self._drained), timeout)
        except TimeoutError:
            logger.warning("consumer %s: %d acks not flushed", self.name, len(self._acks))
        await cancel_and_wait(flusher)
        await self._forget_consumer()
        logger.info("consumer %s of group %s stopped", self.name, self.group)

    async def _join_group(self) -> None:
        """Make this consumer a member of its group now, not at its first delivery, so
        ``stats`` and ``soorma-lc inspect`` count an idle consumer too (Redis 6.2 creates a
        consumer only when an entry is delivered to it). Idempotent."""
        for stream in self._streams:
            await self._redis.xgroup_createconsumer(stream, self.group, self.name)

    async def _forget_consumer(self) -> None:
        """Remove this consumer from its group when it holds no pending entries."""
        try:
            for stream in self._streams:
                pending = await self._redis.xpending_range(
                    stream, self.group, "-", "+", 1, consumername=self.name
                )
                if not pending:
                    await self._redis.xgroup_delconsumer(stream, self.group, self.name)
        except _REDIS_FAILURES as exc:
            logger.warning("consumer %s: could not deregister from Redis: %s", self.name, exc)

    # -- reading -----------------------------------------------------------------------------

    def _read_loop_name(self, streams: list[bytes]) -> str:
        """``read``, or ``read <topics>`` when the subscription has several read loops."""
        if len(self._read_groups) == 1:
            return "read"
        return "read " + ",".join(self._keys.topic_of(stream) for stream in streams)

    async def _read_loop(self, read: list[bytes], loop: str) -> None:
        """Read the streams ``read`` (one hash slot) in batches and dispatch the entries."""
        streams: dict[bytes | str, bytes | str] = dict.fromkeys(read, ">")
        while True:
            free = self._prefetch_limit - len(self._inflight)
            if free <= 0:
                self._capacity.clear()
                await self._capacity.wait()
                continue
            try:
                response = await self._redis.xreadgroup(
                    self.group,
                    self.name,
                    streams,
                    count=min(free, self.batch_size),
                    block=self._block_ms,
                )
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise  # e.g. WRONGTYPE: the supervisor logs, backs off and restarts
                # The stream or group was deleted under us (e.g. FLUSHALL): recreate it.
                await self.bus.ensure_group(self.group, self.topics)
                continue
            self._last_read_at = time.time()
            self._supervisor.succeeded(loop)
            deliveries = [
                Delivery(stream, message_id, fields, 1)
                for stream, entries in _stream_entries(response)
                for message_id, fields in entries
                if message_id is not None
            ]
            if deliveries:
                try:
                    await self._dispatch(deliveries)
                except Exception:
                    # Never let one bad batch stop the consumer: its entries stay pending in
                    # Redis and are reclaimed after claim_idle.
                    logger.exception("consumer %s: could not dispatch a batch", self.name)
                    for delivery in deliveries:
                        self._forget(delivery)

    async def _dispatch(self, deliveries: list[Delivery]) -> None:
        """Sort a batch: dead-letter, skip, or run (after one idempotency check per batch)."""
        runnable: list[Delivery] = []
        for delivery in deliveries:
            self._inflight[delivery.key] = delivery
            fields = delivery.fields
            if fields is None:
                await self._dead_letter(delivery, "entry was trimmed before it was processed")
                continue
            target = fields.get(TARGET_GROUP_FIELD)
            if target is not None and target != self._group_b:
                self._queue_ack(delivery, mark_done=False)  # a replay meant for another group
                continue
            try:
                delivery.envelope = decode(fields, self.bus.max_event_bytes)
            except InvalidEventError as exc:
                await self._dead_letter(delivery, f"invalid envelope: {exc}")
                continue
            try:
                accepted = self._accepts is None or self._accepts(delivery.envelope)
            except Exception as exc:
                await self._dead_letter(delivery, f"accepts() raised {type(exc).__name__}: {exc}")
                continue
            if not accepted:
                self._queue_ack(delivery, mark_done=False)
                continue
            runnable.append(delivery)
        if not runnable:
            return
        try:
            done = await self._check_and_settle(runnable)
        except _REDIS_FAILURES as exc:
            logger.warning("consumer %s: idempotency check failed: %s", self.name, exc)
            for delivery in runnable:
                self._forget(delivery)  # still pending in Redis: reclaimed after claim_idle
            return
        for delivery, already_done in zip(runnable, done, strict=True):
            if already_done:
                logger.info(
                    "group %s already completed event %s; acknowledging the duplicate",
                    self.group,
                    self._envelope(delivery).id,
                )
                self._queue_ack(delivery, mark_done=False)
            elif delivery.deliveries > self.bus.max_deliveries:
                reason = await self._last_error(delivery)
                await self._dead_letter(
                    delivery, f"gave up after {delivery.deliveries - 1} deliveries: {reason}"
                )
            else:
                self._ready.append(delivery)
        self._schedule_wake()

    async def _last_error(self, delivery: Delivery) -> str:
        try:
            error = await self._redis.hget(self._keys.errors(self.group), delivery.error_field)
        except _REDIS_FAILURES:
            error = None
        return error.decode(errors="replace") if error else "no handler ever returned"

    # -- handling ----------------------------------------------------------------------------

    @staticmethod
    def _envelope(delivery: Delivery) -> EventEnvelope:
        if delivery.envelope is None:  # pragma: no cover - _dispatch decodes before running
            raise RuntimeError(f"entry {delivery.key} was not decoded")
        return delivery.envelope

    def _schedule_wake(self) -> None:
        if not self._ready or not self._idle:
            return
        if not self._running:
            self._wake_one()  # nothing is running: no reason to wait a loop iteration
        elif not self._wake_scheduled:
            self._wake_scheduled = True
            asyncio.get_running_loop().call_soon(self._wake_one)

    def _wake_one(self) -> None:
        self._wake_scheduled = False
        while self._ready and self._idle:
            waiter = self._idle.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _handler_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._ready:
                waiter: asyncio.Future[None] = loop.create_future()
                self._idle.append(waiter)
                await waiter
                continue
            delivery = self._ready.popleft()
            self._schedule_wake()  # if this handler blocks, the next entry gets another task
            self._running += 1
            try:
                await self._run(delivery)
            finally:
                self._running -= 1
                self._progress.set()

    def _handlers_done(self) -> bool:
        return not self._ready and not self._running

    def _drained(self) -> bool:
        return not self._acks and not self._flushing

    async def _until(self, done: Callable[[], bool]) -> None:
        """Wait until ``done()``, checking again whenever a handler or an ack flush ends."""
        while not done():
            self._progress.clear()
            await self._progress.wait()

    async def _run(self, delivery: Delivery) -> None:
        envelope = self._envelope(delivery)
        try:
            await self._handler(envelope)
        except asyncio.CancelledError:
            self._forget(delivery)  # left pending in Redis for another consumer
            raise
        except Exception as exc:
            logger.exception(
                "handler of group %s failed on event %s (%s), delivery %d of %d",
                self.group,
                envelope.id,
                envelope.type,
                delivery.deliveries,
                self.bus.max_deliveries,
            )
            await self._failed(delivery, f"{type(exc).__name__}: {exc}")
            return
        self._queue_ack(delivery, mark_done=True)

    async def _failed(self, delivery: Delivery, error: str) -> None:
        if delivery.deliveries >= self.bus.max_deliveries:
            await self._dead_letter(delivery, error)
            return
        try:
            await self._redis.hset(self._keys.errors(self.group), delivery.error_field, error)
        except _REDIS_FAILURES as exc:
            logger.warning("could not record the error of event %s: %s", delivery.key, exc)
        delivery.had_error = True
        delay = self.bus.retry_delay(delivery.deliveries)
        task = asyncio.create_task(self._retry(delivery, delay))
        self._retry_tasks.add(task)
        task.add_done_callback(self._retry_tasks.discard)

    async def _retry(self, delivery: Delivery, delay: float) -> None:
        """Claim the entry again after ``delay`` (counts as a delivery) and dispatch it."""
        await asyncio.sleep(delay)
        try:
            claimed = await self._redis.xclaim(
                delivery.stream, self.group, self.name, 0, [delivery.message_id]
            )
        except _REDIS_FAILURES as exc:
            logger.warning("retry of %s failed, left for reclaim: %s", delivery.key, exc)
            self._forget(delivery)
            return
        self._forget(delivery)
        for message_id, fields in claimed:
            if message_id is None:
                continue
            retry = Delivery(delivery.stream, message_id, fields, delivery.deliveries + 1)
            retry.had_error = True
            try:
                await self._dispatch([retry])
            except Exception:  # still pending in Redis: reclaimed after claim_idle
                logger.exception("consumer %s: could not dispatch retry %s", self.name, retry.key)
                self._forget(retry)

    async def _dead_letter(self, delivery: Delivery, error: str) -> None:
        """Copy the entry to the dead-letter stream, then acknowledge it."""
        topic = self._keys.topic_of(delivery.stream)
        logger.error(
            "group %s dead-letters entry %s of %s: %s",
            self.group,
            delivery.message_id.decode(),
            topic,
            error,
        )
        entry = dead_letter_entry(
            topic=topic,
            group=self.group,
            message_id=delivery.message_id,
            error=error,
            deliveries=delivery.deliveries,
            fields=delivery.fields,
            envelope=delivery.envelope,
            failed_at_ms=int(time.time() * 1000),
        )
        try:
            # The dead letter first: a crash before the XACK leaves the entry pending, to be
            # dead-lettered again, but never acknowledged without its dead letter.
            await self._redis.xadd(
                self._keys.dead_letters, entry, maxlen=self.bus.dead_letter_maxlen
            )
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.xack(delivery.stream, self.group, delivery.message_id)
                pipe.hdel(self._keys.errors(self.group), delivery.error_field)
                await pipe.execute()
        except _REDIS_FAILURES as exc:
            logger.warning("could not dead-letter %s (it stays pending): %s", delivery.key, exc)
        self._forget(delivery)

    # -- acknowledging -----------------------------------------------------------------------

    def _queue_ack(self, delivery: Delivery, *, mark_done: bool) -> None:
        self._acks.append((delivery, mark_done))
        self._ack_ready.set()

    async def _flush_loop(self) -> None:
        """Acknowledge completed entries per batch: their ids recorded (one script), then XACK.

        Under load the next read's idempotency check usually records them first (one round
        trip for both); the flusher waits ``_ACK_LINGER`` for that before going itself.
        """
        while True:
            await self._ack_ready.wait()
            self._ack_ready.clear()
            if not self._stopping:
                await asyncio.sleep(_ACK_LINGER)
            batch, self._acks = self._acks, []
            if not batch:
                continue
            self._flushing = True
            try:
                await self._acknowledge(batch)
            except Exception as exc:  # kept for the next attempt: an ack is never dropped
                delay = self._supervisor.failed("ack", exc)
                logger.warning("consumer %s: ack failed, retrying: %s", self.name, exc)
                self._acks[:0] = batch
                await asyncio.sleep(delay)
                self._ack_ready.set()
                continue
            finally:
                self._flushing = False
                self._progress.set()
            self._supervisor.succeeded("ack")
            for delivery, _ in batch:
                self._forget(delivery)

    async def _acknowledge(self, batch: list[tuple[Delivery, bool]]) -> None:
        """Record the batch's completed ids, then XACK its entries. ``batch`` is updated in
        place once recorded, so a failed XACK is retried without recording them again."""
        if any(mark_done or delivery.had_error for delivery, mark_done in batch):
            await self._record(batch)
            batch[:] = _recorded(batch)
        async with self._redis.pipeline(transaction=False) as pipe:
            for stream, items in _by_stream(batch).items():
                pipe.xack(stream, self.group, *(delivery.message_id for delivery, _ in items))
            await pipe.execute()

    async def _record(
        self, acks: list[tuple[Delivery, bool]], check: Sequence[Delivery] = ()
    ) -> list[bool]:
        """Record the completed ids of ``acks`` and drop their errors; then whether each of
        ``check`` was completed already. One script call on the group's keys."""
        return await self.bus.completions.settle(
            self.group,
            event_ids=[d.envelope.id for d, mark_done in acks if mark_done and d.envelope],
            error_fields=[d.error_field for d, _ in acks if d.had_error],
            check_ids=[self._envelope(delivery).id for delivery in check],
        )

    async def _check_and_settle(self, runnable: list[Delivery]) -> list[bool]:
        """Check ``runnable`` and, in the same round trip, record the completions waiting to
        go out; their XACKs follow from the flusher."""
        pending, self._acks = self._acks, []
        try:
            done = await self._record(pending, runnable)
        except _REDIS_FAILURES:
            self._acks[:0] = pending
            self._ack_ready.set()
            raise
        self._acks[:0] = _recorded(pending)
        if self._acks:
            self._ack_ready.set()
        return done

    def _forget(self, delivery: Delivery) -> None:
        if self._inflight.get(delivery.key) is delivery:
            del self._inflight[delivery.key]
            self._capacity.set()

    # -- reclaiming --------------------------------------------------------------------------

    async def _maintenance_loop(self) -> None:
        """Keep in-flight entries fresh, reclaim entries orphaned by dead consumers, and drop
        long-gone consumers from the group."""
        interval = self.bus.maintenance_interval
        while True:
            try:
                await self._keep_alive()
                await self._reclaim()
                await self._prune_consumers()
                await self._join_group()  # again, should a peer have pruned this idle one
            except _REDIS_FAILURES as exc:
                self._supervisor.failed("reclaim", exc)
                logger.warning("consumer %s: reclaim failed: %s", self.name, exc)
            else:
                self._supervisor.succeeded("reclaim")
            await asyncio.sleep(interval)

    async def _prune_consumers(self) -> None:
        """Delete consumers that hold nothing and have not read for ``10 * claim_idle``
        (crashed processes; a live consumer reads at least every ``block`` seconds and would
        be recreated by its next read anyway)."""
        gone_ms = 10 * self.bus.claim_idle * 1000
        for stream in self._streams:
            for consumer in await self._redis.xinfo_consumers(stream, self.group):
                if consumer["pending"] == 0 and consumer["idle"] > gone_ms:
                    await self._redis.xgroup_delconsumer(stream, self.group, consumer["name"])

    async def _keep_alive(self) -> None:
        by_stream: dict[bytes, list[bytes]] = defaultdict(list)
        for stream, message_id in list(self._inflight):
            by_stream[stream].append(message_id)
        for stream, message_ids in by_stream.items():
            await self._redis.xclaim(stream, self.group, self.name, 0, message_ids, justid=True)

    async def _reclaim(self) -> None:
        for stream in self._streams:
            cursor: bytes | str = "0-0"
            while self._prefetch_limit > len(self._inflight) and not self._stopping:
                cursor = await self._reclaim_batch(stream, cursor)
                if cursor in (b"0-0", "0-0"):
                    break

    async def _reclaim_batch(self, stream: bytes, cursor: bytes | str) -> bytes | str:
        """Claim one batch of entries idle for ``claim_idle``; returns the XAUTOCLAIM cursor."""
        free = self._prefetch_limit - len(self._inflight)
        response = await self._redis.xautoclaim(
            stream,
            self.group,
            self.name,
            int(self.bus.claim_idle * 1000),
            cursor,
            count=min(free, self.batch_size),
        )
        claimed = [
            (message_id, fields)
            for message_id, fields in response[1]
            if message_id is not None and (stream, message_id) not in self._inflight
        ]
        if claimed:
            await self._dispatch_reclaimed(stream, claimed)
        return response[0]

    async def _dispatch_reclaimed(
        self, stream: bytes, claimed: list[tuple[bytes, dict[bytes, bytes] | None]]
    ) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for message_id, _ in claimed:
                pipe.xpending_range(stream, self.group, message_id, message_id, 1)
            pending = await pipe.execute()
        deliveries = []
        for (message_id, fields), info in zip(claimed, pending, strict=True):
            count = info[0]["times_delivered"] if info else 1
            deliveries.append(Delivery(stream, message_id, fields or None, count))
        logger.info(
            "consumer %s reclaimed %d orphaned entries of %s",
            self.name,
            len(deliveries),
            self._keys.topic_of(stream),
        )
        await self._dispatch(deliveries)


def _read_groups(client: object, streams: list[bytes]) -> list[list[bytes]]:
    """Streams one XREADGROUP can read together: all on a single server; on a Redis Cluster,
    those in one hash slot (a multi-key command must stay in one slot)."""
    if not is_cluster_client(client):
        return [streams]
    by_slot: dict[int, list[bytes]] = defaultdict(list)
    for stream in streams:
        by_slot[key_slot(stream)].append(stream)
    return list(by_slot.values())


def _recorded(acks: list[tuple[Delivery, bool]]) -> list[tuple[Delivery, bool]]:
    """``acks`` once their ids were recorded and errors dropped: only their XACKs are left."""
    for delivery, _ in acks:
        delivery.had_error = False
    return [(delivery, False) for delivery, _ in acks]


def _by_stream(
    acks: list[tuple[Delivery, bool]],
) -> dict[bytes, list[tuple[Delivery, bool]]]:
    groups: dict[bytes, list[tuple[Delivery, bool]]] = defaultdict(list)
    for item in acks:
        groups[item[0].stream].append(item)
    return groups


def _stream_entries(response: object) -> list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]]:
    """XREADGROUP's reply as (stream, entries) pairs, for RESP2 and RESP3 clients alike."""
    if not response:
        return []
    if isinstance(response, dict):  # RESP3: {stream: [entries]}
        return [(stream, value[0] if value else []) for stream, value in response.items()]
    return [(stream, entries) for stream, entries in response]  # type: ignore[attr-defined]
