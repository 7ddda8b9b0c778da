"""SoormaStore against LangGraph's InMemoryStore on the same probes: valid and invalid input.

Each probe is one call (put, get, delete, search, list_namespaces) made four ways: through the
public sync and async methods, which run LangGraph's own checks (``BaseStore``), and through
``batch``/``abatch`` with the op those methods would build, which skip them. Raw probes send
ops straight to ``batch``/``abatch``. Both stores start from the same items; each call must end
the same way: the same result, or an exception of the same LangGraph/builtin type (ours also a
``SoormaError``), and afterwards both stores hold the same items and vectors.

Where SoormaStore deliberately differs (``Difference``, one row each of the table in
examples/store/README.md), the probe asserts that SoormaStore raises the documented types
(always a ``SoormaError``), that the reference really behaves otherwise (so no row outlives
its reason), and that nothing was written. InMemoryStore has no TTL (``put(ttl=...)`` raises
``NotImplementedError``); the reference here accepts and ignores ttl so that ttl validation
can be compared (expiry itself is tested in test_store_ttl.py).
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from langgraph.store.base import (
    BaseStore,
    GetOp,
    InvalidNamespaceError,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    SearchItem,
    SearchOp,
)
from langgraph.store.memory import InMemoryStore

from soorma_lc.backends.chroma import chroma_client
from soorma_lc.config import Settings
from soorma_lc.errors import SoormaError
from soorma_lc.memory.store import SoormaStore
from tests.store_helpers import DIMS, ReferenceStore, WordEmbeddings, index_config

README = Path(__file__).resolve().parents[1] / "examples" / "store" / "README.md"


@dataclass(frozen=True)
class Difference:
    """A documented way SoormaStore differs: ``row`` names its README table row; ``raises``
    are the types its error is an instance of (empty: it succeeds where InMemoryStore fails)."""

    row: str
    raises: tuple[type[Exception], ...]


LABEL_IN_BATCH = Difference("Bad namespace labels in `batch`", (InvalidNamespaceError,))
UNENCODABLE_LABEL = Difference("Labels that are not valid Unicode", (InvalidNamespaceError,))
UNENCODABLE_TEXT = Difference("Keys and queries that are not valid Unicode", (ValueError,))
NOT_A_TUPLE = Difference("A namespace that is not a tuple", (InvalidNamespaceError, TypeError))
KEY_NOT_STR = Difference("Keys that are not strings in `batch`", (TypeError, ValueError))
VALUE_NOT_OBJECT = Difference(
    "Values that are not mappings with string keys", (TypeError, ValueError)
)
VALUE_NOT_JSON = Difference("Values JSON cannot hold", (TypeError,))
TTL_RANGE = Difference("`ttl` that is not a positive number of minutes", (ValueError,))
TTL_TYPE = Difference("`ttl` that is not a number", (TypeError, ValueError))
INDEX_STR = Difference("`index` given as one string", (TypeError, ValueError))
PAGE_RANGE = Difference("Negative `limit`/`offset`, `max_depth` below 1", (ValueError,))
BOOL_NUMBER = Difference(
    "`True`/`False` as `limit`, `offset` or `max_depth`", (TypeError, ValueError)
)
CHECKED_FIRST = Difference("Malformed filters and match conditions", (ValueError,))
NUMBER_LIKE = Difference("Range operands that are not numbers", (TypeError, ValueError))
FILTER_SHAPE = Difference(
    "Filters that are not mappings with string fields", (TypeError, ValueError)
)
RANGE_ON_MISSING = Difference("Range operators on missing or non-numeric fields", ())
QUERY_NOT_STR = Difference("A `query` that is not a string", (TypeError, ValueError))
CONFIG_TYPES = Difference("`IndexConfig` entries of the wrong type", (TypeError, ValueError))
CONFIG_DIMS = Difference("`IndexConfig` `dims` below 1", (ValueError,))
BAD_VECTORS = Difference("Vectors of the wrong size, or all zeros", (ValueError,))
OVER_LIMITS = Difference("Sizes over the store's limits", (ValueError,))

PUBLIC = ("sync", "async")
RAW = ("batch", "abatch")
ALL = PUBLIC + RAW


@dataclass(frozen=True)
class Probe:
    """One call, by method name and arguments (``method`` None: ``ops`` straight to batch)."""

    id: str
    method: str | None = None
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    ops: Callable[[], Any] | None = None
    differs: dict[str, Difference] = field(default_factory=dict)

    @property
    def flavors(self) -> tuple[str, ...]:
        return ALL if self.method else RAW


def call(
    id: str,
    method: str,
    *args: Any,
    raw: Difference | None = None,
    every: Difference | None = None,
    **kwargs: Any,
) -> Probe:
    """A public-method probe; ``raw``/``every`` document a difference in batch / everywhere."""
    differs = dict.fromkeys(RAW, raw) if raw else dict.fromkeys(ALL, every) if every else {}
    return Probe(id, method, args, kwargs, differs=differs)  # type: ignore[arg-type]


def raw(id: str, ops: Callable[[], Any], differs: Difference | None = None) -> Probe:
    """A probe sending ``ops()`` straight to ``batch``/``abatch``."""
    return Probe(id, ops=ops, differs=dict.fromkeys(RAW, differs) if differs else {})


SEEDS = [
    (("docs",), "a", {"text": "apple pie", "n": 1, "tag": "red"}),
    (("docs",), "b", {"text": "banana bread loaf", "n": 5, "tag": "blue"}),
    (("docs", "old"), "c", {"text": "cherry", "n": 9, "tag": "red"}),
    (("langgraph", "system"), "d", {"text": "delta echo fox golf", "n": 3, "tag": "green"}),
]
V = {"text": "apple crumble", "n": 2, "tag": "red"}
BIG = 1000

PUT = [
    call("new item", "put", ("notes",), "k", V),
    call("overwrite", "put", ("docs",), "a", V),
    call("wildcard label", "put", ("*", "x"), "k", V),
    call("langgraph below the root", "put", ("x", "langgraph"), "k", V),
    call("empty namespace", "put", (), "k", V),
    call("langgraph root", "put", ("langgraph",), "k", V),
    call("langgraph root, existing item", "put", ("langgraph", "system"), "d", V),
    call("label with a period", "put", ("a.b",), "k", V, raw=LABEL_IN_BATCH),
    call("empty label", "put", ("ok", ""), "k", V, raw=LABEL_IN_BATCH),
    call("label not a string", "put", (1,), "k", V, raw=LABEL_IN_BATCH),
    call("label with NUL", "put", ("nul\x00",), "k", V, raw=LABEL_IN_BATCH),
    call("label with a lone surrogate", "put", ("\ud800",), "k", V, every=UNENCODABLE_LABEL),
    call("namespace as a list", "put", ["docs"], "k", V),
    call("namespace as a bare string", "put", "docs", "k", V, every=NOT_A_TUPLE),
    call("namespace None", "put", None, "k", V),
    call("empty key", "put", ("docs",), "", V),
    call("key with NUL", "put", ("docs",), "nul\x00", V),
    call("key not a string", "put", ("docs",), 7, V, raw=KEY_NOT_STR),
    call("key None", "put", ("docs",), None, V, raw=KEY_NOT_STR),
    call("key with a lone surrogate", "put", ("docs",), "\ud800", V, every=UNENCODABLE_TEXT),
    call("empty value", "put", ("docs",), "k", {}),
    call("nested value", "put", ("docs",), "k", {"text": "fig", "deep": {"l": [1, None]}}),
    call("value None deletes", "put", ("docs",), "a", None),
    call("value a string", "put", ("docs",), "k", "text"),
    call("value a number", "put", ("docs",), "k", 5),
    call("value a list", "put", ("docs",), "k", ["a", "b"]),
    call("value a list of pairs", "put", ("docs",), "k", [("a", 1)], every=VALUE_NOT_OBJECT),
    call("value with a non-string key", "put", ("docs",), "k", {1: "x"}, every=VALUE_NOT_OBJECT),
    call("value with a set", "put", ("docs",), "k", {"s": {1, 2}}, every=VALUE_NOT_JSON),
    call("value with NaN", "put", ("docs",), "k", {"f": math.nan}, every=VALUE_NOT_JSON),
    call(
        "value with a nested non-string key",
        "put",
        ("docs",),
        "k",
        {"x": {1: "y"}},
        every=VALUE_NOT_JSON,
    ),
    call(
        "value over 1 MiB",
        "put",
        ("docs",),
        "k",
        {"blob": "x" * (1 << 20)},
        index=False,
        every=OVER_LIMITS,
    ),
    call("namespace of 33 labels", "put", ("n",) * 33, "k", V, every=OVER_LIMITS),
    call("label over 512 characters", "put", ("n" * 513,), "k", V, every=OVER_LIMITS),
    call("key over 1024 characters", "put", ("docs",), "k" * 1025, V, every=OVER_LIMITS),
    call(
        "over 1000 indexed texts",
        "put",
        ("docs",),
        "k",
        {"l": [f"w{i}" for i in range(1001)]},
        index=["l[*]"],
        every=OVER_LIMITS,
    ),
    call("ttl", "put", ("docs",), "k", V, ttl=5),
    call("ttl fraction", "put", ("docs",), "k", V, ttl=0.5),
    call("ttl None", "put", ("docs",), "k", V, ttl=None),
    call("ttl zero", "put", ("docs",), "k", V, ttl=0, every=TTL_RANGE),
    call("ttl negative", "put", ("docs",), "k", V, ttl=-1, every=TTL_RANGE),
    call("ttl infinite", "put", ("docs",), "k", V, ttl=math.inf, every=TTL_RANGE),
    call("ttl NaN", "put", ("docs",), "k", V, ttl=math.nan, every=TTL_RANGE),
    call("ttl a string", "put", ("docs",), "k", V, ttl="5", every=TTL_TYPE),
    call("ttl True", "put", ("docs",), "k", V, ttl=True, every=TTL_TYPE),
    call("index off", "put", ("docs",), "k", V, index=False),
    call("index fields", "put", ("docs",), "k", V, index=["text", "tag"]),
    call("index no fields", "put", ("docs",), "k", V, index=[]),
    call("index tuple", "put", ("docs",), "k", V, index=("tag",)),
    call("index missing path", "put", ("docs",), "k", V, index=["no.such[*].path"]),
    call("index one string", "put", ("docs",), "k", V, index="text", every=INDEX_STR),
    call("index with a number", "put", ("docs",), "k", V, index=["text", 1]),
    call("index True", "put", ("docs",), "k", V, index=True),
]

GET = [
    call("item", "get", ("docs",), "a"),
    call("missing key", "get", ("docs",), "zz"),
    call("empty namespace", "get", (), "a"),
    call("langgraph root", "get", ("langgraph", "system"), "d"),
    call("no refresh", "get", ("docs",), "a", refresh_ttl=False),
    call("label with a period", "get", ("a.b",), "a", raw=LABEL_IN_BATCH),
    call("empty label", "get", ("",), "a", raw=LABEL_IN_BATCH),
    call("label not a string", "get", (1,), "a", raw=LABEL_IN_BATCH),
    call("label with NUL", "get", ("nul\x00",), "a", raw=LABEL_IN_BATCH),
    call("label with a lone surrogate", "get", ("\ud800",), "a", every=UNENCODABLE_LABEL),
    call("namespace as a list", "get", ["docs"], "a"),
    call("namespace as a bare string", "get", "docs", "a", every=NOT_A_TUPLE),
    call("namespace None", "get", None, "a", raw=NOT_A_TUPLE),
    call("key not a string", "get", ("docs",), 7, raw=KEY_NOT_STR),
    call("key with a lone surrogate", "get", ("docs",), "\ud800", every=UNENCODABLE_TEXT),
    call("namespace of 33 labels", "get", ("n",) * 33, "a", every=OVER_LIMITS),
]

DELETE = [
    call("item", "delete", ("docs",), "a"),
    call("missing key", "delete", ("docs",), "zz"),
    call("empty namespace", "delete", (), "a"),
    call("langgraph root", "delete", ("langgraph", "system"), "d"),
    call("label with a period", "delete", ("a.b",), "a", raw=LABEL_IN_BATCH),
    call("label not a string", "delete", (1,), "a", raw=LABEL_IN_BATCH),
    call("namespace as a list", "delete", ["docs"], "a"),
    call("namespace as a bare string", "delete", "docs", "a", every=NOT_A_TUPLE),
    call("namespace None", "delete", None, "a", raw=NOT_A_TUPLE),
    call("key not a string", "delete", ("docs",), 7, raw=KEY_NOT_STR),
]

SEARCH = [
    call("everything", "search", (), limit=BIG),
    call("prefix", "search", ("docs",)),
    call("deeper prefix", "search", ("docs", "old")),
    call("langgraph root", "search", ("langgraph",)),
    call("nothing there", "search", ("nope",)),
    call("query", "search", (), query="apple", limit=BIG),
    call("empty query", "search", ("docs",), query=""),
    call("query and filter", "search", (), query="apple", filter={"tag": "red"}),
    call("query page", "search", (), query="bread", limit=2, offset=1),
    call("equal", "search", (), filter={"tag": "red"}),
    call("range", "search", (), filter={"n": {"$gt": 2, "$lte": 9}}),
    call("not equal", "search", ("docs",), filter={"n": {"$ne": 1}}),
    call("eq operator", "search", (), filter={"text": {"$eq": "cherry"}}),
    call("missing field is None", "search", (), filter={"missing": None}),
    call("list against a string", "search", (), filter={"tag": ["red"]}),
    call("unknown operator", "search", ("docs",), filter={"n": {"$regex": "a"}}),
    call(
        "unknown operator, no items",
        "search",
        ("nope",),
        filter={"n": {"$in": [1]}},
        every=CHECKED_FIRST,
    ),
    call("range operand a word", "search", (), filter={"n": {"$gt": "x"}}),
    call("range operand None", "search", (), filter={"n": {"$gt": None}}),
    call(
        "range operand a numeric string",
        "search",
        (),
        filter={"n": {"$gt": "3"}},
        every=NUMBER_LIKE,
    ),
    call("range operand True", "search", (), filter={"n": {"$gt": True}}, every=NUMBER_LIKE),
    call(
        "range on a missing field",
        "search",
        (),
        filter={"missing": {"$gt": 1}},
        every=RANGE_ON_MISSING,
    ),
    call("filter a list", "search", (), filter=["n", 1], every=FILTER_SHAPE),
    call("filter field not a string", "search", (), filter={1: 2}, every=FILTER_SHAPE),
    call("limit 0", "search", (), limit=0),
    call("page", "search", (), limit=2, offset=1),
    call("offset past the end", "search", (), offset=50),
    call("negative limit", "search", (), limit=-1, every=PAGE_RANGE),
    call("negative offset", "search", (), offset=-1, every=PAGE_RANGE),
    call("limit a fraction", "search", (), limit=1.5),
    call("limit a string", "search", (), limit="2"),
    call("limit None", "search", (), limit=None),
    call("limit True", "search", (), limit=True, every=BOOL_NUMBER),
    call("offset True", "search", (), offset=True, every=BOOL_NUMBER),
    call("query not a string", "search", (), query=3, every=QUERY_NOT_STR),
    call("query with a lone surrogate", "search", (), query="\ud800", every=UNENCODABLE_TEXT),
    call("query over 1 MiB", "search", (), query="apple " * 200_000, every=OVER_LIMITS),
    call(
        "filter nested 40 deep",
        "search",
        (),
        filter=functools.reduce(lambda inner, _: {"x": inner}, range(40), {"n": 1}),
        every=OVER_LIMITS,
    ),
    call("label with a period", "search", ("a.b",), raw=LABEL_IN_BATCH),
    call("label not a string", "search", (1,), raw=LABEL_IN_BATCH),
    call("label with a lone surrogate", "search", ("\ud800",), every=UNENCODABLE_LABEL),
    call("prefix as a list", "search", ["docs"], every=NOT_A_TUPLE),
    call("prefix as a bare string", "search", "docs", every=NOT_A_TUPLE),
    call("prefix None", "search", None),
    call("no refresh", "search", ("docs",), refresh_ttl=False),
]

LIST = [
    call("all", "list_namespaces"),
    call("prefix", "list_namespaces", prefix=("docs",)),
    call("prefix wildcard", "list_namespaces", prefix=("docs", "*")),
    call("leading wildcard", "list_namespaces", prefix=("*", "old")),
    call("suffix", "list_namespaces", suffix=("old",)),
    call("suffix wildcard", "list_namespaces", suffix=("*",)),
    call("prefix and suffix", "list_namespaces", prefix=("docs",), suffix=("old",)),
    call("langgraph root", "list_namespaces", prefix=("langgraph",)),
    call("nothing there", "list_namespaces", prefix=("nope",)),
    call("prefix as a list", "list_namespaces", prefix=["docs"]),
    call("depth 1", "list_namespaces", max_depth=1),
    call("depth 2 under a prefix", "list_namespaces", prefix=("docs",), max_depth=2),
    call("page", "list_namespaces", limit=1, offset=1),
    call("depth 0", "list_namespaces", max_depth=0, every=PAGE_RANGE),
    call("depth negative", "list_namespaces", max_depth=-1, every=PAGE_RANGE),
    call("depth a fraction", "list_namespaces", max_depth=1.5),
    call("depth a string", "list_namespaces", max_depth="1"),
    call("depth True", "list_namespaces", max_depth=True, every=BOOL_NUMBER),
    call("negative limit", "list_namespaces", limit=-1, every=PAGE_RANGE),
    call("limit a string", "list_namespaces", limit="2"),
    call("limit None", "list_namespaces", limit=None),
    call("prefix label with a period", "list_namespaces", prefix=("a.b",), raw=LABEL_IN_BATCH),
    call("suffix label not a string", "list_namespaces", suffix=(1,), raw=LABEL_IN_BATCH),
    call("prefix as a bare string", "list_namespaces", prefix="docs", every=NOT_A_TUPLE),
    call("prefix a number", "list_namespaces", prefix=7),
]

RAW_BATCHES = [
    raw("empty batch", lambda: []),
    raw("ops from a generator", lambda: (op for op in [GetOp(("docs",), "a")])),
    raw(
        "reads see the state before the batch",
        lambda: [PutOp(("docs",), "a", V), GetOp(("docs",), "a")],
    ),
    raw("last write wins", lambda: [PutOp(("x",), "k", V), PutOp(("x",), "k", None)]),
    raw(
        "a bad filter anywhere writes nothing",
        lambda: [PutOp(("docs",), "a", V), SearchOp(("docs",), filter={"n": {"$bogus": 1}})],
    ),
    raw("not an op", lambda: [("not", "an", "op")]),
    raw("not a list of ops", lambda: None),
    raw("no match conditions", lambda: [ListNamespacesOp(None)]),
    raw("unknown match type", lambda: [ListNamespacesOp((MatchCondition("middle", ("docs",)),))]),  # type: ignore[arg-type]
    raw(
        "unknown match type, no namespace long enough",
        lambda: [ListNamespacesOp((MatchCondition("middle", ("a", "b", "c", "d")),))],  # type: ignore[arg-type]
        CHECKED_FIRST,
    ),
    raw("match path None", lambda: [ListNamespacesOp((MatchCondition("prefix", None),))]),  # type: ignore[arg-type]
]

PROBES = [
    *(("put", p) for p in PUT),
    *(("get", p) for p in GET),
    *(("delete", p) for p in DELETE),
    *(("search", p) for p in SEARCH),
    *(("list", p) for p in LIST),
    *(("batch", p) for p in RAW_BATCHES),
]


class Reference(ReferenceStore):
    """InMemoryStore that accepts ttl (and ignores it), so that ttl checks can be compared."""

    supports_ttl = True


def seeded_reference() -> Reference:
    reference = Reference(index=index_config())
    reference.batch([PutOp(ns, key, value) for ns, key, value in SEEDS])
    return reference


def as_op(method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Op:
    """The op ``BaseStore.<method>`` builds, minus its checks and its ``str(key)``."""
    bound = inspect.signature(getattr(BaseStore, method)).bind(None, *args, **kwargs)
    bound.apply_defaults()
    a = bound.arguments
    refresh = True if a.get("refresh_ttl") is None else a["refresh_ttl"]
    if method == "put":
        ttl = kwargs.get("ttl")
        return PutOp(a["namespace"], a["key"], a["value"], a["index"], ttl=ttl)
    if method == "delete":
        return PutOp(a["namespace"], a["key"], None)
    if method == "get":
        return GetOp(a["namespace"], a["key"], refresh)
    if method == "search":
        prefix = a["namespace_prefix"]
        return SearchOp(prefix, a["filter"], a["limit"], a["offset"], a["query"], refresh)
    conditions = tuple(
        MatchCondition(match_type, a[match_type])  # type: ignore[arg-type]
        for match_type in ("prefix", "suffix")
        if a[match_type]
    )
    return ListNamespacesOp(conditions, a["max_depth"], a["limit"], a["offset"])


@dataclass
class Outcome:
    result: Any = None
    error: Exception | None = None


async def run(store: BaseStore, probe: Probe, flavor: str) -> Outcome:
    try:
        if probe.method is None:
            ops = probe.ops()  # type: ignore[misc]
            result = store.batch(ops) if flavor == "batch" else await store.abatch(ops)
        elif flavor == "sync":
            result = getattr(store, probe.method)(*probe.args, **probe.kwargs)
        elif flavor == "async":
            result = await getattr(store, "a" + probe.method)(*probe.args, **probe.kwargs)
        else:
            ops = [as_op(probe.method, probe.args, probe.kwargs)]
            result = store.batch(ops) if flavor == "batch" else await store.abatch(ops)
    except Exception as exc:
        return Outcome(error=exc)
    return Outcome(result=normalised(result))


def normalised(result: Any) -> Any:
    """Results without timestamps, namespaces as tuples."""
    if isinstance(result, SearchItem):
        return (tuple(result.namespace), result.key, result.value, result.score)
    if isinstance(result, Item):
        return (tuple(result.namespace), result.key, result.value)
    if isinstance(result, list):
        return [normalised(r) for r in result]
    return result


def same(mine: Any, theirs: Any) -> bool:
    """Equal, with floats (similarity scores) equal to 1e-4."""
    if isinstance(theirs, float) and isinstance(mine, float):
        return math.isclose(mine, theirs, abs_tol=1e-4)
    if isinstance(theirs, list | tuple):
        return (
            type(mine) is type(theirs)
            and len(mine) == len(theirs)
            and all(same(m, t) for m, t in zip(mine, theirs, strict=True))
        )
    return bool(mine == theirs)


SNAPSHOT = [
    SearchOp((), limit=BIG),
    ListNamespacesOp(limit=BIG),
    SearchOp((), query="apple bread", limit=BIG),
]


def ordered(snapshot: list[Any]) -> tuple[Any, ...]:
    """Searches without a query list items in insertion order in InMemoryStore, by namespace
    and key in SoormaStore: compare both by namespace and key."""
    items, namespaces, scored = snapshot
    return sorted(items, key=repr), namespaces, sorted(scored, key=repr)


async def snapshot(store: BaseStore) -> tuple[Any, ...]:
    """Every item, every namespace, and every item's score for one query."""
    return ordered(normalised(await store.abatch(SNAPSHOT)))


@functools.cache
def seeded() -> tuple[Any, ...]:
    """The snapshot of the seeded state."""
    return ordered(normalised(seeded_reference().batch(SNAPSHOT)))


@pytest.fixture(scope="module")
def module_store(redis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One store for every probe (its own Redis and Chroma), reset only when a probe wrote."""
    chroma = chroma_client(Settings(data_dir=tmp_path_factory.mktemp("parity")))
    store = SoormaStore.from_url(
        redis_server, tenant_id="parity", index=index_config(), chroma=chroma
    )
    yield store, chroma, redis_server
    store.close()


@pytest.fixture
async def store(module_store: Any) -> SoormaStore:
    store, _, _ = module_store
    await reset(store, await snapshot(store))
    return store


async def reset(store: SoormaStore, current: tuple[Any, ...]) -> None:
    """Back to the seeded items, if ``current`` (the store's snapshot) says it left them."""
    if not same(current, seeded()):
        stale = [PutOp(ns, key, None) for ns, key, *_ in current[0]]
        await store.abatch(stale + [PutOp(ns, key, value) for ns, key, value in SEEDS])


@pytest.mark.parametrize(("kind", "probe"), PROBES, ids=[f"{k}: {p.id}" for k, p in PROBES])
async def test_same_outcome_as_in_memory_store(store: SoormaStore, kind: str, probe: Probe) -> None:
    for flavor in probe.flavors:
        reference = seeded_reference()
        theirs = await run(reference, probe, flavor)
        mine = await run(store, probe, flavor)
        after = await snapshot(store)
        where = f"{kind} {probe.id!r} via {flavor}: ours {mine}, InMemoryStore's {theirs}"
        difference = probe.differs.get(flavor)
        if mine.error is not None:
            assert isinstance(mine.error, SoormaError), where
        if difference is None:
            if theirs.error is None:
                assert mine.error is None, where
                assert same(mine.result, theirs.result), where
                assert same(after, await snapshot(reference)), (where, after)
            else:
                assert isinstance(mine.error, type(theirs.error)), where
                assert same(after, seeded()), (where, after)  # a failed call writes nothing
        elif difference.raises:
            assert mine.error is not None, where
            assert all(isinstance(mine.error, t) for t in difference.raises), where
            assert theirs.error is None or not isinstance(mine.error, type(theirs.error)), where
            assert same(after, seeded()), (where, after)
        else:  # we answer where InMemoryStore crashes
            assert mine.error is None and theirs.error is not None, where
        await reset(store, after)


CONFIG = index_config()


class ShortEmbeddings(WordEmbeddings):
    """Returns one vector too few (InMemoryStore raises ValueError on the count)."""

    model_id = "tests-short"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return super().embed_documents(texts)[:-1]


CONFIGS: list[tuple[str, Any, Difference | None]] = [
    ("the usual", CONFIG, None),
    ("no index", None, None),
    ("empty", {}, None),
    ("no embed", {"dims": DIMS}, None),
    ("no dims", {"embed": WordEmbeddings()}, None),
    ("fields None", {**CONFIG, "fields": None}, None),
    ("nested fields", {**CONFIG, "fields": ["text", "tags[*]", "deep.text"]}, None),
    ("a function", {**CONFIG, "embed": WordEmbeddings().embed_documents}, None),
    ("a short embedding", {**CONFIG, "embed": ShortEmbeddings()}, None),
    ("fields one string", {**CONFIG, "fields": "text"}, CONFIG_TYPES),
    ("dims a string", {**CONFIG, "dims": "33"}, CONFIG_TYPES),
    ("dims 0", {**CONFIG, "dims": 0}, CONFIG_DIMS),
    ("not a mapping", True, CONFIG_TYPES),
    ("embed not callable", {**CONFIG, "embed": 5}, None),  # a TypeError in both, ours earlier
    ("vectors of the wrong size", {**CONFIG, "dims": DIMS + 1}, BAD_VECTORS),
    ("zero vectors", {**CONFIG, "embed": lambda texts: [[0.0] * DIMS for _ in texts]}, BAD_VECTORS),
]


def build(make: Callable[[], BaseStore]) -> Outcome:
    """Construct a store, then put and search one item: configs fail early or on first use."""
    try:
        store = make()
        store.put(("docs",), "k", {"text": "apple", "tags": ["x"], "deep": {"text": "y"}})
        result = normalised(store.search(("docs",), query="apple"))
    except Exception as exc:
        return Outcome(error=exc)
    if isinstance(store, SoormaStore):
        store.close()
    return Outcome(result=result)


@pytest.mark.parametrize(("name", "index", "difference"), CONFIGS, ids=[c[0] for c in CONFIGS])
def test_index_configs_like_in_memory_store(
    module_store: Any, name: str, index: Any, difference: Difference | None
) -> None:
    _, chroma, url = module_store
    theirs = build(lambda: InMemoryStore(index=index))
    mine = build(
        lambda: SoormaStore.from_url(url, tenant_id=f"config-{name}", index=index, chroma=chroma)
    )
    where = f"index config {name!r}: ours {mine}, InMemoryStore's {theirs}"
    if mine.error is not None:
        assert isinstance(mine.error, SoormaError), where
    if difference is None:
        if theirs.error is None:
            assert mine.error is None, where
            assert same(mine.result, theirs.result), where
        else:
            assert isinstance(mine.error, type(theirs.error)), where
    else:
        assert mine.error is not None, where
        assert all(isinstance(mine.error, t) for t in difference.raises), where
        assert theirs.error is None or not isinstance(mine.error, type(theirs.error)), where


def test_every_difference_is_documented() -> None:
    """Each Difference is a row of the table in examples/store/README.md, and vice versa."""
    differences = {value.row for value in globals().values() if isinstance(value, Difference)}
    table = {
        line.split("|")[1].strip()
        for line in README.read_text(encoding="utf-8").splitlines()
        if line.startswith("| ") and not line.startswith("| What")
    }
    assert differences == table
