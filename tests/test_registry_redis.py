"""RedisRegistry specifics: real TTL expiry, versions, tenants, purging, processes, failures."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import redis.asyncio

from soorma_lc.backends.embedded_redis import shutdown_embedded_redis
from soorma_lc.config import Settings
from soorma_lc.errors import (
    BackendUnavailableError,
    ConfigurationError,
    RegistryUnavailableError,
    UnknownAgentError,
)
from soorma_lc.events import AgentCapability, AgentDefinition, EventDefinition, EventTopic
from soorma_lc.registry import RedisRegistry, registry_from_settings

REQUEST = EventDefinition(
    event_name="translate.request", topic=EventTopic.ACTION_REQUESTS, description="Translate"
)


def worker(agent_id: str, description: str = "translator") -> AgentDefinition:
    return AgentDefinition(
        agent_id=agent_id,
        name="translator",
        description=description,
        capabilities=[AgentCapability(task_name="translate", consumed_event=REQUEST)],
    )


async def test_agents_expire_after_real_ttl_and_heartbeat_revives(redis_url: str) -> None:
    registry = RedisRegistry.from_url(redis_url, agent_ttl=2)
    await registry.register_agent(worker("w-1"))
    assert await registry.get_agent("w-1") is not None
    live_version = await registry.version()
    await asyncio.sleep(2.2)
    assert await registry.get_agent("w-1") is None
    assert await registry.list_agents("translate.request") == []
    assert await registry.version() != live_version
    await registry.heartbeat("w-1")
    assert [a.agent_id for a in await registry.list_agents()] == ["w-1"]
    await registry.aclose()


async def test_version_counts_only_real_changes(redis_url: str) -> None:
    registry = RedisRegistry.from_url(redis_url)
    other_client = RedisRegistry.from_url(redis_url)
    assert await registry.version() == "0.0"
    await registry.register_agent(worker("w-1"))
    assert await registry.version() == "1.1"
    await registry.register_agent(worker("w-1"))  # identical and live
    await registry.register_event(REQUEST)  # identical
    assert await other_client.version() == "1.1"
    await registry.register_agent(worker("w-1", description="better translator"))
    await registry.register_event(REQUEST.model_copy(update={"description": "v2"}))
    assert await other_client.version() == "3.1"
    await registry.register_agent(worker("w-2"))
    assert await registry.version() == "4.2"
    await registry.aclose()
    await other_client.aclose()


async def test_concurrent_registrations_are_atomic(redis_url: str) -> None:
    registries = [RedisRegistry.from_url(redis_url) for _ in range(4)]
    await asyncio.gather(
        *(registries[i % 4].register_agent(worker(f"w-{i:02d}")) for i in range(40))
    )
    agents = await registries[0].list_agents("translate.request")
    assert [a.agent_id for a in agents] == [f"w-{i:02d}" for i in range(40)]
    # the shared event was written once; each new agent bumped the counter once
    assert await registries[0].version() == "40.40"
    await asyncio.gather(*(r.aclose() for r in registries))


async def test_tenants_are_isolated(redis_url: str, aredis_client: redis.asyncio.Redis) -> None:
    acme = RedisRegistry.from_url(redis_url, tenant_id="acme")
    globex = RedisRegistry.from_url(redis_url, tenant_id="globex", prefix="app:reg:")
    await acme.register_agent(worker("w-1"))
    assert await globex.list_events() == []
    assert await globex.get_agent("w-1") is None
    with pytest.raises(UnknownAgentError):
        await globex.heartbeat("w-1")
    assert await globex.deregister_agent("w-1") is False
    assert await acme.get_agent("w-1") is not None
    await globex.register_event(REQUEST)
    keys = sorted(k.decode() for k in await aredis_client.keys("*"))
    assert keys == [
        "app:reg:{globex}:events",
        "app:reg:{globex}:version",
        "soorma:registry:{acme}:agents",
        "soorma:registry:{acme}:events",
        "soorma:registry:{acme}:expiry",
        "soorma:registry:{acme}:version",
    ]
    await acme.aclose()
    await globex.aclose()


async def test_long_expired_agents_are_purged(
    redis_url: str, aredis_client: redis.asyncio.Redis
) -> None:
    registry = RedisRegistry.from_url(redis_url, purge_after=60, tenant_id="t")
    await registry.register_agent(worker("old"))
    await registry.register_agent(worker("recent"))
    seconds, _ = await aredis_client.time()
    expiry = "soorma:registry:{t}:expiry"
    await aredis_client.zadd(
        expiry, {"old": (seconds - 61) * 1000, "recent": (seconds - 59) * 1000}
    )
    await registry.register_agent(worker("new"))  # purges on write
    with pytest.raises(UnknownAgentError):
        await registry.heartbeat("old")
    await registry.heartbeat("recent")  # still stored, so it revives
    assert [a.agent_id for a in await registry.list_agents()] == ["new", "recent"]
    await registry.aclose()


async def test_expiry_uses_the_redis_server_clock(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = RedisRegistry.from_url(redis_url, agent_ttl=60)
    skew = -3600.0  # this machine's clock is an hour behind the server's
    real_time, real_monotonic = time.time, time.monotonic
    monkeypatch.setattr(time, "time", lambda: real_time() + skew)
    monkeypatch.setattr(time, "monotonic", lambda: real_monotonic() + skew)
    await registry.register_agent(worker("w-1"))
    assert await registry.get_agent("w-1") is not None
    await registry.aclose()


async def test_corrupt_entries_are_skipped_and_repaired(
    redis_url: str, aredis_client: redis.asyncio.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    registry = RedisRegistry.from_url(redis_url, tenant_id="t")
    await registry.register_agent(worker("w-1"))
    await aredis_client.hset("soorma:registry:{t}:events", "broken.event", "{not json")
    await aredis_client.hset("soorma:registry:{t}:agents", "w-1", '{"agent_id": ""}')
    # The logger itself: an in-process `soorma-lc eval` leaves "soorma_lc" at CRITICAL.
    with caplog.at_level(logging.WARNING, logger="soorma_lc"):
        assert [e.event_name for e in await registry.list_events()] == ["translate.request"]
        assert await registry.get_event("broken.event") is None
        assert await registry.list_agents() == []
    assert "skipping unreadable registry entry 'broken.event'" in caplog.text
    await registry.register_agent(worker("w-1"))
    assert await registry.get_agent("w-1") == worker("w-1")
    await registry.aclose()


async def test_unreachable_redis_raises_backend_unavailable(tmp_path: Path) -> None:
    registry = RedisRegistry.from_url(f"unix://{tmp_path}/no-such.sock")
    with pytest.raises(RegistryUnavailableError, match=r"list_events: Redis is unreachable"):
        await registry.list_events()
    with pytest.raises(BackendUnavailableError):  # the registry's error is a backend error too
        await registry.register_event(REQUEST)
    await registry.aclose()


def test_bad_options_are_configuration_errors(redis_url: str) -> None:
    with pytest.raises(ConfigurationError, match="agent_ttl"):
        RedisRegistry.from_url(redis_url, agent_ttl=0)
    with pytest.raises(ConfigurationError, match="purge_after"):
        RedisRegistry.from_url(redis_url, purge_after=-1)
    with pytest.raises(ConfigurationError, match="unsupported Redis URL"):
        RedisRegistry.from_url("http://localhost:6379")


async def test_factory_uses_redis_for_the_settings_tenant(settings: Settings) -> None:
    registry = registry_from_settings(settings.model_copy(update={"tenant_id": "tenant-9"}))
    assert isinstance(registry, RedisRegistry) and registry.tenant_id == "tenant-9"
    await registry.register_event(REQUEST)
    same = RedisRegistry.from_url(settings.redis_url, tenant_id="tenant-9")
    assert await same.get_event("translate.request") == REQUEST
    await registry.aclose()
    await same.aclose()


CHILD = textwrap.dedent(
    """
    import asyncio, json
    from soorma_lc.events import AgentCapability, AgentDefinition, EventDefinition
    from soorma_lc.registry import RedisRegistry

    async def main():
        registry = RedisRegistry.from_settings()  # SOORMA_DATA_DIR: the parent's embedded server
        seen = {
            "events": [e.event_name for e in await registry.list_events()],
            "agents": [a.agent_id for a in await registry.list_agents("translate.request")],
        }
        done = EventDefinition(event_name="translate.done", topic="action-results")
        await registry.register_agent(AgentDefinition(
            agent_id="child-agent", name="child",
            capabilities=[AgentCapability(task_name="t", consumed_event=done)],
        ))
        await registry.aclose()
        print(json.dumps(seen))

    asyncio.run(main())
    """
)


@pytest.mark.slow
async def test_second_process_shares_the_embedded_registry(tmp_path: Path) -> None:
    data_dir = tmp_path / "shared"
    settings = Settings(redis_url=None, data_dir=data_dir, tenant_id="tenant-mp")
    registry = RedisRegistry.from_settings(settings)
    try:
        await registry.register_agent(worker("parent-agent"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOORMA_")}
        env |= {"SOORMA_DATA_DIR": str(data_dir), "SOORMA_TENANT_ID": "tenant-mp"}
        child = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", CHILD],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert child.returncode == 0, child.stderr
        seen = json.loads(child.stdout.strip().splitlines()[-1])
        assert seen == {"events": ["translate.request"], "agents": ["parent-agent"]}
        assert [a.agent_id for a in await registry.list_agents()] == [
            "child-agent",
            "parent-agent",
        ]
        assert (await registry.get_event("translate.done")).topic is EventTopic.ACTION_RESULTS
    finally:
        await registry.aclose()
        shutdown_embedded_redis(data_dir)


@pytest.mark.slow
async def test_registry_example_runs(tmp_path: Path) -> None:
    script = Path(__file__).parents[1] / "examples" / "registry" / "registry_demo.py"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOORMA_")}
    env["SOORMA_DATA_DIR"] = str(tmp_path / "data")
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "consumed by ['summarizer-1']" in done.stdout
    assert "after re-register + heartbeat: 2.2" in done.stdout
    assert "deregistered summarizer-1: True" in done.stdout
    assert done.stdout.rstrip().endswith("registry version: 3.1")
