"""SoormaStore TTL: expiry in minutes, refresh on read, TTLConfig defaults, sweeping.

A controllable clock drives expiry, so no test waits for time to pass (except the background
sweeper test, which polls with a bounded timeout).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import redis

from soorma_lc.backends.chroma import chroma_client
from soorma_lc.config import Settings
from soorma_lc.memory.store import SoormaStore
from soorma_lc.memory.store.vectors import collection_name
from tests.store_helpers import index_config

NS = ("memories", "u1")


class Clock:
    """Epoch seconds that move only when told to."""

    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += minutes * 60


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_store(settings: Settings, clock: Clock) -> Iterator[Callable[..., SoormaStore]]:
    stores: list[SoormaStore] = []

    def make(**options: object) -> SoormaStore:
        store = SoormaStore.from_url(
            settings.redis_url or "",
            index=index_config(),
            chroma=chroma_client(settings),
            clock=clock,
            **options,  # type: ignore[arg-type]
        )
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


def item_keys(client: redis.Redis) -> list[bytes]:
    return client.keys("soorma:store:*:i:*")


def test_items_expire_unless_reads_refresh_them(make_store, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store()
    store.put(NS, "short", {"text": "apple"}, ttl=1)
    store.put(NS, "forever", {"text": "apple"})
    clock.advance(0.9)
    assert store.get(NS, "short") is not None  # refreshes: expires at +1.9
    clock.advance(0.9)
    assert store.get(NS, "short", refresh_ttl=False) is not None  # does not refresh
    clock.advance(0.2)
    assert store.get(NS, "short") is None
    assert [i.key for i in store.search(NS, query="apple")] == ["forever"]
    assert [i.key for i in store.search(NS)] == ["forever"]
    clock.advance(10_000)
    assert store.get(NS, "forever") is not None


async def test_search_refreshes_ttl_unless_told_not_to(make_store, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store()
    await store.aput(NS, "a", {"text": "banana"}, ttl=1)
    clock.advance(0.9)
    assert [i.key for i in await store.asearch(NS, query="banana")] == ["a"]  # refreshed
    clock.advance(0.9)
    assert [i.key for i in await store.asearch(NS, refresh_ttl=False)] == ["a"]
    clock.advance(0.2)
    assert await store.asearch(NS, query="banana") == []


def test_ttl_config_default_and_refresh_on_read(make_store, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store(ttl={"default_ttl": 2, "refresh_on_read": False})
    store.put(NS, "default", {"text": "x"})
    store.put(NS, "explicit-none", {"text": "x"}, ttl=None)
    clock.advance(1.5)
    assert store.get(NS, "default") is not None  # no refresh by default
    clock.advance(1)
    assert store.get(NS, "default") is None
    assert store.get(NS, "explicit-none") is not None


def test_rewrite_replaces_the_ttl_and_keeps_created_at(make_store, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store()
    store.put(NS, "k", {"v": 1}, ttl=1)
    first = store.get(NS, "k")
    clock.advance(0.5)
    store.put(NS, "k", {"v": 2})  # no ttl any more
    second = store.get(NS, "k")
    assert second.value == {"v": 2}
    assert second.created_at == first.created_at and second.updated_at > first.updated_at
    clock.advance(60)
    assert store.get(NS, "k") is not None


def test_expired_item_rewritten_is_new(make_store, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store()
    store.put(NS, "k", {"v": 1}, ttl=1)
    created = store.get(NS, "k").created_at
    clock.advance(2)
    store.put(NS, "k", {"v": 2}, ttl=1)
    assert store.get(NS, "k").created_at > created


def test_sweep_deletes_items_and_vectors(
    make_store, clock: Clock, settings: Settings, redis_client
) -> None:  # type: ignore[no-untyped-def]
    store = make_store()
    for n in range(5):
        store.put(NS, f"k{n}", {"text": f"cherry {n}"}, ttl=1 if n < 3 else None)
    collection = chroma_client(settings).get_collection(collection_name(store.tenant_id))
    assert collection.count() == 5
    clock.advance(2)
    assert store.sweep_ttl() == 3
    assert collection.count() == 2
    assert sorted(i.key for i in store.search(NS)) == ["k3", "k4"]
    assert store.sweep_ttl() == 0


def test_namespace_listing_forgets_expired_namespaces(
    make_store, clock: Clock, redis_client
) -> None:  # type: ignore[no-untyped-def]
    store = make_store()
    store.put(("temp",), "k", {"v": 1}, ttl=1)
    store.put(("kept",), "k", {"v": 1})
    assert store.list_namespaces() == [("kept",), ("temp",)]
    clock.advance(2)
    assert store.list_namespaces() == [("kept",)]
    assert len(item_keys(redis_client)) == 1


def test_background_sweeper(make_store, clock: Clock, redis_client) -> None:  # type: ignore[no-untyped-def]
    store = make_store(ttl={"sweep_interval_minutes": 0.002})
    store.put(NS, "k", {"text": "x"}, ttl=1)
    clock.advance(2)
    deadline = time.monotonic() + 30
    while item_keys(redis_client) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert item_keys(redis_client) == []
