"""MemoryClient working memory on real Redis: values, atomic updates, bad input, isolation."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis

from soorma_lc.config import Settings
from soorma_lc.errors import (
    BackendUnavailableError,
    ConfigurationError,
    CorruptedDataError,
    InvalidIdentifierError,
    PlanStateTypeError,
    ScopeError,
    SerializationError,
    SoormaValidationError,
    ValueTooLargeError,
)
from soorma_lc.memory.client import MemoryClient
from soorma_lc.memory.workflow_state import WorkflowState

T, U, P = "tenant-a", "user-1", "plan-1"


def _dump(client: redis.Redis) -> dict[bytes, Any]:
    """Every key in Redis with its hash contents: proof that nothing changed."""
    return {key: client.hgetall(key) for key in sorted(client.keys("*"))}


JSON_VALUES: list[Any] = [
    None,
    True,
    0,
    -(2**63),
    2**70,
    0.1,
    1e308,
    "",
    "ünïcødé ✓ \u2028",
    [],
    {},
    [1, [2, [3, {"a": None}]]],
    {"nested": {"list": [1.5, "x", False]}, "empty": []},
]


@pytest.mark.parametrize("value", JSON_VALUES, ids=repr)
async def test_values_round_trip_exactly(memory: MemoryClient, value: Any) -> None:
    await memory.set_plan_state(P, "k", value, tenant_id=T, user_id=U)
    assert await memory.get_plan_state(P, "k", tenant_id=T, user_id=U) == value


async def test_tuples_are_stored_as_lists(memory: MemoryClient) -> None:
    await memory.set_plan_state(P, "k", (1, (2, 3)), tenant_id=T, user_id=U)
    assert await memory.get_plan_state(P, "k", tenant_id=T, user_id=U) == [1, [2, 3]]


async def test_get_missing_key_and_plan_return_none(memory: MemoryClient) -> None:
    assert await memory.get_plan_state(P, "missing", tenant_id=T, user_id=U) is None
    assert await memory.get_all_plan_state("no-such-plan", tenant_id=T, user_id=U) == {}


async def test_set_overwrites_and_get_all_snapshots(memory: MemoryClient) -> None:
    await memory.set_plan_state(P, "a", 1, tenant_id=T, user_id=U)
    await memory.set_plan_state(P, "a", {"v": 2}, tenant_id=T, user_id=U)
    await memory.set_plan_state(P, "b", [3], tenant_id=T, user_id=U)
    assert await memory.get_all_plan_state(P, tenant_id=T, user_id=U) == {"a": {"v": 2}, "b": [3]}


async def test_delete_plan_state_and_cleanup(memory: MemoryClient) -> None:
    for key in ("a", "b", "c"):
        await memory.set_plan_state(P, key, key, tenant_id=T, user_id=U)
    await memory.set_plan_state("other-plan", "a", "kept", tenant_id=T, user_id=U)
    assert await memory.delete_plan_state(P, "a", tenant_id=T, user_id=U) is True
    assert await memory.delete_plan_state(P, "a", tenant_id=T, user_id=U) is False
    assert await memory.cleanup_plan(P, tenant_id=T, user_id=U) == 2
    assert await memory.get_all_plan_state(P, tenant_id=T, user_id=U) == {}
    assert await memory.cleanup_plan(P, tenant_id=T, user_id=U) == 0
    assert await memory.get_plan_state("other-plan", "a", tenant_id=T, user_id=U) == "kept"


async def test_increment(memory: MemoryClient) -> None:
    assert await memory.increment_plan_state(P, "n", 1, tenant_id=T, user_id=U) == 1
    assert await memory.increment_plan_state(P, "n", 41, tenant_id=T, user_id=U) == 42
    assert await memory.increment_plan_state(P, "n", -50, tenant_id=T, user_id=U) == -8
    assert await memory.get_plan_state(P, "n", tenant_id=T, user_id=U) == -8
    await memory.set_plan_state(P, "m", 10, tenant_id=T, user_id=U)
    assert await memory.increment_plan_state(P, "m", 5, tenant_id=T, user_id=U) == 15


async def test_extend_and_merge(memory: MemoryClient) -> None:
    assert await memory.extend_plan_state(P, "l", [], tenant_id=T, user_id=U) == []
    assert await memory.extend_plan_state(P, "l", [1], tenant_id=T, user_id=U) == [1]
    assert await memory.extend_plan_state(P, "l", [{"a": [2]}, "x"], tenant_id=T, user_id=U) == [
        1,
        {"a": [2]},
        "x",
    ]
    assert await memory.extend_plan_state(P, "l", [], tenant_id=T, user_id=U) == [
        1,
        {"a": [2]},
        "x",
    ]
    assert (
        await memory.extend_plan_state(P, "l", [None], tenant_id=T, user_id=U, return_value=False)
        is None
    )
    assert await memory.get_plan_state(P, "l", tenant_id=T, user_id=U) == [1, {"a": [2]}, "x", None]
    assert await memory.merge_plan_state(P, "d", {"a": 1}, tenant_id=T, user_id=U) == {"a": 1}
    assert await memory.merge_plan_state(P, "d", {"a": 2, "b": [1]}, tenant_id=T, user_id=U) == {
        "a": 2,
        "b": [1],
    }
    assert await memory.get_plan_state(P, "d", tenant_id=T, user_id=U) == {"a": 2, "b": [1]}


async def test_concurrent_merges_lose_nothing(memory: MemoryClient, redis_url: str) -> None:
    clients = [MemoryClient.from_url(redis_url) for _ in range(4)]
    try:
        await asyncio.gather(
            *(
                client.merge_plan_state(P, "d", {f"c{i}-{n}": n}, tenant_id=T, user_id=U)
                for i, client in enumerate(clients)
                for n in range(25)
            )
        )
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    merged = await memory.get_plan_state(P, "d", tenant_id=T, user_id=U)
    assert merged == {f"c{i}-{n}": n for i in range(4) for n in range(25)}


# -- wrong types: typed error, value untouched ------------------------------------------


@pytest.mark.parametrize("stored", ["text", 1.5, [1], {"a": 1}, True, None, 2**70])
async def test_increment_on_non_integer_refused(
    memory: MemoryClient, redis_client: redis.Redis, stored: Any
) -> None:
    await memory.set_plan_state(P, "k", stored, tenant_id=T, user_id=U)
    before = _dump(redis_client)
    with pytest.raises(PlanStateTypeError):
        await memory.increment_plan_state(P, "k", 1, tenant_id=T, user_id=U)
    assert _dump(redis_client) == before


async def test_increment_overflow_refused(memory: MemoryClient, redis_client: redis.Redis) -> None:
    await memory.set_plan_state(P, "k", 2**63 - 1, tenant_id=T, user_id=U)
    with pytest.raises(PlanStateTypeError):
        await memory.increment_plan_state(P, "k", 1, tenant_id=T, user_id=U)
    assert await memory.get_plan_state(P, "k", tenant_id=T, user_id=U) == 2**63 - 1


@pytest.mark.parametrize("delta", [1.5, "1", True, None])
async def test_increment_delta_must_be_int(memory: MemoryClient, delta: Any) -> None:
    with pytest.raises(SoormaValidationError):
        await memory.increment_plan_state(P, "k", delta, tenant_id=T, user_id=U)
    assert await memory.get_plan_state(P, "k", tenant_id=T, user_id=U) is None


@pytest.mark.parametrize("stored", ["[not a list", 7, {"a": [1]}, None, False])
async def test_extend_on_non_list_refused(
    memory: MemoryClient, redis_client: redis.Redis, stored: Any
) -> None:
    await memory.set_plan_state(P, "k", stored, tenant_id=T, user_id=U)
    before = _dump(redis_client)
    with pytest.raises(PlanStateTypeError):
        await memory.extend_plan_state(P, "k", [1], tenant_id=T, user_id=U)
    assert _dump(redis_client) == before


@pytest.mark.parametrize("stored", [[1], "x", 3, None])
async def test_merge_on_non_dict_refused(
    memory: MemoryClient, redis_client: redis.Redis, stored: Any
) -> None:
    await memory.set_plan_state(P, "k", stored, tenant_id=T, user_id=U)
    before = _dump(redis_client)
    with pytest.raises(PlanStateTypeError):
        await memory.merge_plan_state(P, "k", {"a": 1}, tenant_id=T, user_id=U)
    assert _dump(redis_client) == before


async def test_extend_and_merge_argument_types(memory: MemoryClient) -> None:
    with pytest.raises(SoormaValidationError):
        await memory.extend_plan_state(P, "k", "abc", tenant_id=T, user_id=U)  # type: ignore[arg-type]
    with pytest.raises(SoormaValidationError):
        await memory.merge_plan_state(P, "k", [("a", 1)], tenant_id=T, user_id=U)  # type: ignore[arg-type]
    assert await memory.get_all_plan_state(P, tenant_id=T, user_id=U) == {}


# -- bad input: typed errors, nothing written ---------------------------------------------


class _Opaque:
    pass


NON_JSON: dict[str, Any] = {
    "set": {1, 2},
    "bytes": b"bytes",
    "decimal": Decimal("1.5"),
    "object": _Opaque(),
    "nan": math.nan,
    "inf": math.inf,
    "int-key": {1: "int key"},
    "deep-none-key": {"ok": [1, {"deep": {None: 1}}]},
    "lone-surrogate": ["\ud800"],
    "function": print,
}


@pytest.mark.parametrize("value", NON_JSON.values(), ids=NON_JSON.keys())
async def test_non_json_values_refused_everywhere(
    memory: MemoryClient, redis_client: redis.Redis, value: Any
) -> None:
    await memory.set_plan_state(P, "k", "original", tenant_id=T, user_id=U)
    await memory.set_plan_state(P, "l", [0], tenant_id=T, user_id=U)
    before = _dump(redis_client)
    with pytest.raises(SerializationError):
        await memory.set_plan_state(P, "k", value, tenant_id=T, user_id=U)
    with pytest.raises(SerializationError):
        await memory.extend_plan_state(P, "l", [value], tenant_id=T, user_id=U)
    with pytest.raises(SerializationError):
        await memory.merge_plan_state(P, "d", {"x": value}, tenant_id=T, user_id=U)
    assert _dump(redis_client) == before


async def test_self_referencing_value_refused(memory: MemoryClient) -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(SerializationError):
        await memory.set_plan_state(P, "k", loop, tenant_id=T, user_id=U)
    assert await memory.get_plan_state(P, "k", tenant_id=T, user_id=U) is None


async def test_size_limit_is_configurable_and_enforced(
    redis_url: str, redis_client: redis.Redis
) -> None:
    async with MemoryClient.from_url(redis_url, max_value_bytes=64) as small:
        await small.set_plan_state(
            P, "k", "x" * 62, tenant_id=T, user_id=U
        )  # 64 bytes with the quotes
        await small.set_plan_state(P, "l", ["y" * 20], tenant_id=T, user_id=U)
        await small.merge_plan_state(P, "d", {"a": "z" * 40}, tenant_id=T, user_id=U)
        before = _dump(redis_client)
        with pytest.raises(ValueTooLargeError) as info:
            await small.set_plan_state(P, "k", "x" * 63, tenant_id=T, user_id=U)
        assert (info.value.size, info.value.limit) == (65, 64)
        with pytest.raises(ValueTooLargeError):  # the list would grow past the limit
            await small.extend_plan_state(P, "l", ["y" * 20, "y" * 20], tenant_id=T, user_id=U)
        with pytest.raises(ValueTooLargeError):
            await small.merge_plan_state(P, "d", {"b": "z" * 20}, tenant_id=T, user_id=U)
        with pytest.raises(ValueTooLargeError):  # multi-byte characters count as bytes
            await small.set_plan_state(P, "k", "é" * 32, tenant_id=T, user_id=U)
        assert _dump(redis_client) == before


@pytest.mark.parametrize("limit", [0, -5, "1000", 1.5, True])
def test_size_limit_must_be_a_positive_int(redis_url: str, limit: Any) -> None:
    with pytest.raises(SoormaValidationError):
        MemoryClient.from_url(redis_url, max_value_bytes=limit)


def test_a_sync_redis_client_is_refused(redis_client: redis.Redis) -> None:
    with pytest.raises(ConfigurationError, match=r"redis\.asyncio"):
        MemoryClient(redis_client)  # type: ignore[arg-type]


KEYLESS_CALLS = {"get_all", "cleanup"}


def _working_calls(
    memory: MemoryClient, plan: Any, key: Any, tenant: Any, user: Any
) -> dict[str, Callable[[], Awaitable[Any]]]:
    """Every working-memory method, each bound to the given ids."""
    return {
        "set": lambda: memory.set_plan_state(plan, key, 1, tenant_id=tenant, user_id=user),
        "get": lambda: memory.get_plan_state(plan, key, tenant_id=tenant, user_id=user),
        "get_all": lambda: memory.get_all_plan_state(plan, tenant_id=tenant, user_id=user),
        "delete": lambda: memory.delete_plan_state(plan, key, tenant_id=tenant, user_id=user),
        "cleanup": lambda: memory.cleanup_plan(plan, tenant_id=tenant, user_id=user),
        "increment": lambda: memory.increment_plan_state(
            plan, key, 1, tenant_id=tenant, user_id=user
        ),
        "extend": lambda: memory.extend_plan_state(plan, key, [1], tenant_id=tenant, user_id=user),
        "merge": lambda: memory.merge_plan_state(
            plan, key, {"a": 1}, tenant_id=tenant, user_id=user
        ),
    }


@pytest.mark.parametrize(
    ("tenant", "user"),
    [
        (None, U),
        (T, None),
        ("", U),
        (T, ""),
        ("   ", U),
        (7, U),
        (T, ["u"]),
        ("t\x00", U),
        (T, "\udfff"),
        ("t" * 513, U),
    ],
)
async def test_missing_scope_refused(
    memory: MemoryClient, redis_client: redis.Redis, tenant: Any, user: Any
) -> None:
    for name, call in _working_calls(memory, P, "k", tenant, user).items():
        with pytest.raises(ScopeError):
            await call()
            pytest.fail(f"{name} accepted a missing scope")
    assert redis_client.keys("*") == []


async def test_scope_has_no_default(memory: MemoryClient, redis_client: redis.Redis) -> None:
    with pytest.raises(TypeError, match="tenant_id"):
        await memory.set_plan_state(P, "k", 1)  # type: ignore[call-arg]
    assert redis_client.keys("*") == []


@pytest.mark.parametrize(
    ("plan", "key"),
    [
        ("", "k"),
        (None, "k"),
        ("p" * 513, "k"),
        (P, ""),
        (P, 3),
        (P, None),
        ("p\x00", "k"),
        (P, "k\n"),
        (P, "\ud800"),
        ("\u200b", "k"),
        (P, b"k"),
    ],
)
async def test_bad_ids_refused(
    memory: MemoryClient, redis_client: redis.Redis, plan: Any, key: Any
) -> None:
    for name, call in _working_calls(memory, plan, key, T, U).items():
        if plan == P and name in KEYLESS_CALLS:
            continue  # the plan id is fine and these take no key
        with pytest.raises(InvalidIdentifierError):
            await call()
            pytest.fail(f"{name} accepted plan {plan!r} key {key!r}")
    assert redis_client.keys("*") == []


# -- values changed outside soorma-lc: a typed error, nothing lost ------------------------

CORRUPTED = [
    b"\xff\xfe",
    b"NaN",
    b"[1e999]",
    b'["\xff"]',
    b'["\\ud800"]',
    b"[" * 5000 + b"]" * 5000,
]


@pytest.mark.parametrize(
    "stored", CORRUPTED, ids=["bytes", "nan", "inf", "bad-utf8", "surrogate", "deep"]
)
async def test_values_changed_outside_raise_corrupted_data(
    memory: MemoryClient, redis_client: redis.Redis, stored: bytes
) -> None:
    name = memory.working.plan_key(P, tenant_id=T, user_id=U)
    redis_client.hset(name, mapping={"bad": stored, "good": b"1"})
    before = _dump(redis_client)
    for call in (
        memory.get_plan_state(P, "bad", tenant_id=T, user_id=U),
        memory.get_all_plan_state(P, tenant_id=T, user_id=U),
        memory.merge_plan_state(P, "bad", {"a": 1}, tenant_id=T, user_id=U),
    ):
        with pytest.raises(CorruptedDataError) as caught:
            await call
        assert "bad" in str(caught.value.key)
    with pytest.raises((CorruptedDataError, PlanStateTypeError)):
        await memory.extend_plan_state(P, "bad", [1], tenant_id=T, user_id=U)
    with pytest.raises(PlanStateTypeError):
        await memory.increment_plan_state(P, "bad", 1, tenant_id=T, user_id=U)
    assert _dump(redis_client) == before
    assert await memory.get_plan_state(P, "good", tenant_id=T, user_id=U) == 1
    assert await memory.delete_plan_state(P, "bad", tenant_id=T, user_id=U)


async def test_a_non_utf8_field_name_is_corrupted_data(
    memory: MemoryClient, redis_client: redis.Redis
) -> None:
    name = memory.working.plan_key(P, tenant_id=T, user_id=U)
    redis_client.hset(name, b"\xff", b"1")
    with pytest.raises(CorruptedDataError):
        await memory.get_all_plan_state(P, tenant_id=T, user_id=U)


async def test_action_history_overwritten_with_a_non_list(
    memory: MemoryClient, redis_client: redis.Redis
) -> None:
    state = WorkflowState(memory, P, tenant_id=T, user_id=U)
    await state.set("_action_history", {"not": "a list"})
    with pytest.raises(PlanStateTypeError):
        await state.get_action_history()


def test_workflow_state_needs_a_memory_client() -> None:
    with pytest.raises(ConfigurationError):
        WorkflowState("memory", P, tenant_id=T, user_id=U)  # type: ignore[arg-type]


# -- isolation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tenant", "user"), [("tenant-b", U), (T, "user-2")], ids=["other-tenant", "other-user"]
)
async def test_working_memory_isolated_by_tenant_and_user(
    memory: MemoryClient, redis_client: redis.Redis, tenant: str, user: str
) -> None:
    await memory.set_plan_state(P, "k", {"owner": "a"}, tenant_id=T, user_id=U)
    await memory.set_plan_state(P, "n", 5, tenant_id=T, user_id=U)
    await memory.set_plan_state(P, "l", ["a"], tenant_id=T, user_id=U)
    await memory.set_plan_state(P, "d", {"a": 1}, tenant_id=T, user_id=U)
    owner_view = await memory.get_all_plan_state(P, tenant_id=T, user_id=U)

    assert await memory.get_plan_state(P, "k", tenant_id=tenant, user_id=user) is None
    assert await memory.get_all_plan_state(P, tenant_id=tenant, user_id=user) == {}
    assert await memory.delete_plan_state(P, "k", tenant_id=tenant, user_id=user) is False
    assert await memory.cleanup_plan(P, tenant_id=tenant, user_id=user) == 0
    assert await memory.increment_plan_state(P, "n", 1, tenant_id=tenant, user_id=user) == 1
    assert await memory.extend_plan_state(P, "l", ["b"], tenant_id=tenant, user_id=user) == ["b"]
    assert await memory.merge_plan_state(P, "d", {"b": 2}, tenant_id=tenant, user_id=user) == {
        "b": 2
    }
    await memory.set_plan_state(P, "k", "intruder", tenant_id=tenant, user_id=user)

    assert await memory.get_all_plan_state(P, tenant_id=T, user_id=U) == owner_view
    assert await memory.cleanup_plan(P, tenant_id=tenant, user_id=user) == 4
    assert await memory.get_all_plan_state(P, tenant_id=T, user_id=U) == owner_view


async def test_ids_with_separators_do_not_collide(memory: MemoryClient) -> None:
    await memory.set_plan_state("b:c", "k", "one", tenant_id="a", user_id=U)
    await memory.set_plan_state("c", "k", "two", tenant_id="a:b", user_id=U)
    await memory.set_plan_state("c}", "k", "three", tenant_id="{a:b", user_id=U)
    assert await memory.get_plan_state("b:c", "k", tenant_id="a", user_id=U) == "one"
    assert await memory.get_plan_state("c", "k", tenant_id="a:b", user_id=U) == "two"
    assert await memory.get_plan_state("c}", "k", tenant_id="{a:b", user_id=U) == "three"


async def test_keys_of_one_plan_share_a_cluster_hash_tag(
    memory: MemoryClient, redis_client: redis.Redis
) -> None:
    await memory.set_plan_state("p:1", "k", 1, tenant_id="t{1}", user_id=U)
    await memory.set_plan_state("p:1", "k", 1, tenant_id="t{1}", user_id="user-2")
    keys = [k.decode() for k in redis_client.keys("*")]
    tags = {k[k.index("{") + 1 : k.index("}")] for k in keys}
    assert len(keys) == 2
    assert tags == {"t%7B1%7D:p%3A1"}


# -- construction ------------------------------------------------------------------------


async def test_from_settings_uses_configured_redis(
    settings: Settings, redis_client: redis.Redis
) -> None:
    async with MemoryClient.from_settings(settings) as memory:
        await memory.set_plan_state(P, "k", 1, tenant_id=T, user_id=U)
    assert len(redis_client.keys("soorma:wm:*")) == 1


async def test_from_settings_starts_embedded_redis(tmp_path: Path) -> None:
    from soorma_lc.backends.embedded_redis import shutdown_embedded_redis

    data_dir = tmp_path / "soorma"
    try:
        async with MemoryClient.from_settings(Settings(data_dir=data_dir)) as memory:
            await memory.set_plan_state(P, "k", "embedded", tenant_id=T, user_id=U)
            assert await memory.get_plan_state(P, "k", tenant_id=T, user_id=U) == "embedded"
    finally:
        shutdown_embedded_redis(data_dir)


async def test_caller_owned_redis_client_is_left_open(aredis_client: Any) -> None:
    memory = MemoryClient(aredis_client)
    await memory.set_plan_state(P, "k", 1, tenant_id=T, user_id=U)
    await memory.aclose()
    assert await aredis_client.ping()


async def test_works_with_decode_responses_client(redis_url: str) -> None:
    async with MemoryClient.from_url(redis_url, decode_responses=True) as memory:
        await memory.set_plan_state(P, "k", {"a": "é"}, tenant_id=T, user_id=U)
        assert await memory.extend_plan_state(P, "l", [1], tenant_id=T, user_id=U) == [1]
        assert await memory.get_all_plan_state(P, tenant_id=T, user_id=U) == {
            "k": {"a": "é"},
            "l": [1],
        }


async def test_unreachable_redis_is_a_typed_error_for_working_memory_and_plans() -> None:
    # Nothing listens on port 1: every call fails to connect.
    client = MemoryClient.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    calls: list[Callable[[], Awaitable[Any]]] = [
        lambda: client.set_plan_state("p1", "k", 1, tenant_id="t1", user_id="u1"),
        lambda: client.get_plan_state("p1", "k", tenant_id="t1", user_id="u1"),
        lambda: WorkflowState(client, "p1", tenant_id="t1", user_id="u1").increment("n"),
        lambda: client.create_plan("p1", "goal.received", {}, tenant_id="t1", user_id="u1"),
        lambda: client.list_sessions(tenant_id="t1", user_id="u1"),
    ]
    try:
        for call in calls:
            with pytest.raises(BackendUnavailableError, match="unreachable"):
                await call()
    finally:
        await client.aclose()
