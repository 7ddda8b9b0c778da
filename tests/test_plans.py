"""Plans and sessions through MemoryClient on real Redis: lifecycle, listing, isolation."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis

from soorma_lc.errors import (
    CorruptedDataError,
    DuplicatePlanError,
    DuplicateSessionError,
    InvalidIdentifierError,
    InvalidStatusTransitionError,
    PlanNotFoundError,
    ScopeError,
    SerializationError,
    SoormaValidationError,
    ValueTooLargeError,
)
from soorma_lc.memory.client import MemoryClient
from soorma_lc.memory.plans import ALLOWED_TRANSITIONS, PlanStatus

T, U = "tenant-a", "user-1"


def _dump(client: redis.Redis) -> dict[bytes, Any]:
    """Every key with its contents, to prove a refused call wrote nothing."""
    dump: dict[bytes, Any] = {}
    for key in sorted(client.keys("*")):
        kind = client.type(key)
        dump[key] = (
            client.hgetall(key) if kind == b"hash" else client.zrange(key, 0, -1, withscores=True)
        )
    return dump


async def test_create_and_get_plan(memory: MemoryClient) -> None:
    plan = await memory.create_plan(
        plan_id="p1", goal_event="research.goal", goal_data={"topic": "AI"}, tenant_id=T, user_id=U
    )
    assert (plan.plan_id, plan.tenant_id, plan.user_id) == ("p1", T, U)
    assert plan.status is PlanStatus.RUNNING
    assert plan.goal_data == {"topic": "AI"}
    assert plan.session_id is None and plan.parent_plan_id is None
    assert plan.created_at == plan.updated_at
    assert await memory.get_plan("p1", tenant_id=T, user_id=U) == plan
    assert await memory.get_plan("missing", tenant_id=T, user_id=U) is None


async def test_plan_id_defaults_to_uuid(memory: MemoryClient) -> None:
    plan = await memory.create_plan(goal_event="g", tenant_id=T, user_id=U)
    assert uuid.UUID(plan.plan_id).version == 4
    assert plan.goal_data == {}


async def test_plan_ids_unique_per_tenant(memory: MemoryClient, redis_client: redis.Redis) -> None:
    await memory.create_plan("p1", "g", {"v": 1}, tenant_id=T, user_id=U)
    before = _dump(redis_client)
    with pytest.raises(DuplicatePlanError):
        await memory.create_plan("p1", "other", {"v": 2}, tenant_id=T, user_id=U)
    with pytest.raises(DuplicatePlanError):  # another user of the same tenant
        await memory.create_plan("p1", "other", tenant_id=T, user_id="user-2")
    assert _dump(redis_client) == before
    # the same plan id in another tenant is another plan
    other = await memory.create_plan("p1", "g2", tenant_id="tenant-b", user_id=U)
    assert other.goal_event == "g2"
    assert (await memory.get_plan("p1", tenant_id=T, user_id=U)).goal_data == {"v": 1}  # type: ignore[union-attr]


async def test_concurrent_creates_of_one_plan_id_let_exactly_one_win(memory: MemoryClient) -> None:
    results = await asyncio.gather(
        *(memory.create_plan("race", f"g{i}", tenant_id=T, user_id=U) for i in range(10)),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(r, DuplicatePlanError) for r in results if r not in winners)
    assert await memory.get_plan("race", tenant_id=T, user_id=U) == winners[0]


# -- status lifecycle ---------------------------------------------------------------------


async def test_status_lifecycle(memory: MemoryClient) -> None:
    created = await memory.create_plan("p1", "g", tenant_id=T, user_id=U)
    paused = await memory.update_plan_status("p1", "paused", tenant_id=T, user_id=U)
    assert paused.status is PlanStatus.PAUSED and paused.updated_at >= created.updated_at
    running = await memory.update_plan_status("p1", PlanStatus.RUNNING, tenant_id=T, user_id=U)
    done = await memory.update_plan_status("p1", "completed", tenant_id=T, user_id=U)
    assert running.status is PlanStatus.RUNNING
    assert await memory.get_plan("p1", tenant_id=T, user_id=U) == done
    # repeating the current status is a harmless no-op (redelivered events)
    again = await memory.update_plan_status("p1", "completed", tenant_id=T, user_id=U)
    assert again == done


ALL_PAIRS = [(a, b) for a in PlanStatus for b in PlanStatus if a != b]


@pytest.mark.parametrize(("source", "target"), ALL_PAIRS, ids=lambda s: s.value)
async def test_transition_table_is_enforced(
    memory: MemoryClient, redis_client: redis.Redis, source: PlanStatus, target: PlanStatus
) -> None:
    await memory.create_plan("p1", "g", tenant_id=T, user_id=U)
    path = {
        PlanStatus.RUNNING: [],
        PlanStatus.PAUSED: ["paused"],
        PlanStatus.COMPLETED: ["completed"],
        PlanStatus.FAILED: ["failed"],
    }[source]
    for step in path:
        await memory.update_plan_status("p1", step, tenant_id=T, user_id=U)
    if target in ALLOWED_TRANSITIONS[source]:
        assert (
            await memory.update_plan_status("p1", target, tenant_id=T, user_id=U)
        ).status is target
    else:
        before = _dump(redis_client)
        with pytest.raises(InvalidStatusTransitionError) as info:
            await memory.update_plan_status("p1", target, tenant_id=T, user_id=U)
        assert (info.value.current, info.value.target) == (source.value, target.value)
        assert _dump(redis_client) == before


def test_final_states_are_final() -> None:
    assert ALLOWED_TRANSITIONS[PlanStatus.COMPLETED] == frozenset()
    assert ALLOWED_TRANSITIONS[PlanStatus.FAILED] == frozenset()


async def test_unknown_status_and_missing_plan(memory: MemoryClient) -> None:
    await memory.create_plan("p1", "g", tenant_id=T, user_id=U)
    with pytest.raises(SoormaValidationError):
        await memory.update_plan_status("p1", "done", tenant_id=T, user_id=U)
    with pytest.raises(PlanNotFoundError):
        await memory.update_plan_status("nope", "completed", tenant_id=T, user_id=U)
    assert (await memory.get_plan("p1", tenant_id=T, user_id=U)).status is PlanStatus.RUNNING  # type: ignore[union-attr]


# -- sessions -----------------------------------------------------------------------------


async def test_sessions(memory: MemoryClient) -> None:
    session = await memory.create_session(
        "s1", name="Q1 launch", metadata={"team": ["a", "b"]}, tenant_id=T, user_id=U
    )
    assert (session.session_id, session.name, session.metadata) == (
        "s1",
        "Q1 launch",
        {"team": ["a", "b"]},
    )
    assert session.created_at == session.last_interaction
    assert await memory.get_session("s1", tenant_id=T, user_id=U) == session
    generated = await memory.create_session(tenant_id=T, user_id=U)
    assert uuid.UUID(generated.session_id).version == 4
    assert await memory.get_session("nope", tenant_id=T, user_id=U) is None


async def test_session_ids_unique_per_tenant(
    memory: MemoryClient, redis_client: redis.Redis
) -> None:
    await memory.create_session("s1", name="first", tenant_id=T, user_id=U)
    before = _dump(redis_client)
    with pytest.raises(DuplicateSessionError):
        await memory.create_session("s1", name="second", tenant_id=T, user_id=U)
    with pytest.raises(DuplicateSessionError):
        await memory.create_session("s1", tenant_id=T, user_id="user-2")
    with pytest.raises(DuplicateSessionError):  # joining another user's session
        await memory.create_plan("p1", "g", session_id="s1", tenant_id=T, user_id="user-2")
    assert _dump(redis_client) == before
    assert (await memory.create_session("s1", tenant_id="tenant-b", user_id=U)).name is None


async def test_last_interaction_follows_plan_activity(memory: MemoryClient) -> None:
    session = await memory.create_session("s1", tenant_id=T, user_id=U)
    plan = await memory.create_plan("p1", "g", session_id="s1", tenant_id=T, user_id=U)
    touched = await memory.get_session("s1", tenant_id=T, user_id=U)
    assert touched is not None and touched.last_interaction == plan.created_at
    assert touched.last_interaction > session.last_interaction
    done = await memory.update_plan_status("p1", "completed", tenant_id=T, user_id=U)
    touched = await memory.get_session("s1", tenant_id=T, user_id=U)
    assert touched is not None and touched.last_interaction == done.updated_at
    assert touched.created_at == session.created_at


async def test_plan_with_new_session_id_creates_the_session(memory: MemoryClient) -> None:
    plan = await memory.create_plan("p1", "g", session_id="chat-9", tenant_id=T, user_id=U)
    session = await memory.get_session("chat-9", tenant_id=T, user_id=U)
    assert session is not None
    assert (session.user_id, session.created_at) == (U, plan.created_at)
    assert [s.session_id for s in await memory.list_sessions(tenant_id=T, user_id=U)] == ["chat-9"]


async def test_list_sessions_by_last_interaction(memory: MemoryClient) -> None:
    for session_id in ("s1", "s2", "s3"):
        await memory.create_session(session_id, tenant_id=T, user_id=U)
    await memory.create_plan("p1", "g", session_id="s1", tenant_id=T, user_id=U)
    assert [s.session_id for s in await memory.list_sessions(tenant_id=T, user_id=U)] == [
        "s1",
        "s3",
        "s2",
    ]
    assert [s.session_id for s in await memory.list_sessions(tenant_id=T, user_id=U, limit=2)] == [
        "s1",
        "s3",
    ]
    assert await memory.list_sessions(tenant_id=T, user_id="user-2") == []


async def test_delete_session_keeps_its_plans(memory: MemoryClient) -> None:
    await memory.create_plan("p1", "g", session_id="s1", tenant_id=T, user_id=U)
    assert await memory.delete_session("s1", tenant_id=T, user_id=U) is True
    assert await memory.delete_session("s1", tenant_id=T, user_id=U) is False
    assert await memory.get_session("s1", tenant_id=T, user_id=U) is None
    assert await memory.list_sessions(tenant_id=T, user_id=U) == []
    assert [
        p.plan_id for p in await memory.list_plans(tenant_id=T, user_id=U, session_id="s1")
    ] == ["p1"]
    assert await memory.get_plan("p1", tenant_id=T, user_id=U) is not None


# -- listing ------------------------------------------------------------------------------


async def test_list_plans_filters_and_order(memory: MemoryClient) -> None:
    await memory.create_plan("root", "g", session_id="s1", tenant_id=T, user_id=U)
    await memory.create_plan(
        "a", "g", session_id="s1", parent_plan_id="root", tenant_id=T, user_id=U
    )
    await memory.create_plan("b", "g", parent_plan_id="root", tenant_id=T, user_id=U)
    await memory.create_plan("c", "g", session_id="s2", tenant_id=T, user_id=U)
    await memory.update_plan_status("a", "completed", tenant_id=T, user_id=U)

    def ids(plans: list[Any]) -> list[str]:
        return [p.plan_id for p in plans]

    assert ids(await memory.list_plans(tenant_id=T, user_id=U)) == ["a", "c", "b", "root"]
    assert ids(await memory.list_plans(tenant_id=T, user_id=U, limit=2)) == ["a", "c"]
    assert ids(await memory.list_plans(tenant_id=T, user_id=U, session_id="s1")) == ["a", "root"]
    assert ids(await memory.list_plans(tenant_id=T, user_id=U, parent_plan_id="root")) == ["a", "b"]
    assert ids(await memory.list_plans(tenant_id=T, user_id=U, status="running")) == [
        "c",
        "b",
        "root",
    ]
    assert ids(await memory.list_plans(tenant_id=T, user_id=U, status=PlanStatus.COMPLETED)) == [
        "a"
    ]
    assert ids(
        await memory.list_plans(tenant_id=T, user_id=U, session_id="s1", parent_plan_id="root")
    ) == ["a"]
    assert ids(
        await memory.list_plans(tenant_id=T, user_id=U, session_id="s1", status="running")
    ) == ["root"]
    assert await memory.list_plans(tenant_id=T, user_id=U, session_id="none") == []
    assert await memory.list_plans(tenant_id=T, user_id=U, status="failed") == []


async def test_list_plans_pages_through_large_indexes(memory: MemoryClient) -> None:
    for i in range(250):
        await memory.create_plan(f"p{i:03}", "g", tenant_id=T, user_id=U)
    for i in range(0, 250, 50):
        await memory.update_plan_status(f"p{i:03}", "failed", tenant_id=T, user_id=U)
    failed = await memory.list_plans(tenant_id=T, user_id=U, status="failed", limit=None)
    assert sorted(p.plan_id for p in failed) == [f"p{i:03}" for i in range(0, 250, 50)]
    assert len(await memory.list_plans(tenant_id=T, user_id=U, limit=None)) == 250
    assert len(await memory.list_plans(tenant_id=T, user_id=U, status="running", limit=120)) == 120


@pytest.mark.parametrize("limit", [0, -1, True, "5", 1.5, 5.0])
async def test_bad_limit(memory: MemoryClient, limit: Any) -> None:
    with pytest.raises(SoormaValidationError):
        await memory.list_plans(tenant_id=T, user_id=U, limit=limit)
    with pytest.raises(SoormaValidationError):
        await memory.list_sessions(tenant_id=T, user_id=U, limit=limit)


async def test_parent_must_be_an_existing_plan_of_the_user(
    memory: MemoryClient, redis_client: redis.Redis
) -> None:
    await memory.create_plan("root", "g", tenant_id=T, user_id=U)
    before = _dump(redis_client)
    with pytest.raises(PlanNotFoundError):
        await memory.create_plan("child", "g", parent_plan_id="nope", tenant_id=T, user_id=U)
    with pytest.raises(PlanNotFoundError):
        await memory.create_plan("child", "g", parent_plan_id="root", tenant_id=T, user_id="u2")
    with pytest.raises(PlanNotFoundError):
        await memory.create_plan(
            "child", "g", parent_plan_id="root", tenant_id="tenant-b", user_id=U
        )
    assert _dump(redis_client) == before


async def test_delete_plan_removes_record_index_and_working_memory(
    memory: MemoryClient, redis_client: redis.Redis
) -> None:
    await memory.create_plan("root", "g", session_id="s1", tenant_id=T, user_id=U)
    await memory.create_plan(
        "kid", "g", session_id="s1", parent_plan_id="root", tenant_id=T, user_id=U
    )
    await memory.set_plan_state("kid", "k", 1, tenant_id=T, user_id=U)
    await memory.set_plan_state("root", "k", 1, tenant_id=T, user_id=U)
    assert await memory.delete_plan("kid", tenant_id=T, user_id=U) is True
    assert await memory.delete_plan("kid", tenant_id=T, user_id=U) is False
    assert await memory.get_plan("kid", tenant_id=T, user_id=U) is None
    assert await memory.get_all_plan_state("kid", tenant_id=T, user_id=U) == {}
    assert await memory.get_plan_state("root", "k", tenant_id=T, user_id=U) == 1
    assert [p.plan_id for p in await memory.list_plans(tenant_id=T, user_id=U)] == ["root"]
    assert await memory.list_plans(tenant_id=T, user_id=U, parent_plan_id="root") == []
    assert [
        p.plan_id for p in await memory.list_plans(tenant_id=T, user_id=U, session_id="s1")
    ] == ["root"]
    assert not any(b"kid" in key for key in redis_client.keys("*"))


# -- bad input ----------------------------------------------------------------------------


def _plan_calls(
    memory: MemoryClient, tenant: Any, user: Any
) -> dict[str, Callable[[], Awaitable[Any]]]:
    """Every plan and session method, bound to the given tenant and user."""
    return {
        "create_plan": lambda: memory.create_plan(
            "p1", "g", {}, tenant_id=tenant, user_id=user, session_id="s1", parent_plan_id=None
        ),
        "get_plan": lambda: memory.get_plan("p1", tenant_id=tenant, user_id=user),
        "update_plan_status": lambda: memory.update_plan_status(
            "p1", "completed", tenant_id=tenant, user_id=user
        ),
        "list_plans": lambda: memory.list_plans(tenant_id=tenant, user_id=user),
        "delete_plan": lambda: memory.delete_plan("p1", tenant_id=tenant, user_id=user),
        "create_session": lambda: memory.create_session(
            "s2", tenant_id=tenant, user_id=user, name="n", metadata={}
        ),
        "get_session": lambda: memory.get_session("s1", tenant_id=tenant, user_id=user),
        "list_sessions": lambda: memory.list_sessions(tenant_id=tenant, user_id=user),
        "delete_session": lambda: memory.delete_session("s1", tenant_id=tenant, user_id=user),
    }


@pytest.mark.parametrize(("tenant", "user"), [(None, U), (T, None), ("", U), (T, "  ")])
async def test_missing_scope_refused(
    memory: MemoryClient, redis_client: redis.Redis, tenant: Any, user: Any
) -> None:
    for name, call in _plan_calls(memory, tenant, user).items():
        with pytest.raises(ScopeError):
            await call()
            pytest.fail(f"{name} accepted a missing scope")
    assert redis_client.keys("*") == []


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda m: m.create_plan("", "g", tenant_id=T, user_id=U), InvalidIdentifierError),
        (lambda m: m.create_plan("p", "", tenant_id=T, user_id=U), InvalidIdentifierError),
        (lambda m: m.create_plan("p", None, tenant_id=T, user_id=U), InvalidIdentifierError),
        (
            lambda m: m.create_plan("p", "g", session_id="", tenant_id=T, user_id=U),
            InvalidIdentifierError,
        ),
        (
            lambda m: m.create_plan("p", "g", parent_plan_id="", tenant_id=T, user_id=U),
            InvalidIdentifierError,
        ),
        (
            lambda m: m.create_plan("p", "g", ["not", "dict"], tenant_id=T, user_id=U),
            SoormaValidationError,
        ),
        (
            lambda m: m.create_plan("p", "g", {"x": {1, 2}}, tenant_id=T, user_id=U),
            SerializationError,
        ),
        (
            lambda m: m.create_plan("p", "g", {"x": "y" * 2000}, tenant_id=T, user_id=U),
            ValueTooLargeError,
        ),
        (lambda m: m.create_session("", tenant_id=T, user_id=U), InvalidIdentifierError),
        (lambda m: m.create_session("s", name=5, tenant_id=T, user_id=U), SoormaValidationError),
        (
            lambda m: m.create_session("s", metadata={"n": float("inf")}, tenant_id=T, user_id=U),
            SerializationError,
        ),
        (
            lambda m: m.create_session("s", metadata={"x": "y" * 2000}, tenant_id=T, user_id=U),
            ValueTooLargeError,
        ),
        (lambda m: m.get_plan("", tenant_id=T, user_id=U), InvalidIdentifierError),
        (lambda m: m.get_session("", tenant_id=T, user_id=U), InvalidIdentifierError),
        (lambda m: m.list_plans(tenant_id=T, user_id=U, session_id=""), InvalidIdentifierError),
        (lambda m: m.list_plans(tenant_id=T, user_id=U, status="nope"), SoormaValidationError),
    ],
)
async def test_bad_input_refused(
    redis_url: str, redis_client: redis.Redis, call: Any, error: type[Exception]
) -> None:
    async with MemoryClient.from_url(redis_url, max_value_bytes=1000) as memory:
        with pytest.raises(error):
            await call(memory)
    assert redis_client.keys("*") == []


async def test_session_record_is_size_limited(redis_url: str, redis_client: redis.Redis) -> None:
    async with MemoryClient.from_url(redis_url, max_value_bytes=1000) as memory:
        with pytest.raises(ValueTooLargeError):
            await memory.create_session("s", name="x" * 2000, tenant_id=T, user_id=U)
        with pytest.raises(SerializationError):
            await memory.create_session("s", name="\ud800", tenant_id=T, user_id=U)
    assert redis_client.keys("*") == []


@pytest.mark.parametrize(
    "damage",
    [
        {"record": b"\xff\xfe"},
        {"record": b"NaN"},
        {"record": b'{"plan_id": 5}'},
        {"record": b"[]"},
        {"status": b"sleeping"},
    ],
    ids=["not-utf8", "nan", "wrong-record", "not-an-object", "unknown-status"],
)
async def test_records_changed_outside_raise_corrupted_data(
    memory: MemoryClient, redis_client: redis.Redis, damage: dict[str, bytes]
) -> None:
    await memory.create_plan("p1", "goal", {}, tenant_id=T, user_id=U, session_id="s1")
    key = next(k for k in redis_client.keys("*plan:p1") if not k.endswith(b"children"))
    redis_client.hset(key, mapping=damage)
    before = _dump(redis_client)
    for call in (
        memory.get_plan("p1", tenant_id=T, user_id=U),
        memory.list_plans(tenant_id=T, user_id=U),
        memory.update_plan_status("p1", "paused", tenant_id=T, user_id=U),
        memory.delete_plan("p1", tenant_id=T, user_id=U),
    ):
        with pytest.raises(CorruptedDataError) as caught:
            await call
        assert caught.value.key == key.decode()
    assert _dump(redis_client) == before


async def test_missing_record_field_is_corrupted_data(
    memory: MemoryClient, redis_client: redis.Redis
) -> None:
    await memory.create_session("s1", tenant_id=T, user_id=U)
    (key,) = redis_client.keys("*session:s1")
    redis_client.hdel(key, "last_interaction")
    with pytest.raises(CorruptedDataError):
        await memory.get_session("s1", tenant_id=T, user_id=U)
    with pytest.raises(CorruptedDataError):
        await memory.list_sessions(tenant_id=T, user_id=U)


# -- isolation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tenant", "user"), [("tenant-b", U), (T, "user-2")], ids=["other-tenant", "other-user"]
)
async def test_every_method_isolated(
    memory: MemoryClient, redis_client: redis.Redis, tenant: str, user: str
) -> None:
    await memory.create_session("s1", name="mine", tenant_id=T, user_id=U)
    await memory.create_plan(
        "p1", "g", {"mine": True}, tenant_id=T, user_id=U, session_id="s1", parent_plan_id=None
    )
    await memory.create_plan(
        "p2", "g", None, tenant_id=T, user_id=U, session_id=None, parent_plan_id="p1"
    )
    await memory.set_plan_state("p1", "k", "mine", tenant_id=T, user_id=U)
    owner_view = (
        await memory.list_plans(tenant_id=T, user_id=U, limit=None),
        await memory.list_sessions(tenant_id=T, user_id=U),
        await memory.get_all_plan_state("p1", tenant_id=T, user_id=U),
    )

    assert await memory.get_plan("p1", tenant_id=tenant, user_id=user) is None
    assert await memory.get_session("s1", tenant_id=tenant, user_id=user) is None
    assert await memory.list_plans(tenant_id=tenant, user_id=user) == []
    assert await memory.list_plans(tenant_id=tenant, user_id=user, session_id="s1") == []
    assert await memory.list_plans(tenant_id=tenant, user_id=user, parent_plan_id="p1") == []
    assert await memory.list_sessions(tenant_id=tenant, user_id=user) == []
    with pytest.raises(PlanNotFoundError):
        await memory.update_plan_status("p1", "failed", tenant_id=tenant, user_id=user)
    assert await memory.delete_plan("p1", tenant_id=tenant, user_id=user) is False
    assert await memory.delete_session("s1", tenant_id=tenant, user_id=user) is False
    if tenant == T:  # same tenant: ids are taken, other tenants may reuse them
        with pytest.raises(DuplicatePlanError):
            await memory.create_plan("p1", "g", tenant_id=tenant, user_id=user)
        with pytest.raises(DuplicateSessionError):
            await memory.create_session("s1", tenant_id=tenant, user_id=user)
    else:
        await memory.create_plan(
            "p1",
            "g",
            {"theirs": 1},
            tenant_id=tenant,
            user_id=user,
            session_id="s1",
            parent_plan_id=None,
        )
        await memory.update_plan_status("p1", "failed", tenant_id=tenant, user_id=user)
        assert await memory.delete_plan("p1", tenant_id=tenant, user_id=user) is True

    assert owner_view == (
        await memory.list_plans(tenant_id=T, user_id=U, limit=None),
        await memory.list_sessions(tenant_id=T, user_id=U),
        await memory.get_all_plan_state("p1", tenant_id=T, user_id=U),
    )
