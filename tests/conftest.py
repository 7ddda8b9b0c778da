"""Shared fixtures: an isolated embedded redis-server per test module, wiped before each test.

Each xdist worker starts its own servers, so tests run in parallel without sharing keys. Tests
that need a Redis Cluster share one per worker (``redis_cluster``, started on first use from the
system's redis-server); without redis-server installed they are skipped, unless
``SOORMA_TEST_REQUIRE_CLUSTER`` is set (CI sets it), which makes them fail instead.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio

from soorma_lc.backends.embedded_redis import embedded_redis, shutdown_embedded_redis
from soorma_lc.backends.redis_clients import async_client, sync_client
from soorma_lc.config import Settings
from soorma_lc.memory.client import MemoryClient
from tests.redis_cluster import LocalCluster, require_redis_server

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
# litellm sends async requests through aiohttp unless told otherwise; respx sees only httpx.
# litellm reads this when it builds a client, so it is set before any test can build one.
os.environ.setdefault("DISABLE_AIOHTTP_TRANSPORT", "True")


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop of the module's own, for sync tests that run awaitables on it (the
    hostile suites' probes)."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a redis-server owned by this test module (unix socket)."""
    data_dir: Path = tmp_path_factory.mktemp("redis")
    server = embedded_redis(data_dir)
    yield server.url
    shutdown_embedded_redis(data_dir, force=True)


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A 3-master Redis Cluster with one replica each, shared by this worker's tests (a test
    that kills nodes starts its own :class:`LocalCluster`)."""
    require_redis_server()
    with LocalCluster(tmp_path_factory.mktemp("cluster")) as cluster:
        yield cluster


@pytest.fixture
def cluster_url(redis_cluster: LocalCluster) -> str:
    """The cluster's ``redis+cluster://`` URL, every master flushed so that each test starts
    empty."""
    redis_cluster.flush()
    return redis_cluster.url


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The module's Redis URL, flushed so that each test starts empty."""
    client = sync_client(redis_server)
    client.flushall()
    client.close()
    return redis_server


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A plain client for test set-up and checks; unbounded (no socket timeout), so a test's
    own blocking commands (BLPOP as a start barrier) may wait longer than the library's."""
    client = sync_client(redis_url, socket_timeout=None)
    yield client
    client.close()


@pytest.fixture
async def aredis_client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = async_client(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def memory(redis_url: str) -> AsyncIterator[MemoryClient]:
    """A MemoryClient on the module's (flushed) Redis."""
    client = MemoryClient.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def settings(redis_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at the module's Redis and a private data dir (embedded Chroma)."""
    return Settings(redis_url=redis_url, data_dir=tmp_path / "soorma")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the eval figures tests recorded (``record_property("eval_summary", ...)``), such
    as the offline baseline's scores; with xdist they arrive on the reports."""
    from soorma_lc.evals.markdown import SUMMARY_COLUMNS

    lines = [
        value
        for report in terminalreporter.stats.get("passed", [])
        for name, value in report.user_properties
        if name == "eval_summary"
    ]
    if lines:
        terminalreporter.write_sep("-", "planner evals (a figure, not a gate)")
        terminalreporter.write_line(" | ".join(SUMMARY_COLUMNS))
        for line in lines:
            terminalreporter.write_line(line)
