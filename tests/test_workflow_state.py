"""WorkflowState on real Redis: Soorma's semantics, typed errors, isolation, many writers."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest
import redis

from soorma_lc.errors import (
    InvalidIdentifierError,
    PlanStateTypeError,
    ScopeError,
    SerializationError,
)
from soorma_lc.memory.client import MemoryClient
from soorma_lc.memory.workflow_state import ACTION_HISTORY_KEY, WorkflowState

T, U, P = "tenant-a", "user-1", "plan-1"


@pytest.fixture
def state(memory: MemoryClient) -> WorkflowState:
    return WorkflowState(memory, P, tenant_id=T, user_id=U)


async def test_set_get_has_delete(state: WorkflowState) -> None:
    assert await state.get("goal") is None
    assert await state.get("goal", "fallback") == "fallback"
    assert await state.has("goal") is False
    await state.set("goal", "Write a blog post")
    assert await state.get("goal", "fallback") == "Write a blog post"
    assert await state.has("goal") is True
    assert await state.delete("goal") is True
    assert await state.delete("goal") is False
    assert await state.has("goal") is False


async def test_null_value_reads_as_absent_like_soorma(state: WorkflowState) -> None:
    await state.set("k", None)
    assert await state.has("k") is False
    assert await state.get("k", "default") == "default"
    await state.set("zero", 0)
    assert await state.get("zero", 5) == 0
    assert await state.has("zero") is True


async def test_counters_lists_and_dicts(state: WorkflowState) -> None:
    assert await state.increment("current_task_index") == 1
    assert await state.increment("current_task_index", 2) == 3
    assert await state.increment("current_task_index", -3) == 0
    assert await state.append("tasks", "research") == ["research"]
    assert await state.extend("tasks", ["draft", "review"]) == ["research", "draft", "review"]
    assert await state.update_dict("results", {"research": "ok"}) == {"research": "ok"}
    assert await state.update_dict("results", {"draft": {"words": 800}}) == {
        "research": "ok",
        "draft": {"words": 800},
    }
    assert await state.get("tasks") == ["research", "draft", "review"]


async def test_action_history_lives_under_its_soorma_key(
    state: WorkflowState, memory: MemoryClient
) -> None:
    assert await state.get_action_history() == []
    await state.record_action("research.started")
    await state.record_action("research.completed")
    assert await state.get_action_history() == ["research.started", "research.completed"]
    assert await memory.get_plan_state(P, ACTION_HISTORY_KEY, tenant_id=T, user_id=U) == [
        "research.started",
        "research.completed",
    ]
    assert ACTION_HISTORY_KEY == "_action_history"


async def test_cleanup_removes_state_and_history(
    state: WorkflowState, memory: MemoryClient
) -> None:
    await state.set("a", 1)
    await state.record_action("x")
    other = WorkflowState(memory, "plan-2", tenant_id=T, user_id=U)
    await other.set("a", 2)
    assert await state.cleanup() == 2
    assert await state.get_action_history() == []
    assert await state.get("a") is None
    assert await other.get("a") == 2


async def test_wrong_types_raise_and_keep_the_value(state: WorkflowState) -> None:
    await state.set("status", "planning")
    with pytest.raises(PlanStateTypeError):
        await state.increment("status")
    with pytest.raises(PlanStateTypeError):
        await state.append("status", "x")
    with pytest.raises(PlanStateTypeError):
        await state.extend("status", ["x"])
    with pytest.raises(PlanStateTypeError):
        await state.update_dict("status", {"a": 1})
    await state.set(ACTION_HISTORY_KEY, "not a list")
    with pytest.raises(PlanStateTypeError):
        await state.record_action("x")
    assert await state.get("status") == "planning"
    assert await state.get(ACTION_HISTORY_KEY) == "not a list"


async def test_non_json_refused(state: WorkflowState, redis_client: redis.Redis) -> None:
    with pytest.raises(SerializationError):
        await state.set("k", {1, 2})
    with pytest.raises(SerializationError):
        await state.append("k", object())
    with pytest.raises(SerializationError):
        await state.update_dict("k", {"a": float("nan")})
    assert redis_client.keys("*") == []


@pytest.mark.parametrize(
    ("plan", "tenant", "user", "error"),
    [
        (P, None, U, ScopeError),
        (P, T, None, ScopeError),
        (P, "", U, ScopeError),
        (P, T, " ", ScopeError),
        ("", T, U, InvalidIdentifierError),
        (None, T, U, InvalidIdentifierError),
    ],
)
def test_construction_requires_scope_and_plan(
    memory: MemoryClient, plan: Any, tenant: Any, user: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        WorkflowState(memory, plan, tenant_id=tenant, user_id=user)


async def test_empty_keys_and_action_names_refused(
    state: WorkflowState, redis_client: redis.Redis
) -> None:
    with pytest.raises(InvalidIdentifierError):
        await state.set("", 1)
    with pytest.raises(InvalidIdentifierError):
        await state.record_action("")
    assert redis_client.keys("*") == []


@pytest.mark.parametrize(
    ("tenant", "user"), [("tenant-b", U), (T, "user-2")], ids=["other-tenant", "other-user"]
)
async def test_every_method_isolated(
    state: WorkflowState, memory: MemoryClient, tenant: str, user: str
) -> None:
    await state.set("goal", "mine")
    await state.set("n", 10)
    await state.set("items", ["a"])
    await state.set("d", {"a": 1})
    await state.record_action("mine.done")
    before = await memory.get_all_plan_state(P, tenant_id=T, user_id=U)

    intruder = WorkflowState(memory, P, tenant_id=tenant, user_id=user)
    assert await intruder.get("goal") is None
    assert await intruder.has("goal") is False
    assert await intruder.get_action_history() == []
    assert await intruder.delete("goal") is False
    assert await intruder.increment("n") == 1
    assert await intruder.append("items", "b") == ["b"]
    assert await intruder.extend("items", ["c"]) == ["b", "c"]
    assert await intruder.update_dict("d", {"b": 2}) == {"b": 2}
    await intruder.record_action("intruder.done")
    await intruder.set("goal", "theirs")
    assert await intruder.get_action_history() == ["intruder.done"]
    assert await intruder.cleanup() == 5

    assert await memory.get_all_plan_state(P, tenant_id=T, user_id=U) == before
    assert await state.get_action_history() == ["mine.done"]


WRITERS = 8
OPERATIONS = 500

_WRITER = textwrap.dedent(
    """
    import asyncio, json, sys
    import redis.asyncio
    from soorma_lc.memory.client import MemoryClient
    from soorma_lc.memory.workflow_state import WorkflowState

    async def main(url, writer, count):
        barrier = redis.asyncio.Redis.from_url(url)
        async with MemoryClient.from_url(url) as memory:
            state = WorkflowState(memory, "shared-plan", tenant_id="t", user_id="u")
            await barrier.rpush("test:ready", writer)
            if await barrier.blpop(["test:go"], timeout=60) is None:
                sys.exit("no start signal")
            seen = []
            for i in range(count):
                seen.append(await state.increment("counter"))
                await state.record_action(f"w{writer}:{i}")
        await barrier.aclose()
        print(json.dumps(seen))

    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
    """
)


@pytest.mark.slow
async def test_many_processes_increment_and_record_without_losing_anything(
    memory: MemoryClient, redis_client: redis.Redis, redis_url: str
) -> None:
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, redis_url, str(writer), str(OPERATIONS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for writer in range(WRITERS)
    ]
    try:
        for _ in range(WRITERS):  # every writer connected: start them together
            assert redis_client.blpop(["test:ready"], timeout=120) is not None
        redis_client.rpush("test:go", *["go"] * WRITERS)
        outputs = [process.communicate(timeout=240) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr

    total = WRITERS * OPERATIONS
    state = WorkflowState(memory, "shared-plan", tenant_id="t", user_id="u")
    assert await state.get("counter") == total
    # Every increment saw a distinct value: no two writers ever read the same counter.
    returned = sorted(value for stdout, _ in outputs for value in json.loads(stdout))
    assert returned == list(range(1, total + 1))

    history = await state.get_action_history()
    assert len(history) == total
    for writer in range(WRITERS):
        mine = [entry for entry in history if entry.startswith(f"w{writer}:")]
        assert mine == [f"w{writer}:{i}" for i in range(OPERATIONS)]
