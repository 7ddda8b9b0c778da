"""End-to-end bus throughput and latency: RedisStreamsBus vs raw redis-py on the same server.

Both sides run the same shape in the same run, on one embedded redis-server:
publisher (this process) -> stream -> 1 or 4 consumer processes of one group -> handler -> ack.

* raw: redis.asyncio pipelined XADD of a ~300-byte JSON payload; consumers XREADGROUP batches,
  json.loads each entry, XACK per batch. The practical ceiling.
* ours: ``RedisStreamsBus.publish_many`` of EventEnvelopes (built in the timed loop, ~300 bytes
  encoded); consumers are ``bus.subscribe`` with a no-op handler (validation, idempotency check,
  done markers, pipelined acks all included).

Throughput: publish N events as fast as possible; time until every one is handled and acked
(the publisher, in one process, may be what limits both sides here).
Drain: N events already in the stream; time for the consumers alone to handle and ack them all.
Latency: publish one event at a time at a fixed rate (1,000/s by default), single XADDs;
latency = handler start - publish call start (wall clock, same machine).

    python benchmarks/bus_throughput.py [--events 20000] [--rate 1000] [--seconds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

import redis.asyncio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from soorma_lc.backends.embedded_redis import embedded_redis, shutdown_embedded_redis
from soorma_lc.backends.redis_clients import async_client
from soorma_lc.bus import RedisStreamsBus
from soorma_lc.events import EventEnvelope, EventTopic

TOPIC = EventTopic.ACTION_REQUESTS
GROUP = "bench"
PAD = "x" * 60  # makes our encoded envelope about 300 bytes


def envelope(sent: float) -> EventEnvelope:
    return EventEnvelope(
        type="bench.requested",
        topic=TOPIC,
        tenant_id="tenant-1",
        correlation_id="c-1",
        data={"sent": sent, "pad": PAD},
    )


RAW_BYTES = len(envelope(0.0).model_dump_json(exclude_none=True))


def raw_payload(sent: float) -> bytes:
    body = {"id": str(uuid.uuid4()), "type": "bench.requested", "sent": sent}
    text = json.dumps(body)
    body["pad"] = "x" * max(0, RAW_BYTES - len(text) - 10)
    return json.dumps(body).encode()


# -- consumer processes ----------------------------------------------------------------------


async def _wait(event: mp.Event) -> None:  # type: ignore[valid-type]
    while not event.is_set():  # type: ignore[attr-defined]
        await asyncio.sleep(0.005)


async def _raw_consumer(
    url: str,
    stream: str,
    handled: Synchronized,
    ready: Synchronized,
    go: mp.Event,  # type: ignore[valid-type]
) -> list:
    client = async_client(url)
    name = uuid.uuid4().hex
    latencies: list[float] = []
    await client.ping()
    with ready.get_lock():
        ready.value += 1
    await _wait(go)
    try:
        while True:
            response = await client.xreadgroup(GROUP, name, {stream: ">"}, count=100, block=200)
            for key, entries in response or []:
                now = time.time()
                for _, fields in entries:
                    latencies.append(now - json.loads(fields[b"e"])["sent"])
                await client.xack(key, GROUP, *(message_id for message_id, _ in entries))
                with handled.get_lock():
                    handled.value += len(entries)
    except asyncio.CancelledError:
        return latencies
    finally:
        await client.aclose()


async def _our_consumer(
    url: str,
    handled: Synchronized,
    ready: Synchronized,
    go: mp.Event,  # type: ignore[valid-type]
) -> list:
    bus = RedisStreamsBus.from_url(url)
    await bus.client.ping()
    latencies: list[float] = []

    async def handler(event: EventEnvelope) -> None:
        latencies.append(time.time() - float((event.data or {})["sent"]))  # type: ignore[arg-type]
        with handled.get_lock():
            handled.value += 1

    with ready.get_lock():
        ready.value += 1
    await _wait(go)
    await bus.subscribe(GROUP, [TOPIC], handler, concurrency=64, batch_size=100)
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        return latencies
    finally:
        await bus.aclose()


def consumer_main(
    kind: str,
    url: str,
    stream: str,
    handled: Synchronized,
    ready: Synchronized,
    go: mp.Event,  # type: ignore[valid-type]
    stop: mp.Event,  # type: ignore[valid-type]
    results: mp.Queue,  # type: ignore[type-arg]
) -> None:
    async def run() -> list[float]:
        coro = (
            _raw_consumer(url, stream, handled, ready, go)
            if kind == "raw"
            else _our_consumer(url, handled, ready, go)
        )
        task = asyncio.create_task(coro)
        while not stop.is_set():  # type: ignore[attr-defined]
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)  # let the last acks/progress go out
        task.cancel()
        return await task

    results.put(asyncio.run(run()))


# -- publisher side --------------------------------------------------------------------------


@dataclass
class Result:
    rate: float
    p50_ms: float
    p99_ms: float


class Scenario:
    """One side (raw or ours) with N consumer processes, on a fresh group."""

    def __init__(self, kind: str, url: str, consumers: int) -> None:
        self.kind, self.url, self.consumers = kind, url, consumers
        self.bus = RedisStreamsBus.from_url(url, maxlen=1_000_000)
        self.stream = self.bus.keys.stream(TOPIC)
        ctx = mp.get_context("spawn")
        self.handled = ctx.Value("q", 0)
        self.ready = ctx.Value("i", 0)
        self.go = ctx.Event()
        self.stop = ctx.Event()
        self.results: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
        self.processes = [
            ctx.Process(
                target=consumer_main,
                args=(
                    kind,
                    url,
                    self.stream,
                    self.handled,
                    self.ready,
                    self.go,
                    self.stop,
                    self.results,
                ),
            )
            for _ in range(consumers)
        ]

    async def __aenter__(self) -> Scenario:
        await self.bus.client.delete(self.stream)
        await self.bus.client.xgroup_create(self.stream, GROUP, id="$", mkstream=True)
        for process in self.processes:
            process.start()
        while self.ready.value < self.consumers:
            await asyncio.sleep(0.05)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        for process in self.processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
        await self.bus.client.flushall()
        await self.bus.aclose()

    def latencies(self) -> list[float]:
        self.stop.set()
        found: list[float] = []
        for _ in self.processes:
            found += self.results.get(timeout=60)
        return found

    async def result(self, total: int, began: float) -> Result:
        """Wait until all ``total`` events are handled and acked: the rate since ``began``."""
        while self.handled.value < total:
            await asyncio.sleep(0.001)
        while (await self.bus.client.xpending(self.stream, GROUP))["pending"]:
            await asyncio.sleep(0.001)
        elapsed = time.perf_counter() - began
        lat = self.latencies()
        return Result(total / elapsed, _percentile(lat, 0.5), _percentile(lat, 0.99))

    async def publish_burst(self, total: int, batch: int = 100) -> None:
        client: redis.asyncio.Redis = self.bus.client
        for start in range(0, total, batch):
            now = time.time()
            size = min(batch, total - start)
            if self.kind == "raw":
                async with client.pipeline(transaction=False) as pipe:
                    for _ in range(size):
                        pipe.xadd(self.stream, {b"e": raw_payload(now)}, maxlen=1_000_000)
                    await pipe.execute()
            else:
                await self.bus.publish_many([envelope(now) for _ in range(size)])
            await asyncio.sleep(0)

    async def publish_paced(self, rate: float, seconds: float) -> int:
        total = int(rate * seconds)
        begin = time.monotonic()
        for n in range(total):
            delay = begin + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            now = time.time()
            if self.kind == "raw":
                await self.bus.client.xadd(self.stream, {b"e": raw_payload(now)})
            else:
                await self.bus.publish(envelope(now))
        return total


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def throughput(kind: str, url: str, consumers: int, total: int) -> Result:
    async with Scenario(kind, url, consumers) as scenario:
        scenario.go.set()
        began = time.perf_counter()
        await scenario.publish_burst(total)
        return await scenario.result(total, began)


async def drain(kind: str, url: str, consumers: int, total: int) -> Result:
    async with Scenario(kind, url, consumers) as scenario:
        await scenario.publish_burst(total)
        began = time.perf_counter()
        scenario.go.set()
        return await scenario.result(total, began)


async def latency(kind: str, url: str, consumers: int, rate: float, seconds: float) -> Result:
    async with Scenario(kind, url, consumers) as scenario:
        scenario.go.set()
        began = time.perf_counter()
        total = await scenario.publish_paced(rate, seconds)
        return await scenario.result(total, began)


async def best(
    measure: Callable[[str, str, int, int], Awaitable[Result]],
    kind: str,
    url: str,
    consumers: int,
    args: argparse.Namespace,
) -> Result:
    """The fastest of ``args.repeat`` runs (the least disturbed by other load)."""
    runs = [await measure(kind, url, consumers, args.events) for _ in range(args.repeat)]
    return max(runs, key=lambda result: result.rate)


async def main(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="soorma-bench-"))
    url = embedded_redis(data_dir).url
    try:
        print(
            f"payload ~{RAW_BYTES} bytes; {args.events} events per throughput run; "
            f"latency at {args.rate:.0f}/s for {args.seconds}s"
        )
        print(f"{'scenario':<34}{'raw':>22}{'soorma-lc':>22}{'ratio':>8}")
        for label, measure in (("throughput", throughput), ("drain", drain)):
            for consumers in (1, 4):
                raw = await best(measure, "raw", url, consumers, args)
                ours = await best(measure, "ours", url, consumers, args)
                print(
                    f"{f'{label}, {consumers} consumer(s), ev/s':<34}{raw.rate:>22,.0f}"
                    f"{ours.rate:>22,.0f}{ours.rate / raw.rate:>8.2f}"
                )
        for consumers in (1, 4):
            raw = await latency("raw", url, consumers, args.rate, args.seconds)
            ours = await latency("ours", url, consumers, args.rate, args.seconds)
            print(
                f"{f'latency @{args.rate:.0f}/s, {consumers} consumer(s), p50 ms':<34}"
                f"{raw.p50_ms:>22.2f}{ours.p50_ms:>22.2f}{ours.p50_ms / raw.p50_ms:>8.2f}"
            )
            print(
                f"{f'latency @{args.rate:.0f}/s, {consumers} consumer(s), p99 ms':<34}"
                f"{raw.p99_ms:>22.2f}{ours.p99_ms:>22.2f}{ours.p99_ms / raw.p99_ms:>8.2f}"
            )
    finally:
        shutdown_embedded_redis(data_dir)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=2, help="throughput runs; best is kept")
    asyncio.run(main(parser.parse_args()))
