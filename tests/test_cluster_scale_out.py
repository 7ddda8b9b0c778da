"""Scale-out under failures: the research choreography on a Redis Cluster and a Chroma server,
2 planner and 6 worker processes, 50 goals. During the run one planner and two workers are
killed -9 and restarted, and a master is killed so that its replica takes over. Every goal
completes exactly once, no event is lost, nothing is dead-lettered."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from soorma_lc import EventEnvelope, Settings
from soorma_lc.bus.codec import decode
from soorma_lc.memory.episodic import EpisodicMemory
from soorma_lc.planners import PlanOutcome
from tests.agent_processes import Processes
from tests.bus_helpers import eventually
from tests.chroma_server import running_chroma
from tests.planner_helpers import FINDINGS, Stack, draft_text, research_policy
from tests.redis_cluster import LocalCluster, require_redis_server
from tests.scale_out_agents import (
    HANDLED_KEY,
    PLANNER,
    PLANNER_TARGET,
    ROLES,
    WORKER_TARGET,
)

pytestmark = pytest.mark.slow

GOALS = 50
SCOPE = {"tenant_id": "acme", "user_id": "alice"}


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    require_redis_server()
    with LocalCluster(tmp_path / "cluster") as cluster:
        yield cluster


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    with running_chroma(tmp_path / "chroma") as (url, _):
        yield url


@pytest.fixture
def processes(cluster: LocalCluster, chroma_url: str, tmp_path: Path) -> Iterator[Processes]:
    (tmp_path / "logs").mkdir()
    settings = Settings(redis_url=cluster.url, chroma_url=chroma_url, data_dir=tmp_path / "data")
    running = Processes(settings, tmp_path / "logs")
    yield running
    running.stop_all()


@pytest.fixture
async def stack(processes: Processes) -> AsyncIterator[Stack]:
    async with Stack(processes.settings) as stack:
        yield stack


async def test_fifty_goals_complete_exactly_once_through_kills_and_a_failover(
    cluster: LocalCluster, processes: Processes, stack: Stack
) -> None:
    for planner in ("planner-a", "planner-b"):
        processes.start(planner, PLANNER_TARGET)
    for role in ROLES:
        for copy in (1, 2):
            processes.start(f"{role}-{copy}", WORKER_TARGET, **_worker_env(role))
    await eventually(lambda: _all_registered(stack), timeout=120)

    client = stack.planner(research_policy)  # never started: it only submits goals
    outcomes: list[PlanOutcome] = []

    async def submit(n: int) -> PlanOutcome:
        await asyncio.sleep(0.2 * n)  # goals keep arriving while processes die
        outcome = await client.submit(
            "research.goal", {"topic": f"topic {n}"}, timeout=120, **SCOPE
        )
        outcomes.append(outcome)
        return outcome

    async def chaos() -> None:
        await _when(lambda: len(outcomes) >= 5)
        processes.kill_and_restart("planner-a", PLANNER_TARGET)
        await _when(lambda: len(outcomes) >= 15)
        processes.kill_and_restart("researcher-1", WORKER_TARGET, **_worker_env("researcher"))
        processes.kill_and_restart("advisor-2", WORKER_TARGET, **_worker_env("advisor"))
        await _when(lambda: len(outcomes) >= 25)
        master = cluster.master_ports()[0]
        replica = cluster.replica_of(master)
        await asyncio.to_thread(cluster.kill, master)
        await asyncio.to_thread(cluster.wait_healthy, 60)
        assert replica in cluster.master_ports()

    try:
        results = await asyncio.wait_for(
            asyncio.gather(chaos(), *(submit(n) for n in range(GOALS))), timeout=240
        )
    except BaseException:
        print(processes.tails())
        raise
    final: list[PlanOutcome] = list(results[1:])

    # Every goal completed, with the real draft and exactly three actions.
    assert [(o.status, o.actions) for o in final] == [("completed", 3)] * GOALS
    assert [o.result for o in final] == [draft_text(f"topic {n}", FINDINGS) for n in range(GOALS)]
    assert len({o.plan_id for o in final}) == GOALS

    # Exactly once: one outcome event per goal, one request id per step of each plan.
    redis = stack.bus.client
    results_stream = await published_events(stack, "action-results")
    answers = {e.id for e in results_stream if e.type == "research.goal.completed"}
    assert len(answers) == GOALS
    requests: dict[tuple[str, str], set[str]] = defaultdict(set)
    for envelope in await published_events(stack, "action-requests"):
        if envelope.plan_id and envelope.type != "research.goal":
            requests[(envelope.plan_id, envelope.type)].add(envelope.id)
    assert len(requests) == 3 * GOALS
    assert {len(ids) for ids in requests.values()} == {1}

    # No event lost: every request ran, every group drained, nothing dead-lettered.
    handled = {
        key.decode(): int(count) for key, count in (await redis.hgetall(HANDLED_KEY)).items()
    }
    assert {next(iter(ids)) for ids in requests.values()} <= set(handled)
    await eventually(lambda: _drained(stack), timeout=60)
    assert await stack.bus.dead_letter_count() == 0

    # The plans' records, working memory and episodes (on the Chroma server) are all there.
    plans = await stack.memory.list_plans(**SCOPE, limit=None)
    assert sorted(plan.status for plan in plans) == ["completed"] * GOALS
    for outcome in final:
        assert await stack.memory.get_plan_state(outcome.plan_id, "findings", **SCOPE) == FINDINGS
    episodes = await EpisodicMemory.from_settings(processes.settings).get_recent_history(
        PLANNER, **SCOPE, limit=4 * GOALS
    )
    assert {i.metadata["plan_id"] for i in episodes} == {o.plan_id for o in final}
    print(
        f"handler runs: {sum(handled.values())} for {len(handled)} requests; "
        f"processes started: {dict(processes.generation)}"
    )


async def published_events(stack: Stack, topic: str) -> list[EventEnvelope]:
    """Every envelope on a topic stream, oldest first."""
    entries = await stack.bus.client.xrange(stack.bus.keys.stream(topic))
    return [decode(fields) for _, fields in entries]


def _worker_env(role: str) -> dict[str, str]:
    """A worker of ``role`` whose handlers take 200 ms: kills land on work in progress."""
    return {"SCALE_OUT_ROLE": role, "SCALE_OUT_WORK_MS": "200"}


async def _all_registered(stack: Stack) -> bool:
    names = [agent.name for agent in await stack.registry.list_agents()]
    return names.count(PLANNER) >= 2 and all(names.count(role) >= 2 for role in ROLES)


async def _drained(stack: Stack) -> bool:
    stats = await stack.bus.stats()
    return all(group.pending == 0 and not group.lag for s in stats for group in s.groups)


async def _when(condition: Callable[[], bool | Awaitable[bool]]) -> None:
    await eventually(condition, timeout=180)
