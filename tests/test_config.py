"""Settings from SOORMA_* variables, Redis URL checks, and the embedded redis-server."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import redis.asyncio

from soorma_lc.backends.embedded_redis import embedded_redis, shutdown_embedded_redis
from soorma_lc.backends.redis_clients import (
    async_client,
    check_redis_url,
    clients_configured_by,
    resolve_redis_url,
    socket_timeout_of,
    sync_client,
)
from soorma_lc.backends.redis_cluster import cluster_seeds
from soorma_lc.config import DEFAULT_TENANT_ID, DEFAULT_USER_ID, Settings, resolve_settings
from soorma_lc.errors import ConfigurationError

ENV = {
    "SOORMA_REDIS_URL": "redis://cache.internal:6380/2",
    "SOORMA_CHROMA_URL": "http://chroma.internal:8000",
    "SOORMA_DATA_DIR": "/var/lib/soorma",
    "SOORMA_LLM_MODEL": "openai/gpt-4o-mini",
    "SOORMA_EMBEDDING_MODEL": "local",
    "SOORMA_REGISTRY_URL": "http://registry.internal:8081",
    "SOORMA_REGISTRY_TOKEN": "jwt-token",
    "SOORMA_TENANT_ID": "tenant-1",
    "SOORMA_USER_ID": "user-1",
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in os.environ:
        if name.startswith("SOORMA_"):
            monkeypatch.delenv(name)
    return monkeypatch


def child_env(**soorma: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOORMA_")}
    return env | soorma


def run_child(code: str, env: dict[str, str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_settings_from_environment(clean_env: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        clean_env.setenv(name, value)
    settings = resolve_settings(None)
    assert settings.redis_url == ENV["SOORMA_REDIS_URL"]
    assert settings.chroma_url == ENV["SOORMA_CHROMA_URL"]
    assert settings.data_dir == Path("/var/lib/soorma")
    assert settings.llm_model == "openai/gpt-4o-mini"
    assert settings.embedding_model == "local"
    assert settings.registry_url == ENV["SOORMA_REGISTRY_URL"]
    assert settings.registry_token.get_secret_value() == "jwt-token"
    assert "jwt-token" not in repr(settings)
    assert (settings.tenant_id, settings.user_id) == ("tenant-1", "user-1")


def test_settings_defaults(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings()
    assert settings.redis_url is None and settings.chroma_url is None
    assert settings.registry_url is None and settings.registry_token is None
    assert settings.llm_model is None and settings.embedding_model is None
    assert settings.data_dir == Path(".soorma")
    assert (settings.tenant_id, settings.user_id) == (DEFAULT_TENANT_ID, DEFAULT_USER_ID)
    explicit = Settings(tenant_id="t")
    assert resolve_settings(explicit) is explicit


@pytest.mark.parametrize(
    "url",
    [
        "redis://localhost:6379/0",
        "rediss://user:pw@redis.example:6380",
        "unix:///tmp/r.sock",
        "redis+cluster://10.0.0.1:7000",
        "rediss+cluster://user:pw@h1:7000,h2:7001,[::1]:7002/0?socket_timeout=2",
    ],
)
def test_supported_redis_urls(url: str) -> None:
    assert check_redis_url(url) == url
    assert resolve_redis_url(Settings(redis_url=url)) == url


@pytest.mark.parametrize("url", ["http://localhost:6379", "localhost:6379", "", "redis:/x"])
def test_unsupported_redis_urls(url: str) -> None:
    with pytest.raises(ConfigurationError, match="use redis://, rediss://, unix:// or redis\\+cl"):
        check_redis_url(url)
    with pytest.raises(ConfigurationError):
        sync_client(url)


@pytest.mark.parametrize(
    "url",
    ["redis+cluster://", "redis+cluster://h1", "redis+cluster://h1:7000,", "redis+cluster://h:0"],
)
def test_cluster_urls_must_list_host_and_port_of_every_seed(url: str) -> None:
    with pytest.raises(ConfigurationError, match="host:port"):
        check_redis_url(url)
    with pytest.raises(ConfigurationError):
        async_client(url)


def test_cluster_url_seeds_keep_credentials_database_and_options() -> None:
    first, others = cluster_seeds("rediss+cluster://u:p@h1:7000,[::1]:7001/0?socket_timeout=2")
    assert first == "rediss://u:p@h1:7000/0?socket_timeout=2"
    assert others == [("::1", 7001)]


async def test_a_cluster_url_gives_a_lazy_cluster_client_with_the_settings_timeouts() -> None:
    settings = Settings(redis_failover_timeout=7, redis_socket_timeout=3)
    with clients_configured_by(settings):
        client = async_client("redis+cluster://127.0.0.1:1,127.0.0.1:2")
    assert isinstance(client, redis.asyncio.RedisCluster)
    assert client.failover_timeout == 7
    assert socket_timeout_of(client) == 3
    assert [node.port for node in client.startup_nodes] == [2, 1]
    await client.aclose()


def test_an_unknown_cluster_url_option_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="unusable Redis Cluster URL"):
        async_client("redis+cluster://127.0.0.1:7000?no_such_option=1")


async def test_embedded_server_is_reused_in_process_and_persists(tmp_path: Path) -> None:
    settings = Settings(redis_url=None, data_dir=tmp_path / "data")
    try:
        url = resolve_redis_url(settings)
        assert url.startswith("unix://")
        assert resolve_redis_url(settings) == url
        assert embedded_redis(tmp_path / "data").url == url
        client = sync_client(url)
        client.set("greeting", "hello")
        aclient = async_client(url, decode_responses=True)
        assert await aclient.get("greeting") == "hello"
        await aclient.aclose()
        client.close()
        # the data lives under data_dir and survives a restart of the server
        shutdown_embedded_redis(tmp_path / "data")
        restarted = sync_client(resolve_redis_url(settings), decode_responses=True)
        assert restarted.get("greeting") == "hello"
        restarted.close()
    finally:
        shutdown_embedded_redis(tmp_path / "data")


CHILD = """
    from soorma_lc.backends.redis_clients import resolve_redis_url, sync_client
    url = resolve_redis_url()  # reads SOORMA_DATA_DIR or SOORMA_REDIS_URL
    client = sync_client(url, decode_responses=True)
    print(url, client.get("from-parent"))
    client.incr("children")
    client.close()
"""


@pytest.mark.slow
async def test_second_process_shares_embedded_server(tmp_path: Path) -> None:
    data_dir = tmp_path / "shared"
    url = resolve_redis_url(Settings(redis_url=None, data_dir=data_dir))
    client = sync_client(url, decode_responses=True)
    try:
        client.set("from-parent", "hi")
        # same data dir: the child attaches to the running server instead of starting one
        by_dir = await asyncio.to_thread(run_child, CHILD, child_env(SOORMA_DATA_DIR=str(data_dir)))
        assert by_dir == [url, "hi"]
        # any other process can use the socket URL directly
        by_url = await asyncio.to_thread(run_child, CHILD, child_env(SOORMA_REDIS_URL=url))
        assert by_url == [url, "hi"]
        assert client.get("children") == "2"  # the server outlived both children
    finally:
        client.close()
        shutdown_embedded_redis(data_dir)


def test_forced_shutdown_stops_a_server_that_cannot_save(tmp_path: Path) -> None:
    import psutil

    data_dir = tmp_path / "doomed"
    server = embedded_redis(data_dir)
    pid = server._server.pid
    sync_client(server.url).set("k", "v")
    shutil.rmtree(data_dir)  # redis-server now refuses SIGTERM: it cannot write its snapshot
    shutdown_embedded_redis(data_dir, force=True)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
