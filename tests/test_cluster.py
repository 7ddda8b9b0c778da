"""soorma-lc on a Redis Cluster (3 masters, one replica each, real redis-server processes).

The keys of one stream's group, plan, thread, tenant and store scope share a hash slot; a
subscription reads topic streams that live on different masters; the research choreography,
working memory transactions, the store and the sync checkpointer run unchanged; and the
cluster clients ride out a failover: commands, pipelines and scripts (whose cache the promoted
replica lacks) keep working after a master is killed. The registry contract, the checkpointer
conformance suite and the bus tests run on the cluster in their own modules.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
from langchain_core.messages import HumanMessage
from redis.crc import key_slot

from soorma_lc.backends.redis_clients import async_client, clients_configured_by, sync_client
from soorma_lc.bus import RedisStreamsBus
from soorma_lc.bus.keys import BusKeys
from soorma_lc.config import Settings
from soorma_lc.errors import BackendResponseError, BackendUnavailableError
from soorma_lc.events import EventEnvelope, EventTopic
from soorma_lc.memory import MemoryClient, RedisCheckpointSaver
from soorma_lc.memory.checkpoint.keys import thread_keys
from soorma_lc.memory.store import SoormaStore
from soorma_lc.memory.working import WorkingMemory
from soorma_lc.planners.ledger import PlanLedger
from soorma_lc.planners.timers import PlanTimers
from soorma_lc.registry import RedisRegistry
from tests.bus_helpers import eventually
from tests.checkpointer_helpers import chat_graph
from tests.longterm_helpers import new_chroma
from tests.planner_helpers import Stack, research_policy, research_workers, run_goal
from tests.redis_cluster import (
    LocalCluster,
    free_cluster_ports,
    redis_server_binary,
    require_redis_server,
)
from tests.store_helpers import index_config


def slot(key: str | bytes) -> int:
    return key_slot(key.encode() if isinstance(key, str) else key)


def test_the_keys_one_script_touches_share_a_slot() -> None:
    bus = BusKeys()
    assert {slot(bus.completed("g", b)) for b in (1, 2, 3)} | {slot(bus.errors("g"))} == {
        slot("{g}")
    }
    working = WorkingMemory(async_client("redis://localhost:1"))
    plan_key = working.plan_key("p:1", tenant_id="t{x}", user_id="u")
    ledger = PlanLedger(working)
    assert {
        slot(plan_key),
        slot(ledger._planner_key("p:1", "t{x}", "lease")),
        slot(ledger._planner_key("p:1", "t{x}", "owner")),
    } == {slot(plan_key)}
    timers = PlanTimers(working.client, "planner")
    assert slot(timers._due) == slot(timers._claimed)
    assert len({slot(key) for key in thread_keys("soorma:cp", "t{x}", "thread:1")}) == 1
    registry = RedisRegistry(working.client, tenant_id="t}1")
    assert len({slot(key) for key in registry._keys}) == 1


@pytest.fixture
async def cluster_bus(cluster_url: str) -> AsyncIterator[RedisStreamsBus]:
    bus = RedisStreamsBus.from_url(cluster_url, claim_idle=0.5, retry_backoff=0.01)
    yield bus
    await bus.aclose()


async def test_a_subscription_reads_topics_that_live_on_different_masters(
    cluster_bus: RedisStreamsBus,
) -> None:
    topics = list(EventTopic)
    assert len({slot(cluster_bus.keys.stream(topic)) for topic in topics}) == len(topics)
    seen: list[str] = []

    async def handler(envelope: EventEnvelope) -> None:
        seen.append(envelope.type)

    subscription = await cluster_bus.subscribe("everything", topics, handler, block=0.05)
    await cluster_bus.publish_many(
        [EventEnvelope(type=f"{topic.value}.happened", topic=topic) for topic in topics]
    )
    await eventually(lambda: len(seen) == len(topics))
    assert sorted(seen) == sorted(f"{topic.value}.happened" for topic in topics)
    health = subscription.health()
    assert health.healthy and health.problems == {}
    for stats in await cluster_bus.stats():
        (group,) = stats.groups
        assert (group.name, group.pending, group.lag) == ("everything", 0, 0)


async def test_the_research_choreography_runs_on_the_cluster(
    cluster_url: str, tmp_path: Path
) -> None:
    settings = Settings(redis_url=cluster_url, data_dir=tmp_path / "soorma")
    async with Stack(settings) as stack:
        planner = stack.planner(research_policy, response_timeout=30.0)
        await stack.start(*research_workers(**stack.shared()), planner)
        outcomes = await asyncio.gather(
            *(run_goal(planner, {"topic": f"topic {n}"}) for n in range(5))
        )
        assert [(o.status, o.actions) for o in outcomes] == [("completed", 3)] * 5
        history = await planner.history(outcomes[0].plan_id, tenant_id="acme", user_id="alice")
        assert [record.kind for record in history][-1] == "completed"
        plans = await stack.memory.list_plans(tenant_id="acme", user_id="alice", limit=None)
        assert sorted(plan.status for plan in plans) == ["completed"] * 5
        assert await stack.bus.dead_letter_count() == 0


async def test_working_memory_transactions_and_plans_on_the_cluster(cluster_url: str) -> None:
    memory = MemoryClient.from_url(cluster_url)
    scope = {"tenant_id": "acme", "user_id": "alice"}
    try:
        await memory.create_plan("p1", "research.goal", {"topic": "x"}, session_id="s1", **scope)
        merged = await asyncio.gather(
            *(memory.merge_plan_state("p1", "found", {f"k{n}": n}, **scope) for n in range(20))
        )
        assert max(len(m) for m in merged) == 20
        assert await memory.extend_plan_state("p1", "log", [1, 2], **scope) == [1, 2]
        assert await memory.increment_plan_state("p1", "count", 5, **scope) == 5
        await memory.update_plan_status("p1", "completed", **scope)
        [plan] = await memory.list_plans(session_id="s1", **scope)
        assert plan.status == "completed"
        assert await memory.cleanup_plan("p1", **scope) == 3
    finally:
        await memory.aclose()


def test_the_store_on_the_cluster(cluster_url: str, tmp_path: Path) -> None:
    store = SoormaStore.from_url(cluster_url, index=index_config(), chroma=new_chroma(tmp_path))
    try:
        store.put(("docs",), "a", {"text": "apple pie"})
        store.put(("docs",), "b", {"text": "banana bread"}, ttl=0.0001)
        store.put(("notes",), "c", {"text": "cherry"})
        assert next(hit.key for hit in store.search(("docs",), query="apple")) == "a"
        store.delete(("notes",), "c")
        assert store.list_namespaces() == [("docs",)]
        assert store.sweep_ttl() in (0, 1)  # "b" expired, unless already swept by a read
        assert [item.key for item in store.search(("docs",))] == ["a"]
    finally:
        store.close()


@pytest.fixture
def cluster_saver(cluster_url: str) -> Iterator[RedisCheckpointSaver]:
    saver = RedisCheckpointSaver.from_url(cluster_url)
    yield saver
    saver.close()


def test_the_sync_checkpointer_on_the_cluster(cluster_saver: RedisCheckpointSaver) -> None:
    graph = chat_graph(cluster_saver)
    for thread in ("a", "b"):
        config = {"configurable": {"thread_id": thread}}
        for turn in range(3):
            result = graph.invoke({"messages": [HumanMessage(content=f"q{turn}")]}, config)
        assert len(result["messages"]) == 6
    assert len(list(graph.get_state_history({"configurable": {"thread_id": "a"}}))) == 9
    cluster_saver.delete_thread("a")
    assert graph.get_state({"configurable": {"thread_id": "a"}}).values == {}


async def test_a_cluster_url_naming_a_plain_server_is_refused_clearly(tmp_path: Path) -> None:
    require_redis_server()
    [port] = free_cluster_ports(1)
    server = subprocess.Popen(
        [redis_server_binary(), "--port", str(port), "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    registry = RedisRegistry.from_url(f"redis+cluster://127.0.0.1:{port}")
    try:
        await eventually(lambda: _pings(port), timeout=30)
        with pytest.raises(BackendResponseError, match="Cluster mode is not enabled"):
            await registry.list_agents()
    finally:
        await registry.aclose()
        server.terminate()
        server.wait(timeout=15)


def _pings(port: int) -> bool:
    try:
        with redis.Redis(port=port) as client:
            return bool(client.ping())
    except redis.ConnectionError:
        return False


async def test_an_unreachable_cluster_is_unavailable_after_the_failover_timeout() -> None:
    with clients_configured_by(Settings(redis_failover_timeout=0.3, redis_connect_timeout=1)):
        bus = RedisStreamsBus.from_url("redis+cluster://127.0.0.1:1,127.0.0.1:2")
    with pytest.raises(BackendUnavailableError, match="unreachable"):
        await bus.publish(EventEnvelope(type="x.happened", topic=EventTopic.BUSINESS_FACTS))
    await bus.aclose()


@pytest.fixture
def failover_cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    """A cluster of this test's own: it loses a master."""
    require_redis_server()
    with LocalCluster(tmp_path / "cluster") as cluster:
        yield cluster


async def test_commands_pipelines_and_scripts_ride_out_a_failover(
    failover_cluster: LocalCluster,
) -> None:
    client = async_client(failover_cluster.url)
    blocking = sync_client(failover_cluster.url)
    keys = [f"key-{n}" for n in range(64)]  # spread over the three masters
    script = client.register_script("return redis.call('INCR', KEYS[1])")
    try:
        for key in keys:
            assert await script(keys=[key]) == 1
        master = failover_cluster.master_ports()[0]
        replica = failover_cluster.replica_of(master)
        failover_cluster.wait_replicated(master)  # the counts below assume no write is lost
        failover_cluster.kill(master)

        async with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.incr(key)
            assert await pipe.execute() == [2] * len(keys)
        assert [await script(keys=[key]) for key in keys] == [3] * len(keys)
        assert [int(blocking.get(key)) for key in keys] == [3] * len(keys)
        assert replica in failover_cluster.master_ports()
        assert master not in failover_cluster.master_ports()
    finally:
        await client.aclose()
        blocking.close()
