"""SoormaStore against LangGraph's InMemoryStore on the same seeded sequences of operations.

Every step applies one operation (put, delete, get, search with or without query and filter,
list_namespaces with prefix/suffix/wildcards/max_depth, or a mixed batch) to both stores, half
through the sync API and half through the async one, and compares the results: values, the
ranking and scores of semantic search (ties may come in either order), pagination.
The documented differences are normalised on the reference side: searches without a query,
and unscored items after the scored ones, are listed by (namespace, key); ``ReferenceStore``
drops InMemoryStore's stale-vector and empty-namespace quirks.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langgraph.store.base import GetOp, PutOp, SearchItem
from langgraph.store.memory import _compare_values

from soorma_lc.config import Settings
from soorma_lc.memory.store import SoormaStore
from soorma_lc.memory.store.filters import matches
from tests.store_helpers import ReferenceStore, index_config

WORDS = ["apple", "banana", "cherry", "delta", "echo", "fox", "golf", "hotel", "india"]
NAMESPACES = [
    ("a",),
    ("a", "x"),
    ("a", "y"),
    ("a", "x", "1"),
    ("b",),
    ("b", "x"),
    ("c", "d", "x"),
    ("ünï", "c\u00f6de|/:{}"),
]
KEYS = ["k0", "k1", "k2", "k3", "ключ", "k|/{x}", ""]
# No per-put ["$"]: InMemoryStore embeds nothing for it (only its config honours "$").
INDEXES: list[Any] = [None, None, None, False, ["tag"], ["text", "tag"], ["lst[*]"], ["nested"]]
FULL = 10_000
RANGE = {"$gt", "$gte", "$lt", "$lte"}


def random_value(rng: random.Random) -> dict[str, Any]:
    # "n" and "ratio" are always there: InMemoryStore crashes on $gt over a missing field.
    value: dict[str, Any] = {
        "n": rng.randint(0, 9),
        "ratio": rng.choice([0.5, 1.5, 2.0]),
        "tag": rng.choice(["red", "blue", "green"]),
    }
    if rng.random() < 0.85:
        value["text"] = " ".join(rng.choices(WORDS, k=rng.randint(1, 3)))
    if rng.random() < 0.5:
        value["nested"] = {"k": rng.choice([1, 2]), "deep": {"z": rng.choice(["p", "q"])}}
    if rng.random() < 0.5:
        # distinct elements: InMemoryStore miscounts vectors when one item repeats a text
        value["lst"] = rng.sample([0, 1, 2], rng.randint(0, 3))
    return value


def random_filter(rng: random.Random) -> dict[str, Any] | None:
    options: list[dict[str, Any] | None] = [
        None,
        None,
        {"tag": rng.choice(["red", "blue"])},
        {"n": {"$gte": rng.randint(0, 9)}},
        {"n": {"$gt": rng.randint(0, 5), "$lte": rng.randint(4, 9)}},
        {"n": {"$lt": rng.randint(1, 9)}, "tag": {"$ne": "green"}},
        {"n": {"$eq": rng.randint(0, 9)}},
        {"nested": {"k": rng.choice([1, 2])}},
        {"nested": {"deep": {"z": "p"}}},
        {"lst": [rng.randint(0, 2), rng.randint(0, 2)]},
        {"ratio": {"$gte": 1}},
        {"text": {"$eq": "apple"}},
        {"missing": None},
    ]
    return rng.choice(options)


def random_pattern(rng: random.Random) -> tuple[str, ...]:
    namespace = rng.choice(NAMESPACES)
    length = rng.randint(1, len(namespace))
    pattern = list(namespace[:length])
    if rng.random() < 0.3:
        pattern[rng.randrange(length)] = "*"
    return tuple(pattern)


def key_of(item: Any) -> tuple[tuple[str, ...], str]:
    return (tuple(item.namespace), item.key)


def expected_search(reference: ReferenceStore, prefix, query, filter) -> list[SearchItem]:  # type: ignore[no-untyped-def]
    """The reference ranking with our documented order for unscored items."""
    full = reference.search(prefix, query=query, filter=filter, limit=FULL)
    scored = [item for item in full if item.score is not None]
    unscored = sorted((item for item in full if item.score is None), key=key_of)
    return scored + unscored


def assert_same_page(mine: list[SearchItem], full: list[SearchItem], offset: int, limit: int):  # type: ignore[no-untyped-def]
    page = full[offset : offset + limit]
    by_key = {key_of(item): item for item in full}
    assert len(mine) == len(page), (mine, page)
    assert len({key_of(item) for item in mine}) == len(mine)
    for got, want in zip(mine, page, strict=True):
        reference = by_key.get(key_of(got))
        assert reference is not None, got
        assert got.value == reference.value
        if want.score is None:
            assert got.score is None and key_of(got) == key_of(want)
        else:  # a tie may swap places: the score at each rank and the item's own score agree
            assert got.score == pytest.approx(want.score, abs=1e-4)
            assert got.score == pytest.approx(reference.score, abs=1e-4)


def assert_same_item(mine: Any, theirs: Any) -> None:
    if theirs is None:
        assert mine is None
    else:
        assert mine is not None and key_of(mine) == key_of(theirs) and mine.value == theirs.value


async def run_script(store: SoormaStore, reference: ReferenceStore, seed: int, steps: int) -> None:
    rng = random.Random(seed)
    for step in range(steps):
        use_async = rng.random() < 0.5
        roll = rng.random()
        if roll < 0.38:  # put
            namespace, key = rng.choice(NAMESPACES), rng.choice(KEYS)
            value, index = random_value(rng), rng.choice(INDEXES)
            reference.put(namespace, key, value, index=index)
            if use_async:
                await store.aput(namespace, key, value, index=index)
            else:
                store.put(namespace, key, value, index=index)
        elif roll < 0.46:  # delete
            namespace, key = rng.choice(NAMESPACES), rng.choice(KEYS)
            reference.delete(namespace, key)
            await store.adelete(namespace, key) if use_async else store.delete(namespace, key)
        elif roll < 0.58:  # get
            namespace, key = rng.choice(NAMESPACES), rng.choice(KEYS)
            mine = await store.aget(namespace, key) if use_async else store.get(namespace, key)
            assert_same_item(mine, reference.get(namespace, key))
        elif roll < 0.84:  # search
            namespace = rng.choice(NAMESPACES)
            prefix = namespace[: rng.randint(0, len(namespace))]
            query = (
                " ".join(rng.choices(WORDS, k=rng.randint(1, 2))) if rng.random() < 0.6 else None
            )
            filter = random_filter(rng)
            limit, offset = rng.choice([1, 3, 10, 50]), rng.choice([0, 0, 1, 4])
            kwargs = {"query": query, "filter": filter, "limit": limit, "offset": offset}
            mine = (
                await store.asearch(prefix, **kwargs)
                if use_async
                else store.search(prefix, **kwargs)
            )
            assert_same_page(mine, expected_search(reference, prefix, query, filter), offset, limit)
        elif roll < 0.95:  # list namespaces
            kwargs = {
                "prefix": random_pattern(rng) if rng.random() < 0.5 else None,
                "suffix": random_pattern(rng)[-1:] if rng.random() < 0.3 else None,
                "max_depth": rng.choice([None, None, 1, 2]),
                "limit": rng.choice([100, 2]),
                "offset": rng.choice([0, 0, 1]),
            }
            mine = (
                await store.alist_namespaces(**kwargs)
                if use_async
                else store.list_namespaces(**kwargs)
            )
            assert mine == reference.list_namespaces(**kwargs), (step, kwargs)
        else:  # a batch: reads see the state before the batch's writes, last write wins
            ops: list[Any] = []
            for _ in range(rng.randint(2, 5)):
                namespace, key = rng.choice(NAMESPACES[:3]), rng.choice(KEYS[:3])
                choice = rng.random()
                if choice < 0.4:
                    ops.append(GetOp(namespace, key))
                elif choice < 0.8:
                    # unindexed: InMemoryStore miscounts vectors when two puts share a text
                    ops.append(PutOp(namespace, key, random_value(rng), index=False))
                else:
                    ops.append(PutOp(namespace, key, None))
            theirs = reference.batch(ops)
            mine = await store.abatch(ops) if use_async else store.batch(ops)
            for got, want in zip(mine, theirs, strict=True):
                assert_same_item(got, want)


@pytest.fixture
def stores(settings: Settings):  # type: ignore[no-untyped-def]
    store = SoormaStore.from_settings(settings, index=index_config())
    yield store, ReferenceStore(index=index_config())
    store.close()


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_same_results_as_in_memory_store(stores, seed: int) -> None:  # type: ignore[no-untyped-def]
    store, reference = stores
    await run_script(store, reference, seed, steps=220)


async def test_whole_value_index_and_many_vectors_per_item(settings: Settings) -> None:
    """fields=["$"] embeds whole values; "lst[*]"-style paths give an item several vectors."""
    config = index_config(fields=["$"])
    store = SoormaStore.from_settings(settings, index=config)
    try:
        await run_script(store, ReferenceStore(index=config), seed=11, steps=120)
    finally:
        store.close()


async def test_store_without_index_matches(settings: Settings) -> None:
    """No index: a query is ignored and searches list items by namespace then key."""
    store = SoormaStore.from_settings(settings, index=False)
    try:
        await run_script(store, ReferenceStore(), seed=21, steps=150)
    finally:
        store.close()


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.5, 1.0, 2.5]),
    st.sampled_from(["a", "b"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["x", "y"]), inner, max_size=2)
    ),
    max_leaves=6,
)
equality_conditions = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["x", "y"]), inner, max_size=2)
    ),
    max_leaves=5,
)
operator_conditions = st.dictionaries(
    st.sampled_from(["$eq", "$ne"]), json_values, min_size=1, max_size=2
) | st.dictionaries(
    st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), st.integers(-3, 3), min_size=1, max_size=2
)


@settings(max_examples=400, deadline=None)
@given(
    value=st.dictionaries(st.sampled_from(["x", "y", "z"]), json_values, max_size=3),
    filter=st.dictionaries(
        st.sampled_from(["x", "y", "z"]), equality_conditions | operator_conditions, max_size=2
    ),
)
def test_filter_semantics_match_in_memory_store(
    value: dict[str, Any], filter: dict[str, Any]
) -> None:
    """Where InMemoryStore answers at all (it crashes on range operators over non-numbers),
    our matcher gives the same answer; where it crashes, ours says "no match"."""
    try:
        expected = all(_compare_values(value.get(k), v) for k, v in filter.items())
    except (TypeError, ValueError):
        assert not matches(value, filter)
        return
    if any(
        isinstance(value.get(field), bool)
        and isinstance(condition, dict)
        and RANGE & condition.keys()
        for field, condition in filter.items()
    ):
        return  # InMemoryStore compares booleans as numbers (True > 0); we do not
    assert matches(value, filter) == expected
