"""Hostile inputs against SoormaStore, sync and async (issue 15).

Every public entry point (``put``, ``get``, ``delete``, ``search``, ``list_namespaces``,
``batch``, ``sweep_ttl``, their async twins and the constructor) is driven by hypothesis against
a store seeded with items (one with a TTL, one overwritten from outside with non-JSON bytes),
on real Redis and a real embedded Chroma. Each call must succeed or raise a ``SoormaError``
within the hang guard, and leave Redis and Chroma as they were when it fails (see
``hostile_helpers``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st
from langgraph.store.base import BaseStore, GetOp, ListNamespacesOp, MatchCondition, PutOp, SearchOp
from longterm_helpers import new_chroma

from soorma_lc.backends.redis_clients import sync_client
from soorma_lc.memory.store import SoormaStore
from tests.hostile_helpers import (
    JSON,
    EntryPoint,
    Slot,
    anything,
    chroma_state,
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
from tests.store_helpers import index_config

NAMESPACES = [("docs",), ("docs", "old"), ("notes",), ("langgraph", "x")]
WORDS = ("apple", "banana", "cherry")


@dataclass
class World:
    store: SoormaStore
    redis: redis.Redis
    chroma: Any
    url: str
    loop: asyncio.AbstractEventLoop

    def state(self) -> tuple[Any, Any]:
        return redis_state(self.redis), chroma_state(self.chroma)


@pytest.fixture
def world(redis_url: str, tmp_path: Path, loop: asyncio.AbstractEventLoop) -> Iterator[World]:
    chroma = new_chroma(tmp_path / "chroma")
    store = SoormaStore.from_url(redis_url, tenant_id="t1", index=index_config(), chroma=chroma)
    store.put(("docs",), "a", {"text": "apple pie", "n": 1, "tag": "red"})
    store.put(("docs", "old"), "b", {"text": "banana bread", "n": 5}, ttl=60)
    store.put(("notes",), "bad", {"text": "cherry"})
    raw = sync_client(redis_url)
    (items,) = [key for key in raw.keys("soorma:store:*:i:*") if key.endswith(b"6e6f746573/")]
    raw.hset(items, "bad", b"\xff not json")
    yield World(store, raw, chroma, redis_url, loop)
    store.close()
    raw.close()


LABEL = Slot(st.sampled_from(["docs", "old", "notes", "x"]), anything)
NAMESPACE = Slot(
    st.sampled_from(NAMESPACES),
    st.one_of(
        anything,
        st.lists(LABEL.hostile, min_size=1, max_size=3).map(tuple),
        st.integers(33, 5000).map(lambda depth: ("n",) * depth),
        st.just(("n" * 513,)),
        st.just(()),
        st.just(["docs"]),
    ),
)
KEY = Slot(st.sampled_from(["a", "b", "bad", "new", ""]), st.one_of(anything, st.just("k" * 1025)))
VALUE = Slot(
    st.fixed_dictionaries(
        {"text": st.builds(" ".join, st.lists(st.sampled_from(WORDS), min_size=1, max_size=3))},
        optional={"n": st.integers(0, 9), "extra": JSON.valid},
    ),
    st.one_of(
        mappings(JSON).hostile,
        st.builds(
            lambda texts: {"l": texts}, st.lists(st.text(max_size=3), min_size=1001, max_size=1001)
        ),
    ),
)
FILTER = optional(
    Slot(
        st.sampled_from(
            [{"tag": "red"}, {"n": {"$gt": 1}}, {"n": {"$lte": 5}, "tag": {"$ne": "x"}}]
        ),
        st.one_of(
            anything,
            st.dictionaries(st.text(max_size=4), anything, min_size=1, max_size=2),
            st.builds(
                lambda op, v: {"n": {op: v}}, st.sampled_from(["$gt", "$eq", "$regex"]), anything
            ),
            st.integers(33, 3000).map(lambda depth: _nested_filter(depth)),
        ),
    )
)
QUERY = optional(Slot(st.sampled_from(WORDS), st.one_of(anything, st.just("apple " * 200_000))))
INDEX = Slot(
    st.sampled_from([None, False, ["text"], ["text", "n"]]), st.one_of(anything, st.just("text"))
)
TTL = optional(Slot(st.sampled_from([1, 0.5, 60]), anything))
PAGE = counts(0, 1, 10)
MATCH = Slot(
    st.builds(
        MatchCondition, st.sampled_from(["prefix", "suffix"]), st.sampled_from([("docs",), ("*",)])
    ),
    st.one_of(anything, st.builds(MatchCondition, anything, anything)),
)
OP = Slot(
    st.one_of(
        st.builds(GetOp, NAMESPACE.valid, KEY.valid),
        st.builds(PutOp, NAMESPACE.valid, KEY.valid, st.one_of(st.none(), VALUE.valid)),
        st.builds(SearchOp, NAMESPACE.valid, FILTER.valid, st.just(5), st.just(0), QUERY.valid),
        st.builds(ListNamespacesOp, st.lists(MATCH.valid, max_size=2).map(tuple)),
    ),
    st.one_of(
        anything,
        st.builds(GetOp, NAMESPACE.hostile, KEY.hostile),
        st.builds(PutOp, NAMESPACE.valid, KEY.valid, VALUE.hostile, INDEX.hostile, ttl=TTL.hostile),
        st.builds(
            SearchOp, NAMESPACE.valid, FILTER.hostile, PAGE.hostile, PAGE.hostile, QUERY.hostile
        ),
        st.builds(ListNamespacesOp, st.lists(MATCH.hostile, min_size=1, max_size=2).map(tuple)),
    ),
)


def _nested_filter(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"n": 1}
    for _ in range(depth):
        value = {"x": value}
    return value


def _constructed(w: World, tenant: Any, user: Any, ttl: Any, limit: Any, index: Any) -> Any:
    index = index_config() if index == "<index>" else index
    return SoormaStore.from_url(
        w.url,
        tenant_id=tenant,
        user_id=user,
        ttl=ttl,
        max_value_bytes=limit,
        index=index,
        chroma=w.chroma,
    )


ENTRY_POINTS: list[EntryPoint] = [
    entry(
        "SoormaStore()",
        _constructed,
        tenant=ids("t1", "t2"),
        user=optional(ids("u1")),
        ttl=optional(
            Slot(
                st.just({"default_ttl": 5.0}),
                st.one_of(anything, st.builds(lambda v: {"default_ttl": v}, anything)),
            )
        ),
        limit=counts(100, 1 << 20),
        index=Slot(
            st.sampled_from(["<index>", None]),
            st.one_of(anything, st.builds(lambda d: {"dims": d}, anything)),
        ),
    ),
    entry(
        "SoormaStore.put",
        lambda w, namespace, key, value, index, ttl: w.store.put(
            namespace, key, value, index, ttl=ttl
        ),
        namespace=NAMESPACE,
        key=KEY,
        value=VALUE,
        index=INDEX,
        ttl=TTL,
    ),
    entry(
        "SoormaStore.aput",
        lambda w, namespace, key, value, index: w.store.aput(namespace, key, value, index),
        namespace=NAMESPACE,
        key=KEY,
        value=VALUE,
        index=INDEX,
    ),
    entry(
        "SoormaStore.get",
        lambda w, namespace, key, refresh: w.store.get(namespace, key, refresh_ttl=refresh),
        namespace=NAMESPACE,
        key=KEY,
        refresh=optional(Slot(st.booleans(), anything)),
    ),
    entry(
        "SoormaStore.aget",
        lambda w, namespace, key: w.store.aget(namespace, key),
        namespace=NAMESPACE,
        key=KEY,
    ),
    entry(
        "SoormaStore.delete",
        lambda w, namespace, key: w.store.delete(namespace, key),
        namespace=NAMESPACE,
        key=Slot(st.sampled_from(["a", "new"]), KEY.hostile),
    ),
    entry(
        "SoormaStore.adelete",
        lambda w, namespace, key: w.store.adelete(namespace, key),
        namespace=NAMESPACE,
        key=Slot(st.sampled_from(["a", "new"]), KEY.hostile),
    ),
    entry(
        "SoormaStore.search",
        lambda w, prefix, query, filter, limit, offset: w.store.search(
            prefix, query=query, filter=filter, limit=limit, offset=offset
        ),
        prefix=Slot(st.sampled_from([(), ("docs",)]), NAMESPACE.hostile),
        query=QUERY,
        filter=FILTER,
        limit=PAGE,
        offset=PAGE,
    ),
    entry(
        "SoormaStore.asearch",
        lambda w, prefix, query, filter: w.store.asearch(prefix, query=query, filter=filter),
        prefix=Slot(st.sampled_from([(), ("docs",)]), NAMESPACE.hostile),
        query=QUERY,
        filter=FILTER,
    ),
    entry(
        "SoormaStore.list_namespaces",
        lambda w, prefix, suffix, depth, limit, offset: w.store.list_namespaces(
            prefix=prefix, suffix=suffix, max_depth=depth, limit=limit, offset=offset
        ),
        prefix=optional(NAMESPACE),
        suffix=optional(NAMESPACE),
        depth=optional(counts(1, 2)),
        limit=PAGE,
        offset=PAGE,
    ),
    entry(
        "SoormaStore.alist_namespaces",
        lambda w, prefix, depth: w.store.alist_namespaces(prefix=prefix, max_depth=depth),
        prefix=optional(NAMESPACE),
        depth=optional(counts(1, 2)),
    ),
    entry("SoormaStore.batch", lambda w, ops: w.store.batch(ops), ops=sequences(OP)),
    entry("SoormaStore.abatch", lambda w, ops: w.store.abatch(ops), ops=sequences(OP)),
    entry("SoormaStore.sweep_ttl", lambda w, _: w.store.sweep_ttl(), _=valid(st.none())),
    entry("SoormaStore.asweep_ttl", lambda w, _: w.store.asweep_ttl(), _=valid(st.none())),
]


@hostile_settings(15)
@pytest.mark.parametrize("entry_point", ENTRY_POINTS, ids=str)
@given(data=st.data())
def test_hostile_arguments(world: World, entry_point: EntryPoint, data: st.DataObject) -> None:
    result = probe_entry_point(entry_point, world, data, world.state, world.loop)
    if isinstance(result, SoormaStore) and result is not world.store:
        result.close()


def test_every_public_entry_point_is_probed() -> None:
    probed = {e.name for e in ENTRY_POINTS}
    for name in ("put", "get", "delete", "search", "list_namespaces", "batch", "sweep_ttl"):
        assert {f"SoormaStore.{name}", f"SoormaStore.a{name}"} <= probed, name
    public = {n for n in vars(BaseStore) if not n.startswith("_")} - {"supports_ttl", "ttl_config"}
    for name in public:
        assert f"SoormaStore.{name}" in probed, f"SoormaStore.{name} is not probed"
