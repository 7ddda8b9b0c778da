"""Hostile inputs against working memory, WorkflowState, plans and sessions (issue 15).

Every public entry point of ``MemoryClient``'s Redis side, ``WorkingMemory``, ``PlanStore`` and
``WorkflowState`` is driven by hypothesis with mostly hostile arguments against a Redis seeded
with plans, sessions and working-memory fields, some of them written from outside as non-JSON
bytes. Each call must succeed or raise a ``SoormaError`` within the hang guard, and leave Redis
exactly as it was when it fails (see ``hostile_helpers``).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
import redis.asyncio
from hypothesis import given
from hypothesis import strategies as st

from soorma_lc.backends.redis_clients import sync_client
from soorma_lc.memory.client import MemoryClient
from soorma_lc.memory.plans import Plan, PlanStore
from soorma_lc.memory.workflow_state import WorkflowState
from soorma_lc.memory.working import WorkingMemory
from tests.hostile_helpers import (
    JSON,
    EntryPoint,
    Slot,
    anything,
    counts,
    entry,
    hostile_settings,
    ids,
    mappings,
    optional,
    probe_entry_point,
    redis_state,
    sequences,
    valid,
)

PLANS = ("p1", "p2", "p-bad", "p-new")
KEYS = ("count", "list", "dict", "text", "bad-bytes", "bad-nan", "bad-list", "bad-deep", "new")
TENANTS = ("t1", "t2")
USERS = ("u1", "u2")
SESSIONS = ("s1", "s2", "s-new")
STATUSES = Slot(st.sampled_from(["running", "paused", "completed", "failed"]), anything)
CORRUPTED = {
    "bad-bytes": b"\xff\xfe",
    "bad-nan": b"NaN",
    "bad-list": b'["\xff"]',
    "bad-deep": b"[" * 3000 + b"]" * 3000,
}


@dataclass
class World:
    memory: MemoryClient
    redis: redis.Redis
    loop: asyncio.AbstractEventLoop

    def client(self, choice: Any) -> Any:
        """The real clients for the markers a constructor slot draws; anything else as is."""
        if choice == "<async>":
            return self.memory.working.client
        return self.redis if choice == "<sync>" else choice


async def _seed(memory: MemoryClient, raw: redis.Redis) -> None:
    scope = {"tenant_id": "t1", "user_id": "u1"}
    await memory.create_plan("p1", "goal.received", {"topic": "x"}, session_id="s1", **scope)
    await memory.create_plan("p2", "goal.received", {}, parent_plan_id="p1", **scope)
    await memory.update_plan_status("p2", "completed", **scope)
    await memory.create_session("s2", name="second", metadata={"a": 1}, **scope)
    await memory.create_plan("p-bad", "goal.received", {}, **scope)
    for key, value in {"count": 5, "list": [1, "a"], "dict": {"a": 1}, "text": "hi"}.items():
        await memory.set_plan_state("p1", key, value, **scope)
    raw.hset(memory.working.plan_key("p1", **scope), mapping=CORRUPTED)
    (bad_plan,) = raw.keys("*:plan:p-bad")
    raw.hset(bad_plan, "record", b"\xff not json")


@pytest.fixture
def world(redis_url: str, loop: asyncio.AbstractEventLoop) -> Iterator[World]:
    raw = sync_client(redis_url)
    memory = MemoryClient(redis.asyncio.Redis.from_url(redis_url), owns_client=True)
    loop.run_until_complete(_seed(memory, raw))
    yield World(memory, raw, loop)
    loop.run_until_complete(memory.aclose())
    raw.close()


def scope(tenant: Any, user: Any) -> dict[str, Any]:
    return {"tenant_id": tenant, "user_id": user}


SCOPE = {"tenant": ids(*TENANTS), "user": ids(*USERS)}
STATE = {"plan": ids(*PLANS), **SCOPE}


def _state(w: World, plan: Any, tenant: Any, user: Any) -> WorkflowState:
    return WorkflowState(w.memory, plan, tenant_id=tenant, user_id=user)


def _plan_record(choice: Any) -> Any:
    if choice == "<plan>":
        return Plan.model_validate(
            {
                "plan_id": "p1",
                "tenant_id": "t1",
                "user_id": "u1",
                "goal_event": "goal.received",
                "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z",
            }
        )
    return choice


ENTRY_POINTS: list[EntryPoint] = [
    entry(
        "MemoryClient()",
        lambda w, client, limit: MemoryClient(w.client(client), max_value_bytes=limit),
        client=Slot(st.just("<async>"), st.one_of(st.just("<sync>"), anything)),
        limit=counts(1, 1024),
    ),
    entry(
        "WorkingMemory.plan_tag",
        lambda w, plan, tenant: WorkingMemory.plan_tag(plan, tenant_id=tenant),
        plan=ids(*PLANS),
        tenant=ids(*TENANTS),
    ),
    entry(
        "WorkingMemory.plan_key",
        lambda w, plan, tenant, user: w.memory.working.plan_key(plan, **scope(tenant, user)),
        **STATE,
    ),
    entry(
        "WorkingMemory.set_plan_state",
        lambda w, plan, key, value, tenant, user: w.memory.set_plan_state(
            plan, key, value, **scope(tenant, user)
        ),
        key=ids(*KEYS),
        value=JSON,
        **STATE,
    ),
    entry(
        "WorkingMemory.get_plan_state",
        lambda w, plan, key, tenant, user: w.memory.get_plan_state(
            plan, key, **scope(tenant, user)
        ),
        key=ids(*KEYS),
        **STATE,
    ),
    entry(
        "WorkingMemory.get_all_plan_state",
        lambda w, plan, tenant, user: w.memory.get_all_plan_state(plan, **scope(tenant, user)),
        **STATE,
    ),
    entry(
        "WorkingMemory.delete_plan_state",
        lambda w, plan, key, tenant, user: w.memory.delete_plan_state(
            plan, key, **scope(tenant, user)
        ),
        key=ids(*KEYS),
        **STATE,
    ),
    entry(
        "WorkingMemory.cleanup_plan",
        lambda w, plan, tenant, user: w.memory.cleanup_plan(plan, **scope(tenant, user)),
        plan=ids("p2", "p-new"),  # keep p1's seeded fields for the other probes
        **SCOPE,
    ),
    entry(
        "WorkingMemory.increment_plan_state",
        lambda w, plan, key, delta, tenant, user: w.memory.increment_plan_state(
            plan, key, delta, **scope(tenant, user)
        ),
        key=ids(*KEYS),
        delta=counts(1, -3, 2**62),
        **STATE,
    ),
    entry(
        "WorkingMemory.extend_plan_state",
        lambda w, plan, key, items, tenant, user, returned: w.memory.extend_plan_state(
            plan, key, items, **scope(tenant, user), return_value=returned
        ),
        key=ids(*KEYS),
        items=sequences(JSON),
        returned=Slot(st.booleans(), anything),
        **STATE,
    ),
    entry(
        "WorkingMemory.merge_plan_state",
        lambda w, plan, key, updates, tenant, user: w.memory.merge_plan_state(
            plan, key, updates, **scope(tenant, user)
        ),
        key=ids(*KEYS),
        updates=mappings(JSON),
        **STATE,
    ),
    entry(
        "WorkflowState()",
        lambda w, memory, plan, tenant, user: WorkflowState(
            w.memory if memory == "<memory>" else memory, plan, **scope(tenant, user)
        ),
        memory=Slot(st.just("<memory>"), anything),
        **STATE,
    ),
    entry(
        "WorkflowState.set",
        lambda w, plan, tenant, user, key, value: _state(w, plan, tenant, user).set(key, value),
        key=ids(*KEYS),
        value=JSON,
        **STATE,
    ),
    entry(
        "WorkflowState.get",
        lambda w, plan, tenant, user, key, default: _state(w, plan, tenant, user).get(key, default),
        key=ids(*KEYS),
        default=valid(anything),
        **STATE,
    ),
    entry(
        "WorkflowState.has",
        lambda w, plan, tenant, user, key: _state(w, plan, tenant, user).has(key),
        key=ids(*KEYS),
        **STATE,
    ),
    entry(
        "WorkflowState.delete",
        lambda w, plan, tenant, user, key: _state(w, plan, tenant, user).delete(key),
        key=ids("new", "text"),
        **STATE,
    ),
    entry(
        "WorkflowState.cleanup",
        lambda w, plan, tenant, user: _state(w, plan, tenant, user).cleanup(),
        plan=ids("p2", "p-new"),
        **SCOPE,
    ),
    entry(
        "WorkflowState.increment",
        lambda w, plan, tenant, user, key, delta: _state(w, plan, tenant, user).increment(
            key, delta
        ),
        key=ids(*KEYS),
        delta=counts(1, 7),
        **STATE,
    ),
    entry(
        "WorkflowState.append",
        lambda w, plan, tenant, user, key, item: _state(w, plan, tenant, user).append(key, item),
        key=ids(*KEYS),
        item=JSON,
        **STATE,
    ),
    entry(
        "WorkflowState.extend",
        lambda w, plan, tenant, user, key, items: _state(w, plan, tenant, user).extend(key, items),
        key=ids(*KEYS),
        items=sequences(JSON),
        **STATE,
    ),
    entry(
        "WorkflowState.update_dict",
        lambda w, plan, tenant, user, key, updates: _state(w, plan, tenant, user).update_dict(
            key, updates
        ),
        key=ids(*KEYS),
        updates=mappings(JSON),
        **STATE,
    ),
    entry(
        "WorkflowState.record_action",
        lambda w, plan, tenant, user, event: _state(w, plan, tenant, user).record_action(event),
        event=ids("research.requested", "draft.completed"),
        **STATE,
    ),
    entry(
        "WorkflowState.get_action_history",
        lambda w, plan, tenant, user: _state(w, plan, tenant, user).get_action_history(),
        **STATE,
    ),
    entry(
        "PlanStore.create_plan",
        lambda w, plan, goal, data, tenant, user, session, parent: w.memory.create_plan(
            plan, goal, data, **scope(tenant, user), session_id=session, parent_plan_id=parent
        ),
        plan=optional(ids(*PLANS)),
        goal=ids("goal.received"),
        data=optional(mappings(JSON)),
        session=optional(ids(*SESSIONS)),
        parent=optional(ids(*PLANS)),
        **SCOPE,
    ),
    entry(
        "PlanStore.get_plan",
        lambda w, plan, tenant, user: w.memory.get_plan(plan, **scope(tenant, user)),
        **STATE,
    ),
    entry(
        "PlanStore.update_plan_status",
        lambda w, plan, status, tenant, user: w.memory.update_plan_status(
            plan, status, **scope(tenant, user)
        ),
        status=STATUSES,
        **STATE,
    ),
    entry(
        "PlanStore.list_plans",
        lambda w, tenant, user, session, status, parent, limit: w.memory.list_plans(
            **scope(tenant, user),
            session_id=session,
            status=status,
            parent_plan_id=parent,
            limit=limit,
        ),
        session=optional(ids(*SESSIONS)),
        status=optional(STATUSES),
        parent=optional(ids(*PLANS)),
        limit=optional(counts(1, 20)),
        **SCOPE,
    ),
    entry(
        "PlanStore.create_session",
        lambda w, session, tenant, user, name, metadata: w.memory.create_session(
            session, **scope(tenant, user), name=name, metadata=metadata
        ),
        session=optional(ids(*SESSIONS)),
        name=Slot(st.one_of(st.none(), st.text(max_size=10)), anything),
        metadata=optional(mappings(JSON)),
        **SCOPE,
    ),
    entry(
        "PlanStore.get_session",
        lambda w, session, tenant, user: w.memory.get_session(session, **scope(tenant, user)),
        session=ids(*SESSIONS),
        **SCOPE,
    ),
    entry(
        "PlanStore.list_sessions",
        lambda w, tenant, user, limit: w.memory.list_sessions(**scope(tenant, user), limit=limit),
        limit=optional(counts(1, 20)),
        **SCOPE,
    ),
    entry(
        "PlanStore.delete_session",
        lambda w, session, tenant, user: w.memory.delete_session(session, **scope(tenant, user)),
        session=ids("s2", "s-new"),
        **SCOPE,
    ),
    entry(
        "MemoryClient.delete_plan",
        lambda w, plan, tenant, user: w.memory.delete_plan(plan, **scope(tenant, user)),
        plan=ids("p2", "p-bad", "p-new"),
        **SCOPE,
    ),
    entry(
        "PlanStore.delete_plan",
        lambda w, plan, tenant, user: w.memory.plans.delete_plan(plan, **scope(tenant, user)),
        plan=ids("p2", "p-bad", "p-new"),
        **SCOPE,
    ),
    entry(
        "PlanStore.delete_plan_record",
        lambda w, plan: w.memory.plans.delete_plan_record(_plan_record(plan)),
        plan=Slot(st.just("<plan>"), anything),
    ),
]


@hostile_settings(25)
@pytest.mark.parametrize("entry_point", ENTRY_POINTS, ids=str)
@given(data=st.data())
def test_hostile_arguments(world: World, entry_point: EntryPoint, data: st.DataObject) -> None:
    probe_entry_point(entry_point, world, data, lambda: redis_state(world.redis), world.loop)


def test_every_public_entry_point_is_probed() -> None:
    probed = {e.name for e in ENTRY_POINTS}
    for cls, methods in (
        (WorkingMemory, vars(WorkingMemory)),
        (PlanStore, vars(PlanStore)),
        (WorkflowState, vars(WorkflowState)),
    ):
        for name, member in methods.items():
            if name.startswith("_") or not inspect.isfunction(inspect.unwrap(member)):
                continue
            assert f"{cls.__name__}.{name}" in probed, f"{cls.__name__}.{name} is not probed"
    assert {"MemoryClient()", "WorkflowState()", "MemoryClient.delete_plan"} <= probed
