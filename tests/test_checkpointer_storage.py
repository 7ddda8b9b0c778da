"""RedisCheckpointSaver storage: TTL, encryption, tenants, key shape, deltas, errors, sync API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.conformance.test_utils import generate_checkpoint, generate_metadata
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
from langgraph.checkpoint.serde.types import INTERRUPT
from redis.crc import key_slot

from soorma_lc.backends.redis_clients import sync_client
from soorma_lc.config import Settings
from soorma_lc.errors import (
    BackendUnavailableError,
    CheckpointConfigError,
    CheckpointConflictError,
    CheckpointCorruptedError,
    CheckpointSerializationError,
    ConfigurationError,
)
from soorma_lc.memory.checkpoint import RedisCheckpointSaver
from soorma_lc.memory.checkpoint.keys import thread_keys, threads_key
from tests.checkpointer_helpers import chat_graph


@pytest.fixture
async def saver(redis_url: str) -> AsyncIterator[RedisCheckpointSaver]:
    saver = RedisCheckpointSaver.from_url(redis_url)
    yield saver
    await saver.aclose()
    saver.close()


def cfg(thread: str, tenant: str | None = None, **extra: Any) -> dict[str, Any]:
    configurable = {"thread_id": thread, "checkpoint_ns": "", **extra}
    if tenant is not None:
        configurable["tenant_id"] = tenant
    return {"configurable": configurable}


async def put(
    saver: RedisCheckpointSaver,
    config: dict[str, Any],
    values: dict[str, Any],
    versions: dict[str, Any],
    new: dict[str, Any] | None = None,
    **metadata: Any,
) -> dict[str, Any]:
    checkpoint = generate_checkpoint(channel_values=values, channel_versions=versions)
    return await saver.aput(
        config, checkpoint, generate_metadata(**metadata), versions if new is None else new
    )


def thread_key_names(client: redis.Redis, tenant: str, thread: str) -> list[str]:
    return [k for k in thread_keys("soorma:cp", tenant, thread) if client.exists(k)]


async def test_ttl_covers_every_key_and_refreshes_on_read(
    redis_url: str, redis_client: redis.Redis
) -> None:
    ttl_ms = 10 * 60_000
    for refresh in (True, False):
        saver = RedisCheckpointSaver.from_url(redis_url, ttl_minutes=10, refresh_on_read=refresh)
        graph = chat_graph(saver)
        config = {"configurable": {"thread_id": f"ttl-{refresh}"}}
        await graph.ainvoke({"messages": [HumanMessage(content="hello")]}, config)
        await graph.ainvoke({"messages": [HumanMessage(content="again")]}, config)
        keys = list(redis_client.scan_iter(match="soorma:cp:*"))
        assert keys and all(0 < redis_client.pttl(k) <= ttl_ms for k in keys)
        mine = thread_key_names(redis_client, saver.tenant_id, f"ttl-{refresh}")
        assert len(mine) == 5
        mine.append(threads_key("soorma:cp", saver.tenant_id))  # the tenant's thread index
        for key in mine:
            redis_client.pexpire(key, 5_000)
        assert await saver.aget_tuple(config) is not None
        ttls = [redis_client.pttl(k) for k in mine]
        assert all(t > 5_000 for t in ttls) if refresh else all(t <= 5_000 for t in ttls)
        await saver.aclose()
        saver.close()


async def test_expired_thread_leaves_nothing_behind(
    redis_url: str, redis_client: redis.Redis
) -> None:
    saver = RedisCheckpointSaver.from_url(redis_url, ttl_minutes=0.002)  # 120 ms
    graph = chat_graph(saver)
    config = {"configurable": {"thread_id": "short-lived"}}
    await graph.ainvoke({"messages": [HumanMessage(content="hello")]}, config)
    assert redis_client.dbsize() > 0
    for _ in range(200):
        if redis_client.dbsize() == 0:
            break
        await asyncio.sleep(0.05)
    assert redis_client.dbsize() == 0
    assert await saver.aget_tuple(config) is None
    await saver.aclose()
    saver.close()


async def test_encrypted_serializer_keeps_plaintext_out_of_redis(
    redis_url: str, redis_client: redis.Redis
) -> None:
    serde = EncryptedSerializer.from_pycryptodome_aes(key=b"k" * 32)
    saver = RedisCheckpointSaver.from_url(redis_url, serde=serde)
    graph = chat_graph(saver)
    config = {"configurable": {"thread_id": "secret"}}
    for _ in range(3):
        await graph.ainvoke({"messages": [HumanMessage(content="my password is hunter2")]}, config)
    stored = b"".join(
        value
        for key in redis_client.scan_iter(match="soorma:cp:*")
        if redis_client.type(key) == b"hash"
        for value in redis_client.hvals(key)
    )
    assert b"hunter2" not in stored and b"answer 1" not in stored
    state = await graph.aget_state(config)
    assert [m.content for m in state.values["messages"]][::2] == ["my password is hunter2"] * 3

    wrong_key = RedisCheckpointSaver.from_url(
        redis_url, serde=EncryptedSerializer.from_pycryptodome_aes(key=b"x" * 32)
    )
    with pytest.raises(CheckpointCorruptedError, match="MAC check failed"):
        wrong_key.get_tuple(config)
    wrong_key.close()
    await saver.aclose()
    saver.close()


async def test_tenants_are_separate_threads(
    saver: RedisCheckpointSaver, redis_client: redis.Redis, redis_url: str
) -> None:
    a_config = await put(saver, cfg("shared", "tenant-a"), {"x": "from a"}, {"x": 1}, run_id="r1")
    assert a_config["configurable"]["tenant_id"] == "tenant-a"
    assert await saver.aget_tuple(cfg("shared", "tenant-b")) is None
    assert await saver.aget_tuple(cfg("shared")) is None  # the saver's default tenant
    assert [t async for t in saver.alist(cfg("shared", "tenant-b"))] == []
    await saver.aput_writes(cfg("shared", "tenant-b", checkpoint_id=a_config["configurable"][
        "checkpoint_id"]), [("x", "b write")], "task")  # fmt: skip

    await put(saver, cfg("shared", "tenant-b"), {"x": "from b"}, {"x": 1}, run_id="r1")
    tenant_b = saver.for_tenant("tenant-b")
    tenant_b.prune(["shared"], strategy="keep_latest")
    tenant_b.delete_for_runs(["r1"])
    assert await tenant_b.aget_tuple(cfg("shared")) is None
    await tenant_b.acopy_thread("shared", "copy")
    await tenant_b.adelete_thread("shared")

    found = await saver.aget_tuple(cfg("shared", "tenant-a"))
    assert found is not None and found.checkpoint["channel_values"] == {"x": "from a"}
    assert found.pending_writes == []
    assert found.config["configurable"]["tenant_id"] == "tenant-a"
    listed = list(saver.for_tenant("tenant-a").list(None))
    assert [t.checkpoint["id"] for t in listed] == [found.checkpoint["id"]]
    assert list(saver.for_tenant("tenant-b").list(None)) == []

    # A saver whose default tenant is "acme" needs no tenant_id in configs, and returns none.
    acme = RedisCheckpointSaver.from_url(redis_url, tenant_id="acme")
    stored = await put(acme, cfg("shared"), {"x": "acme"}, {"x": 1})
    assert "tenant_id" not in stored["configurable"]
    assert (await saver.aget_tuple(cfg("shared", "acme"))).checkpoint["channel_values"] == {
        "x": "acme"
    }
    await acme.aclose()
    acme.close()


async def test_thread_keys_share_one_hash_tag(
    saver: RedisCheckpointSaver, redis_client: redis.Redis
) -> None:
    thread, tenant = "odd:{thread}%id", "ten:ant}"
    stored = await put(saver, cfg(thread, tenant), {"x": "v" * 2000}, {"x": 1}, run_id="run-1")
    await put(saver, cfg(thread, tenant, checkpoint_ns="child:1"), {"y": 1}, {"y": 1})
    await saver.aput_writes(stored, [("x", "w")], "task-1")
    keys = [k.decode() for k in redis_client.scan_iter(match="soorma:cp:*")]
    thread_level = [k for k in keys if k.endswith((":i", ":c", ":r", ":b", ":w"))]
    assert sorted(thread_level) == sorted(thread_keys("soorma:cp", tenant, thread))
    tag = "{ten%3Aant%7D:odd%3A%7Bthread%7D%25id}"
    assert all(k.startswith(f"soorma:cp:{tag}:") for k in thread_level)
    assert len({key_slot(k.encode()) for k in thread_level}) == 1
    tenant_level = sorted(set(keys) - set(thread_level))
    assert tenant_level == [
        "soorma:cp:{ten%3Aant%7D}:run:run-1",
        "soorma:cp:{ten%3Aant%7D}:threads",
    ]
    # Escaping keeps (tenant, thread) pairs apart even when separators move between them.
    assert thread_keys("p", "a:b", "c") != thread_keys("p", "a", "b:c")


async def test_blobs_stored_only_on_change_and_as_deltas(
    saver: RedisCheckpointSaver, redis_client: redis.Redis
) -> None:
    config = cfg("deltas")
    big = [f"message {i:03d} " + "y" * 500 for i in range(30)]
    parent = await put(saver, config, {"log": big[:1], "const": "c" * 1000}, {"log": 1, "const": 1})
    for n in range(2, 31):
        checkpoint_config = cfg("deltas", checkpoint_id=parent["configurable"]["checkpoint_id"])
        parent = await put(
            saver, checkpoint_config, {"log": big[:n], "const": "c" * 1000},
            {"log": n, "const": 1}, new={"log": n},
        )  # fmt: skip
    blobs_key = thread_keys("soorma:cp", saver.tenant_id, "deltas")[3]
    fields = redis_client.hgetall(blobs_key)
    assert sorted(f.split(b"\0")[1] for f in fields).count(b"const") == 1
    log_values = [v for f, v in fields.items() if f.split(b"\0")[1] == b"log"]
    assert len(log_values) == 30
    assert sum(v[:1] == b"D" for v in log_values) >= 25
    full_size = sum(len(saver.serde.dumps_typed(big[:n])[1]) for n in range(1, 31))
    assert sum(len(v) for v in log_values) * 5 < full_size
    history = [t async for t in saver.alist(config)]
    assert [t.checkpoint["channel_values"]["log"] for t in history] == [
        big[:n] for n in range(30, 0, -1)
    ]
    assert all(t.checkpoint["channel_values"]["const"] == "c" * 1000 for t in history)


async def test_stale_or_changed_delta_base_falls_back_to_full(
    redis_url: str, redis_client: redis.Redis
) -> None:
    writer = RedisCheckpointSaver.from_url(redis_url)
    other = RedisCheckpointSaver.from_url(redis_url)
    blobs_key = thread_keys("soorma:cp", writer.tenant_id, "t")[3]
    first = await put(writer, cfg("t"), {"v": "a" * 3000}, {"v": 1})
    # Another process deletes the thread and writes different content at the same version.
    await other.adelete_thread("t")
    await put(other, cfg("t"), {"v": "b" * 3000}, {"v": 1})
    # writer's cached base (version 1 = "a"*3000) changed: it must not write a delta against it.
    second = await put(
        writer, cfg("t", checkpoint_id=first["configurable"]["checkpoint_id"]),
        {"v": "a" * 3000 + "tail"}, {"v": 2},
    )  # fmt: skip
    assert redis_client.hget(blobs_key, b"\0v\x002")[:1] in (b"F", b"Z")
    assert (await other.aget_tuple(second)).checkpoint["channel_values"]["v"] == "a" * 3000 + "tail"
    # Base deleted outright: same fallback.
    await other.adelete_thread("t")
    third = await put(writer, cfg("t"), {"v": "a" * 3000 + "tail2"}, {"v": 3})
    assert (await other.aget_tuple(third)).checkpoint["channel_values"]["v"] == "a" * 3000 + "tail2"
    for s in (writer, other):
        await s.aclose()
        s.close()


async def test_pending_writes_sorted_deduplicated(saver: RedisCheckpointSaver) -> None:
    stored = await put(saver, cfg("w"), {}, {})
    await saver.aput_writes(stored, [("c", "b-0"), ("c", "b-1")], "task-2", task_path="b")
    await saver.aput_writes(stored, [("c", "a-0")], "task-9", task_path="a")
    await saver.aput_writes(stored, [("c", "input")], "task-5", task_path="")
    await saver.aput_writes(stored, [("c", "a-0 again")], "task-9", task_path="a")  # retry
    await saver.aput_writes(stored, [(INTERRUPT, "first")], "task-7", task_path="c")
    await saver.aput_writes(stored, [(INTERRUPT, "second")], "task-7", task_path="c")
    found = await saver.aget_tuple(stored)
    assert found.pending_writes == [
        ("task-5", "c", "input"),
        ("task-9", "c", "a-0"),
        ("task-2", "c", "b-0"),
        ("task-2", "c", "b-1"),
        ("task-7", INTERRUPT, "second"),
    ]


async def test_bad_input_raises_typed_errors_and_writes_nothing(
    saver: RedisCheckpointSaver, redis_client: redis.Redis, redis_url: str
) -> None:
    with pytest.raises(CheckpointConfigError, match="thread_id"):
        await saver.aget_tuple({"configurable": {}})
    with pytest.raises(CheckpointConfigError, match="thread_id"):
        await put(saver, {"configurable": {"checkpoint_ns": ""}}, {}, {})
    with pytest.raises(CheckpointConfigError, match="checkpoint_ns"):
        await put(saver, cfg("t", checkpoint_ns="bad\0ns"), {}, {})
    with pytest.raises(CheckpointConfigError, match="channel version"):
        await put(saver, cfg("t"), {"x": 1}, {"x": "1\0"})
    with pytest.raises(CheckpointConfigError, match="tenant_id"):
        await put(saver, cfg("t", tenant=""), {}, {})
    with pytest.raises(CheckpointConfigError, match="checkpoint_id"):
        await saver.aput_writes(cfg("t"), [("c", 1)], "task")
    with pytest.raises(CheckpointConfigError, match="strategy"):
        await saver.aprune(["t"], strategy="keep_some")
    assert redis_client.dbsize() == 0

    await put(saver, cfg("src"), {"x": 1}, {"x": 1})
    target = await put(saver, cfg("dst"), {"x": 2}, {"x": 1})
    with pytest.raises(CheckpointConflictError):
        await saver.acopy_thread("src", "dst")
    assert (await saver.aget_tuple(cfg("dst"))).config == target

    with pytest.raises(ConfigurationError):
        RedisCheckpointSaver(client=redis.Redis.from_url(redis_url, decode_responses=True))
    with pytest.raises(ConfigurationError):
        RedisCheckpointSaver.from_url(redis_url, ttl_minutes=0)
    with pytest.raises(ConfigurationError):
        RedisCheckpointSaver()
    unreachable = RedisCheckpointSaver.from_url("unix:///nonexistent/redis.sock")
    with pytest.raises(BackendUnavailableError):
        unreachable.get_tuple(cfg("t"))
    with pytest.raises(BackendUnavailableError):
        await unreachable.aget_tuple(cfg("t"))
    with pytest.raises(ConfigurationError):
        RedisCheckpointSaver.from_url("http://localhost:6379")


async def test_a_string_of_ids_is_one_id_not_its_characters(
    saver: RedisCheckpointSaver, redis_client: redis.Redis
) -> None:
    for thread in ("a", "b", "ab"):
        await put(saver, cfg(thread), {"x": 1}, {"x": 1}, run_id="r")
    await put(saver, cfg("u"), {"x": 1}, {"x": 1}, run_id="run-1")
    await saver.aprune("ab", strategy="delete")
    assert thread_key_names(redis_client, saver.tenant_id, "a")
    assert not thread_key_names(redis_client, saver.tenant_id, "ab")
    await saver.adelete_for_runs("run-1")
    assert not thread_key_names(redis_client, saver.tenant_id, "u")
    assert thread_key_names(redis_client, saver.tenant_id, "b")  # run "r" is untouched
    for bad in (None, 5, {"r": 1}, b"r"):
        with pytest.raises(CheckpointConfigError):
            await saver.adelete_for_runs(bad)
        with pytest.raises(CheckpointConfigError):
            saver.prune(bad)
    with pytest.raises(CheckpointConfigError):  # one bad id: nothing is deleted
        await saver.aprune(["a", None], strategy="delete")
    assert thread_key_names(redis_client, saver.tenant_id, "a")


async def test_thread_ids_follow_the_id_rules_of_checkpoint_ids_and_namespaces(
    saver: RedisCheckpointSaver, redis_client: redis.Redis
) -> None:
    stored = await put(saver, cfg(5), {"x": 1}, {"x": 1})  # type: ignore[arg-type]
    assert stored["configurable"]["thread_id"] == "5"
    assert (await saver.aget_tuple(cfg("5"))).config == stored
    before = redis_client.dbsize()
    for thread in (b"t1", 1.5, True, "t\0", "t\x01", "\ud800", "x" * 513, "  ", ["t"]):
        with pytest.raises(CheckpointConfigError, match="thread_id"):
            await put(saver, cfg(thread), {"x": 1}, {"x": 1})  # type: ignore[arg-type]
        with pytest.raises(CheckpointConfigError, match="thread_id"):
            saver.get_tuple(cfg(thread))  # type: ignore[arg-type]
    with pytest.raises(CheckpointConfigError, match="checkpoint_ns"):
        await put(saver, cfg("t", checkpoint_ns="n" * 5000), {"x": 1}, {"x": 1})
    assert redis_client.dbsize() == before


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.get_tuple(None),
        lambda s: s.get_tuple("thread-1"),
        lambda s: s.get_tuple({"configurable": "t"}),
        lambda s: list(s.list(cfg("t"), limit="3")),
        lambda s: list(s.list(cfg("t"), limit=-1)),
        lambda s: list(s.list(cfg("t"), limit=1.5)),
        lambda s: list(s.list(cfg("t"), filter=[1])),
        lambda s: list(s.list(cfg("t"), before="x")),
        lambda s: list(s.list("t")),
        lambda s: s.put(cfg("t"), "checkpoint", {}, {}),
        lambda s: s.put(cfg("t"), {}, {}, {}),
        lambda s: s.put(cfg("t"), generate_checkpoint(), "metadata", {}),
        lambda s: s.put(cfg("t"), generate_checkpoint(), {}, ["x"]),
        lambda s: s.put_writes(cfg("t", checkpoint_id="1"), "ab", "task"),
        lambda s: s.put_writes(cfg("t", checkpoint_id="1"), [("c", 1)], None),
        lambda s: s.put_writes(cfg("t", checkpoint_id="1"), [(5, 1)], "task"),
        lambda s: s.get_next_version("abc", None),
    ],
)
def test_malformed_arguments_are_config_errors(
    saver: RedisCheckpointSaver, redis_client: redis.Redis, call: Any
) -> None:
    with pytest.raises(CheckpointConfigError):
        call(saver)
    assert redis_client.dbsize() == 0


@pytest.mark.parametrize(
    "value", [lambda: 1, object(), 2**70], ids=["lambda", "object", "huge-int"]
)
async def test_unserialisable_values_are_typed_and_write_nothing(
    saver: RedisCheckpointSaver, redis_client: redis.Redis, value: Any
) -> None:
    with pytest.raises(CheckpointSerializationError, match="channel 'x'"):
        await put(saver, cfg("t"), {"x": value}, {"x": 1})
    with pytest.raises(CheckpointSerializationError, match="metadata"):
        await put(saver, cfg("t"), {"x": 1}, {"x": 1}, extra=value)
    with pytest.raises(CheckpointSerializationError, match="channel 'c'"):
        await saver.aput_writes(cfg("t", checkpoint_id="1"), [("c", value)], "task")
    assert redis_client.dbsize() == 0


@pytest.mark.parametrize("part", [1, 3, 4], ids=["record", "blob", "writes"])
async def test_data_changed_outside_is_reported_and_left_alone(
    saver: RedisCheckpointSaver, redis_client: redis.Redis, part: int
) -> None:
    stored = await put(saver, cfg("t"), {"x": 1}, {"x": 1})
    await saver.aput_writes(stored, [("c", 1)], "task")
    key = thread_keys("soorma:cp", saver.tenant_id, "t")[part]
    for field in redis_client.hkeys(key):
        redis_client.hset(key, field, b"\xff\x00garbage")
    before = redis_client.hgetall(key)
    with pytest.raises(CheckpointCorruptedError):
        await saver.aget_tuple(stored)
    with pytest.raises(CheckpointCorruptedError):
        [item async for item in saver.alist(cfg("t"))]
    assert redis_client.hgetall(key) == before


@pytest.mark.parametrize(
    "options",
    [
        {"ttl_minutes": "5"},
        {"ttl_minutes": float("nan")},
        {"max_chain": "16"},
        {"cache_bytes": -1},
        {"key_prefix": "{cp}"},
        {"key_prefix": ""},
        {"refresh_on_read": "yes"},
    ],
)
def test_bad_options_are_configuration_errors(redis_url: str, options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        RedisCheckpointSaver.from_url(redis_url, **options)
    with pytest.raises(CheckpointConfigError, match="tenant_id"):
        RedisCheckpointSaver.from_url(redis_url, tenant_id="t\0")


def test_swapped_clients_are_refused(redis_url: str) -> None:
    with pytest.raises(ConfigurationError):
        RedisCheckpointSaver(redis.asyncio.Redis.from_url(redis_url))  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        RedisCheckpointSaver(aclient=redis.Redis.from_url(redis_url))  # type: ignore[arg-type]


async def test_tampered_blob_is_reported(saver: RedisCheckpointSaver, redis_client: redis.Redis):
    stored = await put(saver, cfg("t"), {"x": "payload" * 10}, {"x": 1})
    blobs_key = thread_keys("soorma:cp", saver.tenant_id, "t")[3]
    value = bytearray(redis_client.hget(blobs_key, b"\0x\x001"))
    value[-1] ^= 0x01
    redis_client.hset(blobs_key, b"\0x\x001", bytes(value))
    with pytest.raises(CheckpointCorruptedError):
        await saver.aget_tuple(stored)


@pytest.mark.parametrize("server", ["redis_url", "cluster_url"])
def test_sync_api_end_to_end(request: pytest.FixtureRequest, server: str) -> None:
    """On one server and on a Redis Cluster, starting with no script cached on any node
    (a fresh or failed-over server): the scripts travel with the first calls."""
    url = request.getfixturevalue(server)
    redis_client = sync_client(url)
    redis_client.script_flush()
    saver = RedisCheckpointSaver.from_settings(Settings(redis_url=url, tenant_id="sync-t"))
    assert saver.tenant_id == "sync-t"
    parent = None
    configs = []
    for step, run in enumerate(["r1", "r1", "r2"]):
        config = cfg("s", checkpoint_id=parent) if parent else cfg("s")
        checkpoint = generate_checkpoint(channel_values={"n": step}, channel_versions={"n": step})
        stored = saver.put(
            config, checkpoint, generate_metadata(step=step, run_id=run), {"n": step}
        )
        configs.append(stored)
        parent = stored["configurable"]["checkpoint_id"]
    saver.put_writes(configs[-1], [("n", 99)], "task")
    assert saver.get_tuple(cfg("s")).pending_writes == [("task", "n", 99)]
    assert [t.metadata["step"] for t in saver.list(cfg("s"))] == [2, 1, 0]
    assert [t.metadata["step"] for t in saver.list(cfg("s"), filter={"run_id": "r1"})] == [1, 0]
    assert [t.metadata["step"] for t in saver.list(cfg("s"), before=configs[2], limit=1)] == [1]
    saver.copy_thread("s", "s-copy")
    saver.delete_for_runs(["r1"])
    assert [t.metadata["step"] for t in saver.list(cfg("s"))] == [2]
    assert [t.metadata["step"] for t in saver.list(cfg("s-copy"))] == [2]
    saver.copy_thread("s", "s-copy-2")
    saver.prune(["s-copy-2"], strategy="keep_latest")
    assert [t.metadata["step"] for t in saver.list(cfg("s-copy-2"))] == [2]
    assert saver.get_tuple(cfg("s-copy-2")).checkpoint["channel_values"] == {"n": 2}
    saver.prune(["s", "s-copy"], strategy="delete")
    saver.delete_thread("s-copy-2")
    assert redis_client.dbsize() == 0  # indexes cleaned: nothing orphaned
    saver.close()
    redis_client.close()


def test_next_version_increases_and_differs_across_branches(redis_url: str) -> None:
    saver = RedisCheckpointSaver.from_url(redis_url)
    first = saver.get_next_version(None, None)
    second = saver.get_next_version(first, None)
    assert first < second and second.startswith("0000000002.")
    # Two forks bumping the same version get different versions (their blobs never collide).
    assert saver.get_next_version(first, None) != saver.get_next_version(first, None)
    assert saver.get_next_version(7, None).startswith("0000000008.")
    legacy = "00000000000000000000000000000041.0.5"  # InMemorySaver's format
    assert saver.get_next_version(legacy, None).startswith("0000000042.")
    assert saver.get_next_version(legacy, None) > legacy
    saver.close()
