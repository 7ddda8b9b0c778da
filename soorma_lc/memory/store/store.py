"""``SoormaStore``: LangGraph's ``BaseStore`` on Redis (items) and Chroma (vector index).

Backend choice. Redis is the source of truth for items: values, timestamps, namespaces and
TTLs, each write one atomic Lua script, shared by every process that points at the same Redis
(``redis_items``). Chroma indexes the vectors for ``search(query=...)`` (``vectors``), one
collection per tenant that records its embedding model. Filters are evaluated in Python on
the values from Redis with ``InMemoryStore``'s semantics, so results match it: same items,
same scores (cosine similarity; max over an item's vectors), same pagination. Searches
without a query, and pages after the last scored item, list items by namespace then key.

Scopes. A store is bound to one tenant (``tenant_id``) and optionally one user (``user_id``).
Namespaces are free-form *inside* that scope (the LangGraph convention is
``("memories", user_id, ...)``); a namespace is data, never a scope selector, so no namespace,
prefix, wildcard or filter can reach another tenant's (or another bound user's) items. A store
bound to a user sees only that user's space; an unbound store sees the tenant-wide space.

TTL (``supports_ttl``): ``ttl`` is in minutes, refreshed by reads unless ``refresh_ttl=False``
(``TTLConfig``: ``default_ttl``, ``refresh_on_read``, ``sweep_interval_minutes``). Expired
items are invisible at once; their storage is reclaimed by ``sweep_ttl()``, by the optional
background sweeper, and before every namespace listing.

Async first: every method's Redis I/O runs on one process-wide store loop (a
:class:`~soorma_lc.backends.loop_bridge.LoopBridge` that never adopts the caller's loop), so
the sync methods work from any thread, even one whose own loop is running, and ``abatch``
never blocks the caller's loop. Chroma calls go to worker threads; embeddings run on the
caller's side (``aembed_*`` in async code). An injected Redis client therefore does its I/O
on the store loop: give the store a client no other event loop uses while the store is open
(closing the store releases those connections).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, Self

import redis.asyncio
from chromadb.api import ClientAPI
from langchain_core.embeddings import Embeddings
from langgraph.store.base import (
    BaseStore,
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
    ensure_embeddings,
)

from soorma_lc.backends.chroma import chroma_client
from soorma_lc.backends.embeddings import resolve_embeddings
from soorma_lc.backends.loop_bridge import LoopBridge
from soorma_lc.backends.redis_clients import release_connections
from soorma_lc.backends.redis_component import RedisComponent
from soorma_lc.backends.redis_errors import redis_errors
from soorma_lc.config import DEFAULT_TENANT_ID, Settings, resolve_settings
from soorma_lc.errors import (
    InvalidEmbeddingError,
    InvalidStoreItemError,
    ScopeError,
    SoormaError,
)
from soorma_lc.memory._values import (
    DEFAULT_MAX_VALUE_BYTES,
    reading,
    require_async_client,
    require_count,
    require_id,
)
from soorma_lc.memory.store.codec import (
    StoredItem,
    dump_value,
    encode_body,
    parse_item_id,
    scope_tag,
)
from soorma_lc.memory.store.filters import matches
from soorma_lc.memory.store.namespaces import matches_condition, until_wildcard
from soorma_lc.memory.store.redis_items import RedisItems, Write
from soorma_lc.memory.store.validation import (
    checked_entry_point,
    checked_index_config,
    checked_ops,
    checked_ttl_config,
    indexed_texts,
)
from soorma_lc.memory.store.vectors import ChromaVectors

logger = logging.getLogger(__name__)

_SWEEP_BATCH = 500
_MIN_CANDIDATES = 16

Ref = tuple[tuple[str, ...], str]

# Every store's Redis I/O, on one private loop thread shared by the process.
_STORE_LOOP = LoopBridge(
    "SoormaStore",
    hint="SoormaStore's own coroutines must use its async methods",
    adopt_running_loop=False,
    thread_name="soorma-store-io",
)


@dataclass
class _Plan:
    """A validated batch: its ops, the surviving puts, and the texts to embed."""

    ops: list[Op]
    puts: dict[Ref, PutOp] = field(default_factory=dict)
    values: dict[Ref, str] = field(default_factory=dict)
    texts: dict[Ref, list[str]] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)


@dataclass
class _Embedded:
    """The vectors of a batch: per put item, and per search query."""

    puts: dict[Ref, list[list[float]]] = field(default_factory=dict)
    queries: dict[str, list[float]] = field(default_factory=dict)


class SoormaStore(RedisComponent, BaseStore):
    """LangGraph long-term memory store shared across processes (see the module docstring).

    Built like every Redis-backed component (:mod:`soorma_lc.backends.redis_component`):
    ``SoormaStore(client, index=..., ttl=...)`` on an injected ``redis.asyncio`` client, or
    ``from_url(url, ...)`` / ``from_settings()`` (the settings' tenant, semantic search on the
    configured embeddings and Chroma), which own theirs. ``index`` and ``ttl`` are LangGraph's
    ``IndexConfig`` (``dims``, ``embed``, ``fields``) and ``TTLConfig``; ``chroma`` is the
    Chroma client for the index (default: the configured one). ``clock`` (epoch seconds) exists
    for simulations and tests of TTL. ``max_value_bytes`` bounds one value's JSON (1 MiB by
    default); the other limits (namespace depth, label, key and query sizes, filter depth,
    texts indexed per item) are in :mod:`soorma_lc.memory.store.validation`.
    """

    supports_ttl = True

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        tenant_id: str = DEFAULT_TENANT_ID,
        user_id: str | None = None,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
        chroma: ClientAPI | None = None,
        clock: Callable[[], float] = time.time,
        max_value_bytes: int = DEFAULT_MAX_VALUE_BYTES,
        owns_client: bool = False,
    ) -> None:
        self.tenant_id = require_id(tenant_id, "SoormaStore tenant_id", error=ScopeError)
        if user_id is not None:
            require_id(user_id, "user_id (None: tenant-wide)", error=ScopeError)
        self.user_id = user_id
        self.max_value_bytes = require_count(
            max_value_bytes, "max_value_bytes", error=InvalidStoreItemError
        )
        self.ttl_config = checked_ttl_config(ttl)
        index = checked_index_config(index)
        super().__init__(require_async_client(client, "SoormaStore"), owns_client=owns_client)
        self._clock = clock
        scope = scope_tag(tenant_id, user_id)
        self._items = RedisItems(client, scope)
        self.index_config: IndexConfig | None = None
        self.embeddings: Embeddings | None = None
        self._vectors: ChromaVectors | None = None
        if index:
            self.index_config = index.copy()
            self.embeddings = _embeddings(index.get("embed"))
            self.index_config["fields"] = list(index.get("fields") or ["$"])
            self._vectors = ChromaVectors(
                chroma if chroma is not None else chroma_client(),
                tenant_id,
                scope,
                self.embeddings,
                index.get("dims"),
            )
        self._sweeper = None
        interval = (self.ttl_config or {}).get("sweep_interval_minutes")
        if interval:
            self._sweeper = _STORE_LOOP.submit(self._sweep_forever, interval * 60)

    @classmethod
    def from_settings(
        cls,
        settings: Settings | None = None,
        *,
        index: IndexConfig | Literal[False] | None = None,
        **options: Any,
    ) -> Self:
        """A store for ``settings.tenant_id`` on the configured (or embedded) Redis and Chroma.

        ``index=None`` enables semantic search with ``resolve_embeddings(settings=settings)``
        over whole values; an ``index`` without ``embed`` (e.g. ``{"fields": ["text"]}``) uses
        those embeddings too; ``index=False`` disables semantic search. ``options`` are the
        constructor's keywords (``ttl``, ``user_id``, ...).
        """
        settings = resolve_settings(settings)
        index = {"fields": ["$"]} if index is None else checked_index_config(index)
        if index and "embed" not in index:
            index = {**index, "embed": resolve_embeddings(settings=settings)}
        if index:
            options.setdefault("chroma", chroma_client(settings))
        return super().from_settings(settings, index=index or None, **options)

    @classmethod
    def settings_options(cls, settings: Settings) -> dict[str, Any]:
        """The settings' tenant."""
        return {"tenant_id": settings.tenant_id}

    # BaseStore entry points (LangGraph validates namespaces there; errors become typed).
    get = checked_entry_point(BaseStore.get)
    search = checked_entry_point(BaseStore.search)
    put = checked_entry_point(BaseStore.put)
    delete = checked_entry_point(BaseStore.delete)
    list_namespaces = checked_entry_point(BaseStore.list_namespaces)
    aget = checked_entry_point(BaseStore.aget)
    asearch = checked_entry_point(BaseStore.asearch)
    aput = checked_entry_point(BaseStore.aput)
    adelete = checked_entry_point(BaseStore.adelete)
    alist_namespaces = checked_entry_point(BaseStore.alist_namespaces)

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` in order: reads see the state before this batch's writes (as LangGraph)."""
        plan = self._plan(ops)
        embedded = _Embedded()
        if self.embeddings is not None:
            refs, texts = _flatten(plan.texts)
            vectors = self.embeddings.embed_documents(texts) if texts else []
            embedded = self._embedded(plan, refs, vectors, [
                self.embeddings.embed_query(query) for query in plan.queries
            ])  # fmt: skip
        return _STORE_LOOP.run(self._execute, plan, embedded)

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Async :meth:`batch`: embeds on the caller's loop, does I/O on the store loop."""
        plan = self._plan(ops)
        embedded = _Embedded()
        if self.embeddings is not None:
            refs, texts = _flatten(plan.texts)
            vectors = await self.embeddings.aembed_documents(texts) if texts else []
            queries = await asyncio.gather(
                *(self.embeddings.aembed_query(query) for query in plan.queries)
            )
            embedded = self._embedded(plan, refs, vectors, list(queries))
        return await _STORE_LOOP.arun(self._execute, plan, embedded)

    def sweep_ttl(self) -> int:
        """Delete every expired item of this scope now; return how many were deleted."""
        return _STORE_LOOP.run(self._sweep_expired)

    async def asweep_ttl(self) -> int:
        """Async :meth:`sweep_ttl`."""
        return await _STORE_LOOP.arun(self._sweep_expired)

    def close(self) -> None:
        """Stop the sweeper and close the Redis client if this store built it."""
        _STORE_LOOP.run(self._close)

    async def aclose(self) -> None:
        """Async :meth:`close`."""
        await _STORE_LOOP.arun(self._close)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- validation and embedding (caller's side) ----

    def _plan(self, ops: Iterable[Op]) -> _Plan:
        plan = _Plan(ops=checked_ops(ops))
        for op in plan.ops:
            if isinstance(op, PutOp):
                ref = (op.namespace, op.key)
                plan.puts[ref] = op
                if op.value is None:
                    plan.values.pop(ref, None)
                else:
                    plan.values[ref] = dump_value(dict(op.value), limit=self.max_value_bytes)
            elif (
                isinstance(op, SearchOp)
                and op.query
                and self.embeddings is not None
                and op.query not in plan.queries
            ):
                plan.queries.append(op.query)
        if self.index_config is not None:
            for ref, op in plan.puts.items():
                if op.value is not None and op.index is not False:
                    paths = self.index_config["fields"] if op.index is None else op.index
                    texts = indexed_texts(op.value, paths)
                    if texts:
                        plan.texts[ref] = texts
        return plan

    def _embedded(
        self,
        plan: _Plan,
        refs: list[Ref],
        vectors: list[list[float]],
        query_vectors: list[list[float]],
    ) -> _Embedded:
        if len(vectors) != len(refs) or len(query_vectors) != len(plan.queries):
            raise InvalidEmbeddingError(
                f"the embedding model returned {len(vectors)} vectors for {len(refs)} texts"
            )
        vectors = [[float(x) for x in vector] for vector in vectors]
        query_vectors = [[float(x) for x in vector] for vector in query_vectors]
        assert self._vectors is not None
        self._vectors.check(vectors + query_vectors)
        embedded = _Embedded(queries=dict(zip(plan.queries, query_vectors, strict=True)))
        for ref, vector in zip(refs, vectors, strict=True):
            embedded.puts.setdefault(ref, []).append(vector)
        return embedded

    # ---- execution (store loop) ----

    async def _execute(self, plan: _Plan, embedded: _Embedded) -> list[Result]:
        return await self._guarded(self._run(plan, embedded))

    async def _sweep_expired(self) -> int:
        return await self._guarded(self._sweep(self._clock()))

    async def _guarded(self, coro: Any) -> Any:
        """Await ``coro``, reporting Redis failures as typed errors."""
        with redis_errors(f"SoormaStore (tenant {self.tenant_id!r})"):
            return await coro

    async def _run(self, plan: _Plan, embedded: _Embedded) -> list[Result]:
        now = self._clock()
        results: list[Result] = [None] * len(plan.ops)
        to_refresh: list[StoredItem] = []
        gets = [(i, op) for i, op in enumerate(plan.ops) if isinstance(op, GetOp)]
        found = await self._items.get([(op.namespace, op.key) for _, op in gets], now)
        for (i, op), stored in zip(gets, found, strict=True):
            results[i] = _item(stored) if stored is not None else None
            if stored is not None and op.refresh_ttl:
                to_refresh.append(stored)
        if any(isinstance(op, ListNamespacesOp) for op in plan.ops):
            await self._sweep(now)
        for i, op in enumerate(plan.ops):
            if isinstance(op, SearchOp):
                scored = await self._search(op, embedded.queries.get(op.query or ""), now)
                results[i] = [_search_item(stored, score) for score, stored in scored]
                if op.refresh_ttl:
                    to_refresh.extend(stored for _, stored in scored)
            elif isinstance(op, ListNamespacesOp):
                results[i] = await self._list_namespaces(op)
        await self._items.refresh(to_refresh, now)
        await self._write(plan, embedded, now)
        return results

    async def _search(
        self, op: SearchOp, query: list[float] | None, now: float
    ) -> list[tuple[float | None, StoredItem]]:
        prefix, wanted = op.namespace_prefix, op.offset + op.limit
        if op.limit == 0:
            return []
        if query is None or self._vectors is None:
            items = await self._items.scan(prefix, now)
            return [(None, i) for i in items if matches(i.value, op.filter)][op.offset : wanted]
        k = max(wanted, _MIN_CANDIDATES)
        while True:
            hits = await asyncio.to_thread(self._vectors.query, query, prefix, k)
            ids = list(dict.fromkeys(hit.item_id for hit in hits))
            with reading("an item id in the store's vector index"):
                refs = [parse_item_id(i) for i in ids]
            stored = await self._items.get(refs, now)
            current = {i: s for i, s in zip(ids, stored, strict=True) if s is not None}
            scored: dict[str, tuple[float | None, StoredItem]] = {}
            for hit in hits:  # nearest first: the first live hit of an item is its best
                item = current.get(hit.item_id)
                if (
                    item is not None
                    and item.generation == hit.generation
                    and hit.item_id not in scored
                    and matches(item.value, op.filter)
                ):
                    scored[hit.item_id] = (hit.score, item)
            if len(scored) >= wanted or len(hits) < k:
                break
            k *= 4
        ranked = list(scored.values())
        if len(ranked) < wanted:  # every vector seen: unscored items follow, as LangGraph does
            rest = await self._items.scan(prefix, now)
            ranked += [
                (None, i) for i in rest if i.id not in scored and matches(i.value, op.filter)
            ]
        return ranked[op.offset : wanted]

    async def _list_namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        conditions = op.match_conditions or ()
        lead: tuple[str, ...] = ()
        for condition in conditions:
            if condition.match_type == "prefix":
                lead = tuple(until_wildcard(condition.path))
                break
        namespaces = [
            ns
            for ns in await self._items.namespaces(lead)
            if all(matches_condition(condition, ns) for condition in conditions)
        ]
        if op.max_depth is not None:
            namespaces = sorted({ns[: op.max_depth] for ns in namespaces})
        return namespaces[op.offset : op.offset + op.limit]

    async def _write(self, plan: _Plan, embedded: _Embedded, now: float) -> None:
        if not plan.puts:
            return
        now_us = int(now * 1_000_000)
        writes: list[Write] = []
        new_vectors: list[tuple[StoredItem, list[list[float]]]] = []
        for ref, op in plan.puts.items():
            if op.value is None:
                writes.append(Write(*ref))
                continue
            vectors = embedded.puts.get(ref, [])
            generation = uuid.uuid4().hex
            body = encode_body(plan.values[ref], now_us, op.ttl, generation, len(vectors))
            expires = now + op.ttl * 60 if op.ttl is not None else None
            writes.append(Write(*ref, body=body, expires_at=expires))
            if vectors:
                item = StoredItem(*ref, {}, now_us, now_us, op.ttl, generation, len(vectors))
                new_vectors.append((item, vectors))
        if new_vectors:
            assert self._vectors is not None
            await asyncio.to_thread(self._vectors.add, new_vectors)
        try:
            olds = await self._items.write(writes, now_us, now)
        except BaseException:
            await self._drop_vectors(item for item, _ in new_vectors)
            raise
        await self._drop_vectors(old for old in olds if old is not None)

    async def _drop_vectors(self, items: Iterable[StoredItem]) -> None:
        """Delete the vectors of replaced or deleted items; leftovers are harmless, so log."""
        if self._vectors is None:
            return
        ids = [vector_id for item in items for vector_id in self._vectors.vector_ids(item)]
        if not ids:
            return
        try:
            await asyncio.to_thread(self._vectors.delete, ids)
        except Exception:
            logger.warning("could not delete %d stale store vectors", len(ids), exc_info=True)

    async def _sweep(self, now: float) -> int:
        deleted = 0
        while True:
            ids = await self._items.expired_ids(now, _SWEEP_BATCH)
            if not ids:
                return deleted
            gone = await self._items.delete_expired(ids, now)
            await self._drop_vectors(gone)
            deleted += len(gone)
            if len(ids) < _SWEEP_BATCH:
                return deleted

    async def _sweep_forever(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                count = await self._sweep_expired()
                logger.debug("TTL sweep deleted %d items", count)
            except SoormaError:
                logger.warning("TTL sweep failed", exc_info=True)

    async def _close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        if self.owns_client:
            await self.client.aclose()
        else:  # a given client: release the connections made on the store loop, which the
            # caller's loop could not use, and leave the client itself to its owner
            await release_connections(self.client)


def _embeddings(embed: Any) -> Embeddings:
    """``IndexConfig['embed']``: a soorma spec string, an Embeddings object, or a function."""
    if embed is None:
        raise InvalidStoreItemError("an index config needs 'embed' (embeddings or a function)")
    if isinstance(embed, str):
        return resolve_embeddings(embed)
    return ensure_embeddings(embed)


def _flatten(texts: dict[Ref, list[str]]) -> tuple[list[Ref], list[str]]:
    refs = [ref for ref, item_texts in texts.items() for _ in item_texts]
    return refs, [text for item_texts in texts.values() for text in item_texts]


def _item(stored: StoredItem) -> Item:
    return Item(
        value=stored.value,
        key=stored.key,
        namespace=stored.namespace,
        created_at=stored.created_at,
        updated_at=stored.updated_at,
    )


def _search_item(stored: StoredItem, score: float | None) -> SearchItem:
    return SearchItem(
        namespace=stored.namespace,
        key=stored.key,
        value=stored.value,
        created_at=stored.created_at,
        updated_at=stored.updated_at,
        score=score,
    )
