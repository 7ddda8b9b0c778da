"""Two planner processes; one is killed -9 mid-plan and the other completes the plan, with an
exact action count and every request handled once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from soorma_lc import AgentContext, EventEnvelope, Worker
from tests.bus_helpers import eventually, reap
from tests.planner_helpers import (
    DRAFT,
    FINDINGS,
    RESEARCH,
    VALIDATE,
    Stack,
    draft_text,
    research_policy,
    research_workers,
    run_goal,
)
from tests.toolkit_helpers import published

pytestmark = pytest.mark.slow

HANDLED_KEY = "test:handled"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        reap(process)


def spawn_planner(redis_url: str, data_dir: Path, **env: str) -> subprocess.Popen[bytes]:
    child_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SOORMA_REDIS_URL": redis_url,
        "SOORMA_DATA_DIR": str(data_dir),
        **{f"PLANNER_TEST_{key.upper()}": value for key, value in env.items()},
    }
    return subprocess.Popen(
        [sys.executable, "-m", "soorma_lc.cli", "run", "tests/planner_process.py:make_planner"],
        cwd=ROOT,
        env=child_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def counting_workers(stack: Stack) -> list[Worker]:
    """The three research workers, counting in Redis how often each request ran."""
    answers = {
        RESEARCH.event_name: lambda data: {"findings": FINDINGS},
        DRAFT.event_name: lambda data: {"draft": draft_text(data["topic"], data["findings"])},
        VALIDATE.event_name: lambda data: {"approved": True},
    }
    workers = []
    for name, definition in (("researcher", RESEARCH), ("advisor", DRAFT), ("validator", VALIDATE)):
        worker = Worker(name, consumes=[definition], **stack.shared())

        async def handle(event: EventEnvelope, context: AgentContext) -> None:
            await stack.bus.client.hincrby(HANDLED_KEY, event.id, 1)
            await context.bus.respond(event, data=answers[event.type](event.data or {}))

        worker.add_handler(definition.event_name, handle)
        workers.append(worker)
    return workers


async def _planners_registered(stack: Stack, count: int) -> bool:
    agents = await stack.registry.list_agents()
    return sum(agent.name == "research-planner" for agent in agents) >= count


@pytest.mark.parametrize(
    "pause",
    [{"pause_deciding": "1"}, {"pause_after": "draft.requested"}],
    ids=["killed-while-deciding", "killed-after-publishing"],
)
async def test_a_plan_survives_kill_9_of_its_planner(
    settings, redis_client, tmp_path, children, pause
):
    marker = tmp_path / "paused"
    async with Stack(settings) as stack:
        await stack.start(*counting_workers(stack))
        first = spawn_planner(settings.redis_url, tmp_path / "a", marker=str(marker), **pause)
        children.append(first)
        await eventually(lambda: _planners_registered(stack, 1), timeout=60)
        client = stack.planner(research_policy)  # never started: only submits the goal
        outcome_task = asyncio.create_task(run_goal(client))

        await eventually(marker.exists, timeout=60)
        os.kill(first.pid, signal.SIGKILL)
        assert reap(first) == -signal.SIGKILL
        second = spawn_planner(settings.redis_url, tmp_path / "b", marker=str(marker))
        children.append(second)
        outcome = await asyncio.wait_for(outcome_task, 90)

        assert outcome.status == "completed"
        assert outcome.result == draft_text("Docker", FINDINGS)
        assert outcome.actions == 3
        requests = [e for e in published(redis_client, "action-requests") if e.source]
        ids_by_type: dict[str, set[str]] = {}
        for envelope in requests:
            ids_by_type.setdefault(envelope.type, set()).add(envelope.id)
        assert {t: len(ids) for t, ids in ids_by_type.items() if t != "research.goal"} == {
            "research.requested": 1,
            "draft.requested": 1,
            "validation.requested": 1,
        }
        if "pause_after" in pause:  # the step re-ran on the second planner: same id again
            drafts = [e.id for e in requests if e.type == "draft.requested"]
            assert len(drafts) == 2 and len(set(drafts)) == 1
        handled = await stack.bus.client.hgetall(HANDLED_KEY)
        assert sorted(int(count) for count in handled.values()) == [1, 1, 1]


async def test_a_deadline_set_by_a_killed_planner_fires_on_another_and_retries_once(
    settings, redis_client, tmp_path, children
):
    async with Stack(settings) as stack:
        _, advisor, validator = research_workers(**stack.shared())
        researcher = Worker("researcher", consumes=[RESEARCH], **stack.shared())
        seen: list[str] = []

        @researcher.on_event("research.requested")
        async def second_attempt_only(event: EventEnvelope, context: AgentContext) -> None:
            seen.append(event.id)
            if len(seen) > 1:
                await context.bus.respond(event, data={"findings": FINDINGS})

        await stack.start(researcher, advisor, validator)
        deadline = {"response_timeout": "2.0", "retries": "1"}
        first = spawn_planner(settings.redis_url, tmp_path / "a", marker="-", **deadline)
        children.append(first)
        await eventually(lambda: _planners_registered(stack, 1), timeout=60)
        outcome_task = asyncio.create_task(run_goal(stack.planner(research_policy)))
        await eventually(lambda: len(seen) == 1, timeout=60)  # the plan now waits
        os.kill(first.pid, signal.SIGKILL)
        reap(first)
        for name in ("b", "c"):  # two replicas: the timer fires on exactly one
            children.append(
                spawn_planner(settings.redis_url, tmp_path / name, marker="-", **deadline)
            )
        outcome = await asyncio.wait_for(outcome_task, 90)

        assert outcome.status == "completed" and outcome.actions == 3
        assert len(seen) == len(set(seen)) == 2  # the retry was published once
