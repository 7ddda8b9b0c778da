"""SoormaStore bad input: typed errors (SoormaError subclasses), raised before any write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langgraph.store.base import (
    GetOp,
    InvalidNamespaceError,
    ListNamespacesOp,
    MatchCondition,
    PutOp,
    SearchOp,
)

from soorma_lc.backends.chroma import chroma_client
from soorma_lc.backends.embeddings import HashingEmbeddings
from soorma_lc.config import Settings
from soorma_lc.errors import (
    BackendUnavailableError,
    ConfigurationError,
    CorruptedDataError,
    EmbeddingError,
    EmbeddingModelMismatchError,
    InvalidEmbeddingError,
    InvalidFilterError,
    InvalidStoreItemError,
    InvalidStoreNamespaceError,
    ScopeError,
    SerializationError,
    SoormaError,
    StoreArgumentTypeError,
    StoreFilterTypeError,
    StoreNamespaceTypeError,
    ValueTooLargeError,
)
from soorma_lc.memory.store import SoormaStore
from tests.store_helpers import DIMS, WordEmbeddings, index_config

NS = ("docs",)
ORIGINAL = {"text": "apple", "n": 1}


@pytest.fixture(scope="module")
def shared_store(
    redis_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SoormaStore]:
    """One store for the bad-input cases (its own tenant and Chroma dir), to keep them fast."""
    chroma_dir = Settings(data_dir=tmp_path_factory.mktemp("errors"))
    store = SoormaStore.from_url(
        redis_server, tenant_id="errors", index=index_config(), chroma=chroma_client(chroma_dir)
    )
    yield store
    store.close()


@pytest.fixture
def store(shared_store: SoormaStore) -> Iterator[SoormaStore]:
    """The shared store holding one item; after the test, that item and nothing else."""
    shared_store.put(NS, "k", ORIGINAL)  # again: other tests' fixtures flush Redis
    yield shared_store
    assert shared_store.get(NS, "k").value == ORIGINAL, "a failed call changed stored data"
    assert shared_store.list_namespaces() == [NS], "a failed call added a namespace"


@pytest.mark.parametrize(
    "namespace", [("a.b",), ("",), ("ok", ""), (1,), ("nul\x00",), ("\ud800",)]
)
async def test_bad_put_namespaces(store: SoormaStore, namespace: tuple[Any, ...]) -> None:
    with pytest.raises(InvalidStoreNamespaceError):
        store.put(namespace, "k", {"v": 1})
    with pytest.raises(InvalidStoreNamespaceError):
        await store.aput(namespace, "k", {"v": 1})
    with pytest.raises(InvalidStoreNamespaceError):
        store.batch([PutOp(namespace, "k", {"v": 1})])
    with pytest.raises(InvalidStoreNamespaceError):
        await store.adelete(namespace, "k")


@pytest.mark.parametrize("namespace", [(), ("langgraph",), ("langgraph", "x")])
async def test_put_refuses_what_langgraph_put_refuses(
    store: SoormaStore, namespace: tuple[str, ...]
) -> None:
    """The empty namespace and the "langgraph" root: LangGraph's own error type, from put only."""
    with pytest.raises(InvalidNamespaceError):
        store.put(namespace, "k", {"v": 1})
    with pytest.raises(InvalidStoreNamespaceError):
        await store.aput(namespace, "k", {"v": 1})
    await store.adelete(namespace, "k")  # deleting is allowed (and finds nothing)
    store.delete(namespace, "k")


@pytest.mark.parametrize("namespace", [(), ("langgraph", "x")])
async def test_batch_accepts_what_langgraph_batch_accepts(
    store: SoormaStore, namespace: tuple[str, ...]
) -> None:
    """Only put/aput reserve the "langgraph" root and refuse (); batch takes both, as LangGraph."""
    value = {"text": "quince", "n": 2}
    await store.abatch([PutOp(namespace, "k", value)])
    assert store.get(namespace, "k").value == value  # type: ignore[union-attr]
    assert [hit.value for hit in store.search(namespace, query="quince")][:1] == [value]
    assert namespace in store.list_namespaces()
    store.delete(namespace, "k")
    assert store.batch([GetOp(namespace, "k")]) == [None]
    assert store.list_namespaces() == [NS]


@pytest.mark.parametrize("namespace", [["docs"], "docs", None, 7])
async def test_namespaces_must_be_tuples(store: SoormaStore, namespace: Any) -> None:
    """A list, a bare string (("docs") without its comma) or None: a TypeError, and LangGraph's
    namespace error, from every entry point (LangGraph would store "docs" as ("d", "o", ...))."""
    calls = [
        lambda: store.put(namespace, "k", {"v": 1}),
        lambda: store.get(namespace, "k"),
        lambda: store.search(namespace),
        lambda: store.delete(namespace, "k"),
        lambda: store.batch([PutOp(namespace, "k", {"v": 1})]),
        lambda: store.batch([SearchOp(namespace)]),
    ]
    for call in calls:
        with pytest.raises(StoreNamespaceTypeError) as caught:
            call()
        assert isinstance(caught.value, TypeError) and isinstance(
            caught.value, InvalidNamespaceError
        )
    with pytest.raises(StoreNamespaceTypeError):
        await store.aget(namespace, "k")


async def test_list_namespaces_paths_are_tuples_or_lists(store: SoormaStore) -> None:
    assert store.list_namespaces(prefix=["docs"], suffix=["docs"]) == [NS]
    for path in ("docs", 7):
        with pytest.raises(StoreNamespaceTypeError, match="prefix"):
            await store.alist_namespaces(prefix=path)  # type: ignore[arg-type]
        with pytest.raises(StoreNamespaceTypeError, match="suffix"):
            store.list_namespaces(suffix=path)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (["not", "a", "mapping"], StoreArgumentTypeError),
        ("text", StoreArgumentTypeError),
        ([("pairs", 1)], StoreArgumentTypeError),
        ({1: "non-string key"}, StoreArgumentTypeError),
        ({"set": {1, 2}}, SerializationError),
        ({"nan": float("nan")}, SerializationError),
        ({"obj": object()}, SerializationError),
    ],
)
def test_bad_values_change_nothing(store: SoormaStore, value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        store.put(NS, "k", value)


@pytest.mark.parametrize(
    ("ttl", "error"),
    [
        (0, InvalidStoreItemError),
        (-1, InvalidStoreItemError),
        (float("inf"), InvalidStoreItemError),
        (float("nan"), InvalidStoreItemError),
        ("5", StoreArgumentTypeError),
        (True, StoreArgumentTypeError),
    ],
)
def test_bad_ttl(store: SoormaStore, ttl: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        store.put(NS, "k", {"v": 2}, ttl=ttl)


def test_bad_keys_and_index_specs(store: SoormaStore) -> None:
    with pytest.raises(StoreArgumentTypeError):
        store.batch([PutOp(NS, 7, {"v": 2})])  # type: ignore[arg-type]
    with pytest.raises(StoreArgumentTypeError):
        store.batch([GetOp(NS, None)])  # type: ignore[arg-type]
    with pytest.raises(InvalidStoreItemError):
        store.put(NS, "\ud800", {"v": 2})
    for index in ("text", True, ["text", 2]):
        with pytest.raises(StoreArgumentTypeError):
            store.put(NS, "k", {"v": 2}, index=index)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("filter", "error"),
    [
        ({"n": {"$regex": "a.*"}}, InvalidFilterError),
        ({"n": {"$in": [1, 2]}}, InvalidFilterError),
        ({"nested": {"deep": {"$nope": 1}}}, InvalidFilterError),
        ({"n": {"$gt": "5"}}, StoreFilterTypeError),
        ({"n": {"$lte": None}}, StoreFilterTypeError),
        ({"n": {"$gt": True}}, StoreFilterTypeError),
        (["n", 1], StoreFilterTypeError),
        ({1: "one"}, StoreFilterTypeError),
    ],
)
async def test_bad_filters(store: SoormaStore, filter: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        store.search(NS, filter=filter)
    with pytest.raises(error):
        await store.asearch(NS, query="apple", filter=filter)


def test_bad_paging_and_listing(store: SoormaStore) -> None:
    with pytest.raises(InvalidStoreItemError):
        store.search(NS, limit=-1)
    with pytest.raises(InvalidStoreItemError):
        store.search(NS, offset=-2)
    with pytest.raises(StoreArgumentTypeError):
        store.search(NS, limit="2")  # type: ignore[arg-type]
    with pytest.raises(InvalidStoreItemError):
        store.list_namespaces(max_depth=0)
    with pytest.raises(StoreArgumentTypeError):
        store.list_namespaces(max_depth=1.5)  # type: ignore[arg-type]
    with pytest.raises(StoreArgumentTypeError):
        store.search(NS, query=3)  # type: ignore[arg-type]
    with pytest.raises(InvalidStoreItemError):
        store.batch([ListNamespacesOp((MatchCondition("middle", ("a",)),))])  # type: ignore[arg-type]
    with pytest.raises(StoreArgumentTypeError):
        store.batch([ListNamespacesOp((("prefix", ("a",)),))])  # type: ignore[arg-type]
    with pytest.raises(StoreNamespaceTypeError):
        store.batch([ListNamespacesOp((MatchCondition("prefix", None),))])  # type: ignore[arg-type]
    with pytest.raises(InvalidStoreItemError):
        store.batch([("not", "an", "op")])  # type: ignore[list-item]
    with pytest.raises(StoreArgumentTypeError):
        store.batch(None)  # type: ignore[arg-type]


def test_a_bad_op_anywhere_in_a_batch_writes_nothing(store: SoormaStore) -> None:
    ops = [
        PutOp(NS, "k", {"text": "changed"}),
        PutOp(("fresh",), "new", {"v": 1}),
        SearchOp(NS, filter={"n": {"$bogus": 1}}),
    ]
    with pytest.raises(InvalidFilterError):
        store.batch(ops)


def test_errors_are_soorma_errors_and_value_errors() -> None:
    for error in (InvalidStoreNamespaceError, InvalidStoreItemError, InvalidFilterError):
        assert issubclass(error, SoormaError) and issubclass(error, ValueError)
    assert issubclass(InvalidStoreNamespaceError, InvalidNamespaceError)
    for error in (StoreArgumentTypeError, StoreFilterTypeError, StoreNamespaceTypeError):
        assert issubclass(error, SoormaError) and issubclass(error, ValueError | TypeError)
        assert issubclass(error, TypeError) and issubclass(error, ValueError)
    assert issubclass(StoreNamespaceTypeError, InvalidNamespaceError)
    assert issubclass(InvalidEmbeddingError, EmbeddingError) and issubclass(
        InvalidEmbeddingError, ValueError
    )


def test_scope_must_be_given(settings: Settings) -> None:
    with pytest.raises(ScopeError):
        SoormaStore.from_url(settings.redis_url or "", tenant_id="")
    with pytest.raises(ScopeError):
        SoormaStore.from_url(settings.redis_url or "", user_id="")


def test_bad_configuration(settings: Settings) -> None:
    with pytest.raises(ConfigurationError):
        SoormaStore.from_url("http://localhost:6379")
    with pytest.raises(InvalidStoreItemError):
        SoormaStore.from_url(settings.redis_url or "", ttl={"default_ttl": -5})
    with pytest.raises(InvalidStoreItemError):
        SoormaStore.from_url(settings.redis_url or "", index={"dims": 3})  # type: ignore[typeddict-item]


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"ttl": ["default_ttl", 5]}, StoreArgumentTypeError),
        ({"ttl": {"default_ttl": "5"}}, StoreArgumentTypeError),
        ({"ttl": {"sweep_interval_minutes": 0}}, InvalidStoreItemError),
        ({"ttl": {"refresh_on_read": "yes"}}, StoreArgumentTypeError),
        ({"index": True}, StoreArgumentTypeError),
        ({"index": {**index_config(), "fields": "text"}}, StoreArgumentTypeError),
        ({"index": {**index_config(), "fields": ["text", 1]}}, StoreArgumentTypeError),
        ({"index": {**index_config(), "dims": "33"}}, StoreArgumentTypeError),
        ({"index": {**index_config(), "dims": 0}}, InvalidStoreItemError),
        ({"index": {**index_config(), "embed": 5}}, StoreArgumentTypeError),
    ],
)
def test_bad_store_configuration(
    settings: Settings, options: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        SoormaStore(settings.redis_url or "", chroma=chroma_client(settings), **options)


def test_another_embedding_model_is_refused(settings: Settings) -> None:
    first = SoormaStore.from_settings(settings, index=index_config())
    other = SoormaStore.from_url(
        settings.redis_url or "",
        index={"dims": 64, "embed": HashingEmbeddings(64)},
        chroma=chroma_client(settings),
    )
    try:
        first.put(NS, "k", ORIGINAL)
        with pytest.raises(EmbeddingModelMismatchError):
            other.put(NS, "k", {"text": "banana"})
        with pytest.raises(EmbeddingModelMismatchError):
            other.search(NS, query="apple")
        assert [hit.value for hit in first.search(NS, query="apple")] == [ORIGINAL]
    finally:
        other.close()
        first.close()


class BrokenEmbeddings(WordEmbeddings):
    model_id = "tests-broken"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return super().embed_documents(texts)[:-1]


@pytest.mark.parametrize(
    "index",
    [
        {"dims": DIMS + 1, "embed": WordEmbeddings(), "fields": ["text"]},
        {"dims": DIMS, "embed": BrokenEmbeddings(), "fields": ["text"]},
        {"dims": DIMS, "embed": lambda texts: [[0.0] * DIMS for _ in texts], "fields": ["text"]},
    ],
)
def test_bad_embeddings_write_nothing(settings: Settings, index: Any) -> None:
    store = SoormaStore.from_url(
        settings.redis_url or "", index=index, chroma=chroma_client(settings)
    )
    try:
        with pytest.raises(InvalidEmbeddingError):
            store.put(NS, "k", {"text": "apple"})
        assert store.get(NS, "k") is None
    finally:
        store.close()


async def test_unreachable_redis_is_a_typed_error() -> None:
    store = SoormaStore.from_url("redis://127.0.0.1:1/0")
    try:
        with pytest.raises(BackendUnavailableError):
            store.get(NS, "k")
        with pytest.raises(BackendUnavailableError):
            await store.aput(NS, "k", {"v": 1})
    finally:
        await store.aclose()


class CountingWordEmbeddings(WordEmbeddings):
    """Word embeddings that count the texts they embed."""

    def __init__(self) -> None:
        self.embedded = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return super().embed_documents(texts)


def test_a_20_mb_value_is_refused_before_anything_is_embedded(settings: Settings) -> None:
    embeddings = CountingWordEmbeddings()
    index = {"dims": DIMS, "embed": embeddings, "fields": ["text"]}
    store = SoormaStore.from_url(
        settings.redis_url or "", index=index, chroma=chroma_client(settings)
    )
    try:
        with pytest.raises(ValueTooLargeError) as caught:
            store.put(NS, "k", {"text": "word " * 4_000_000})
        assert caught.value.limit == 1024 * 1024 and embeddings.embedded == 0
        assert store.get(NS, "k") is None
    finally:
        store.close()


def test_the_value_limit_is_an_option(settings: Settings) -> None:
    store = SoormaStore.from_url(settings.redis_url or "", max_value_bytes=100)
    try:
        store.put(NS, "small", {"v": "x" * 50})
        with pytest.raises(ValueTooLargeError):
            store.put(NS, "big", {"v": "x" * 100})
    finally:
        store.close()
    for bad in (0, "100", 1.5, True):
        with pytest.raises(InvalidStoreItemError):
            SoormaStore.from_url(settings.redis_url or "", max_value_bytes=bad)


@pytest.mark.parametrize(
    "scope",
    [
        {"tenant_id": "t\x00"},
        {"tenant_id": "\ud800"},
        {"tenant_id": "t" * 513},
        {"tenant_id": 5},
        {"user_id": "u\n"},
        {"user_id": b"u"},
    ],
)
def test_scope_ids_follow_the_memory_id_rule(settings: Settings, scope: dict[str, Any]) -> None:
    with pytest.raises(ScopeError):
        SoormaStore.from_url(settings.redis_url or "", **scope)


def test_a_sync_redis_client_is_refused(redis_client: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"redis\.asyncio"):
        SoormaStore(redis_client)


def test_data_changed_outside_raises_corrupted_data(settings: Settings, redis_client: Any) -> None:
    store = SoormaStore.from_url(settings.redis_url or "", tenant_id="corrupt")
    try:
        store.put(NS, "good", ORIGINAL)
        store.put(NS, "bad", ORIGINAL, ttl=5)
        (items,) = redis_client.keys("soorma:store:*:i:*")
        (namespaces,) = redis_client.keys("soorma:store:*:ns")
        (expiry,) = redis_client.keys("soorma:store:*:exp")
        redis_client.hset(items, "bad", b"\xff not json")
        before = {key: redis_client.dump(key) for key in redis_client.keys("*")}
        for call in (
            lambda: store.get(NS, "bad"),
            lambda: store.search(NS),
        ):
            with pytest.raises(CorruptedDataError):
                call()
        redis_client.hset(items, b"\xff", b"{}")
        with pytest.raises(CorruptedDataError):
            store.search(NS)
        redis_client.hdel(items, b"\xff")
        redis_client.zadd(namespaces, {"not hex/": 0})
        with pytest.raises(CorruptedDataError):
            store.list_namespaces()
        redis_client.zrem(namespaces, "not hex/")
        redis_client.zadd(expiry, {"zz|zz": 0})
        with pytest.raises(CorruptedDataError):
            store.sweep_ttl()
        redis_client.zrem(expiry, "zz|zz")
        assert {key: redis_client.dump(key) for key in redis_client.keys("*")} == before
        assert store.get(NS, "good").value == ORIGINAL
    finally:
        store.close()


def test_a_put_or_delete_repairs_an_item_changed_outside(
    settings: Settings, redis_client: Any
) -> None:
    store = SoormaStore.from_url(settings.redis_url or "", tenant_id="repair")
    try:
        store.put(NS, "bad", ORIGINAL)
        store.put(NS, "gone", ORIGINAL)
        (items,) = redis_client.keys("soorma:store:*:i:*")
        redis_client.hset(items, mapping={"bad": b"\xff not json", "gone": b"{}"})
        store.put(NS, "bad", {"text": "fixed"})
        assert store.get(NS, "bad").value == {"text": "fixed"}
        store.delete(NS, "gone")
        assert store.get(NS, "gone") is None
    finally:
        store.close()
