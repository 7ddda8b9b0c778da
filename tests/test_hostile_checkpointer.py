"""Hostile inputs against RedisCheckpointSaver, sync and async (issue 15).

Every public entry point (``get_tuple``, ``list``, ``put``, ``put_writes``, ``delete_thread``,
``delete_for_runs``, ``copy_thread``, ``prune`` and their async twins, ``get_next_version``,
``for_tenant`` and the constructor) is driven by hypothesis against a Redis seeded with threads
of two runs, pending writes, and one thread whose stored record was overwritten from outside.
Each call must succeed or raise a ``SoormaError`` within the hang guard, and leave Redis as it
was when it fails (see ``hostile_helpers``).
"""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.conformance.test_utils import generate_checkpoint, generate_metadata

from soorma_lc.backends.redis_clients import sync_client
from soorma_lc.memory.checkpoint import RedisCheckpointSaver
from soorma_lc.memory.checkpoint.keys import thread_keys
from tests.hostile_helpers import (
    JSON,
    EntryPoint,
    Slot,
    anything,
    counts,
    entry,
    hostile_scalars,
    hostile_settings,
    ids,
    optional,
    probe_entry_point,
    redis_state,
    sequences,
)

THREADS = ("t1", "t2", "t-bad", "t-new")
RUNS = ("run-1", "run-2", "run-x")
TENANT = "acme"
CHECKPOINT_IDS = ("1ef0000000000001", "1ef0000000000002", "missing")


@dataclass
class World:
    saver: RedisCheckpointSaver
    redis: redis.Redis
    url: str
    loop: asyncio.AbstractEventLoop


def _checkpoint(number: int, values: dict[str, Any]) -> dict[str, Any]:
    versions = {channel: f"{number:010d}.0" for channel in values}
    return generate_checkpoint(
        checkpoint_id=f"1ef000000000000{number}", channel_values=values, channel_versions=versions
    )


def _seed(saver: RedisCheckpointSaver, raw: redis.Redis) -> None:
    for thread, run in (("t1", "run-1"), ("t2", "run-2"), ("t-bad", "run-1")):
        config: Any = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
        for number in (1, 2):
            checkpoint = _checkpoint(number, {"messages": ["x" * 600] * number, "n": number})
            config = saver.put(
                config,
                checkpoint,
                generate_metadata(run_id=run, step=number),
                checkpoint["channel_versions"],
            )
        saver.put_writes(config, [("messages", "pending"), ("n", 3)], "task-1")
    records = thread_keys(saver.key_prefix, TENANT, "t-bad")[1]
    for field in raw.hkeys(records):
        raw.hset(records, field, b"\xff garbage")


@pytest.fixture
def world(redis_url: str, loop: asyncio.AbstractEventLoop) -> Iterator[World]:
    raw = sync_client(redis_url)
    saver = RedisCheckpointSaver.from_url(redis_url, tenant_id=TENANT)
    _seed(saver, raw)
    yield World(saver, raw, redis_url, loop)
    loop.run_until_complete(saver.aclose())
    saver.close()
    raw.close()


CONFIG = Slot(
    st.builds(
        lambda thread, ns, checkpoint, tenant: {
            "configurable": {
                "thread_id": thread,
                **({} if ns is None else {"checkpoint_ns": ns}),
                **({} if checkpoint is None else {"checkpoint_id": checkpoint}),
                **({} if tenant is None else {"tenant_id": tenant}),
            }
        },
        st.sampled_from(THREADS),
        st.sampled_from([None, "", "child:1"]),
        st.sampled_from([None, *CHECKPOINT_IDS]),
        st.sampled_from([None, TENANT, "other"]),
    ),
    st.one_of(
        anything,
        st.builds(lambda c: {"configurable": c}, anything),
        st.builds(
            lambda thread, ns, checkpoint: {
                "configurable": {
                    "thread_id": thread,
                    "checkpoint_ns": ns,
                    "checkpoint_id": checkpoint,
                }
            },
            anything,
            st.one_of(st.just(""), anything),
            st.one_of(st.none(), anything),
        ),
        st.builds(
            lambda tenant: {"configurable": {"thread_id": "t1", "tenant_id": tenant}}, anything
        ),
        st.builds(lambda meta: {"configurable": {"thread_id": "t1"}, "metadata": meta}, anything),
    ),
)
THREAD = Slot(
    st.one_of(st.sampled_from(THREADS), st.just(7), st.just(uuid.UUID(int=7))),
    anything,
)
CHANNEL_VALUES = st.dictionaries(
    st.text(max_size=6), st.one_of(JSON.valid, st.just(b"bytes")), max_size=3
)
CHECKPOINT = Slot(
    st.builds(lambda n, values: _checkpoint(n, values), st.integers(3, 9), CHANNEL_VALUES),
    st.one_of(
        anything,
        st.builds(
            lambda n, values: _checkpoint(n, values),
            st.integers(3, 9),
            st.dictionaries(st.text(max_size=6), JSON.hostile, min_size=1, max_size=2),
        ),
        st.builds(
            lambda key, value: {**_checkpoint(3, {"n": 1}), key: value},
            st.sampled_from(["id", "channel_values", "channel_versions"]),
            anything,
        ),
        st.builds(
            lambda version: {**_checkpoint(3, {"n": 1}), "channel_versions": {"n": version}},
            anything,
        ),
    ),
)
METADATA = Slot(
    st.builds(generate_metadata, run_id=st.sampled_from(RUNS), step=st.integers(-1, 5)),
    st.one_of(
        anything,
        st.builds(lambda run: generate_metadata(run_id=run), anything),
        st.dictionaries(st.text(max_size=4), anything, min_size=1, max_size=2),
    ),
)
VERSIONS = Slot(
    st.builds(lambda c: c["channel_versions"], CHECKPOINT.valid),
    st.one_of(anything, st.dictionaries(st.text(max_size=4), anything, max_size=2)),
)
WRITES = sequences(
    Slot(
        st.tuples(st.sampled_from(["messages", "n", "__error__"]), JSON.valid),
        st.one_of(
            anything,
            st.tuples(anything, JSON.valid),
            st.tuples(st.just("n"), JSON.hostile),
            st.tuples(st.just("n"), st.just(1), st.just(2)),
        ),
    )
)
FILTER = optional(
    Slot(
        st.dictionaries(st.sampled_from(["source", "step", "run_id"]), JSON.valid, max_size=2),
        st.one_of(anything, st.dictionaries(hostile_scalars, anything, min_size=1, max_size=1)),
    )
)
STRATEGY = Slot(st.sampled_from(["keep_latest", "delete"]), anything)


def _put(w: World, config: Any, checkpoint: Any, metadata: Any, versions: Any) -> Any:
    return w.saver.put(config, checkpoint, metadata, versions)


def _constructed(w: World, client: Any, **options: Any) -> RedisCheckpointSaver:
    client = {"<sync>": w.redis}.get(client, client) if isinstance(client, str) else client
    return RedisCheckpointSaver(client, **options)


ENTRY_POINTS: list[EntryPoint] = [
    entry(
        "RedisCheckpointSaver()",
        lambda w, client, ttl, chain, cache, prefix, tenant: _constructed(
            w,
            client,
            ttl_minutes=ttl,
            max_chain=chain,
            cache_bytes=cache,
            key_prefix=prefix,
            tenant_id=tenant,
        ),
        client=Slot(st.just("<sync>"), anything),
        ttl=optional(Slot(st.floats(0.5, 100), anything)),
        chain=counts(0, 16),
        cache=counts(0, 1024),
        prefix=ids("soorma:cp", "cp"),
        tenant=ids(TENANT, "other"),
    ),
    entry(
        "RedisCheckpointSaver.for_tenant",
        lambda w, tenant: w.saver.for_tenant(tenant),
        tenant=ids(TENANT, "other"),
    ),
    entry(
        "RedisCheckpointSaver.get_next_version",
        lambda w, current: w.saver.get_next_version(current, None),
        current=Slot(
            st.one_of(st.none(), st.integers(0, 10**6), st.just("0000000003.ab")), anything
        ),
    ),
    entry(
        "RedisCheckpointSaver.get_tuple", lambda w, config: w.saver.get_tuple(config), config=CONFIG
    ),
    entry(
        "RedisCheckpointSaver.aget_tuple",
        lambda w, config: w.saver.aget_tuple(config),
        config=CONFIG,
    ),
    entry(
        "RedisCheckpointSaver.list",
        lambda w, config, filter, before, limit: list(
            w.saver.list(config, filter=filter, before=before, limit=limit)
        ),
        config=optional(CONFIG),
        filter=FILTER,
        before=optional(CONFIG),
        limit=optional(counts(0, 1, 5)),
    ),
    entry(
        "RedisCheckpointSaver.alist",
        lambda w, config, filter, before, limit: _collect(
            w.saver.alist(config, filter=filter, before=before, limit=limit)
        ),
        config=optional(CONFIG),
        filter=FILTER,
        before=optional(CONFIG),
        limit=optional(counts(0, 1, 5)),
    ),
    entry(
        "RedisCheckpointSaver.put",
        _put,
        config=CONFIG,
        checkpoint=CHECKPOINT,
        metadata=METADATA,
        versions=VERSIONS,
    ),
    entry(
        "RedisCheckpointSaver.aput",
        lambda w, config, checkpoint, metadata, versions: w.saver.aput(
            config, checkpoint, metadata, versions
        ),
        config=CONFIG,
        checkpoint=CHECKPOINT,
        metadata=METADATA,
        versions=VERSIONS,
    ),
    entry(
        "RedisCheckpointSaver.put_writes",
        lambda w, config, writes, task, path: w.saver.put_writes(config, writes, task, path),
        config=CONFIG,
        writes=WRITES,
        task=ids("task-1", "task-2"),
        path=ids("", "~parent"),
    ),
    entry(
        "RedisCheckpointSaver.aput_writes",
        lambda w, config, writes, task, path: w.saver.aput_writes(config, writes, task, path),
        config=CONFIG,
        writes=WRITES,
        task=ids("task-1", "task-2"),
        path=ids("", "~parent"),
    ),
    entry(
        "RedisCheckpointSaver.delete_thread",
        lambda w, thread: w.saver.delete_thread(thread),
        thread=THREAD,
    ),
    entry(
        "RedisCheckpointSaver.adelete_thread",
        lambda w, thread: w.saver.adelete_thread(thread),
        thread=THREAD,
    ),
    entry(
        "RedisCheckpointSaver.delete_for_runs",
        lambda w, runs: w.saver.delete_for_runs(runs),
        runs=sequences(ids(*RUNS)),
    ),
    entry(
        "RedisCheckpointSaver.adelete_for_runs",
        lambda w, runs: w.saver.adelete_for_runs(runs),
        runs=sequences(ids(*RUNS)),
    ),
    entry(
        "RedisCheckpointSaver.copy_thread",
        lambda w, source, target: w.saver.copy_thread(source, target),
        source=THREAD,
        target=THREAD,
    ),
    entry(
        "RedisCheckpointSaver.acopy_thread",
        lambda w, source, target: w.saver.acopy_thread(source, target),
        source=THREAD,
        target=THREAD,
    ),
    entry(
        "RedisCheckpointSaver.prune",
        lambda w, threads, strategy: w.saver.prune(threads, strategy=strategy),
        threads=sequences(THREAD),
        strategy=STRATEGY,
    ),
    entry(
        "RedisCheckpointSaver.aprune",
        lambda w, threads, strategy: w.saver.aprune(threads, strategy=strategy),
        threads=sequences(THREAD),
        strategy=STRATEGY,
    ),
]


async def _collect(items: Any) -> list[Any]:
    return [item async for item in items]


@hostile_settings(30)
@pytest.mark.parametrize("entry_point", ENTRY_POINTS, ids=str)
@given(data=st.data())
def test_hostile_arguments(world: World, entry_point: EntryPoint, data: st.DataObject) -> None:
    probe_entry_point(entry_point, world, data, lambda: redis_state(world.redis), world.loop)


def test_every_public_entry_point_is_probed() -> None:
    probed = {e.name for e in ENTRY_POINTS}
    own = {
        name
        for name, member in vars(RedisCheckpointSaver).items()
        if not name.startswith("_") and inspect.isfunction(member)
    }
    langgraph = {
        name
        for name in own & set(vars(BaseCheckpointSaver))
        if not name.startswith("_") and name not in {"close", "aclose"}
    }
    for name in (own - {"close", "aclose", "settings_options", "from_url"}) | langgraph:
        assert f"RedisCheckpointSaver.{name}" in probed, f"{name} is not probed"
