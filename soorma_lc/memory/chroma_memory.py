"""What episodic and semantic memory share: one Chroma collection per tenant, input checks.

A tenant's memories live in their own collection (named by a hash of the tenant id), and every
query also pins ``tenant_id`` in its ``where``: two independent walls between tenants.
Chroma is synchronous: each operation is a blocking ``x_sync`` method and its async twin ``x``
runs it in a worker thread (see :mod:`soorma_lc.memory.twins`).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Generic, Self, TypeVar, cast

from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from langchain_core.embeddings import Embeddings

from soorma_lc.backends.chroma import chroma_call, chroma_client
from soorma_lc.backends.chroma_collections import collection_name, find_collection, open_collection
from soorma_lc.backends.embeddings import resolve_embeddings
from soorma_lc.checks import shown, text_problem
from soorma_lc.config import Settings
from soorma_lc.errors import ConfigurationError, InvalidMemoryInputError, ScopeError
from soorma_lc.memory._values import reading, require_count, require_id
from soorma_lc.memory.chroma_filters import Where, check_filters

MAX_LIMIT = 1000
"""Most results one search or history call returns."""
MAX_CONTENT_BYTES = 1024 * 1024
"""Largest text (an interaction's content, a knowledge item, a query), as UTF-8 bytes: past
it, embedding and indexing take seconds per call. Split longer documents (one knowledge item
per section, each with an ``external_id``)."""

H = TypeVar("H")


def require_text(value: Any, what: str, *, max_bytes: int = MAX_CONTENT_BYTES) -> str:
    """``value`` if it is text with something non-blank in it, valid Unicode, without NUL and
    at most ``max_bytes`` of UTF-8; else :class:`InvalidMemoryInputError`."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidMemoryInputError(f"{what} must be a non-empty string (got {shown(value)})")
    problem = text_problem(value, max_length=max_bytes)  # characters: at most the bytes
    if problem is not None:
        raise InvalidMemoryInputError(f"{what} {problem}")
    size = len(value.encode("utf-8"))
    if size > max_bytes:
        raise InvalidMemoryInputError(
            f"{what} is {size} bytes of UTF-8, over the {max_bytes}-byte limit"
        )
    return value


def require_name(value: Any, what: str) -> str:
    """``value`` if it is a usable identifier (agent_id, role, external_id, ...: the memory
    layer's id rule), else :class:`InvalidMemoryInputError`."""
    return require_id(value, what, error=InvalidMemoryInputError)


def require_limit(limit: Any, what: str = "limit") -> int:
    """``limit`` if it is an int in 1..MAX_LIMIT, else InvalidMemoryInputError."""
    return require_count(limit, what, maximum=MAX_LIMIT, error=InvalidMemoryInputError)


def require_flag(value: Any, what: str) -> bool:
    """``value`` if it is a bool (``"no"`` would be truthy), else InvalidMemoryInputError."""
    if not isinstance(value, bool):
        raise InvalidMemoryInputError(f"{what} must be a bool, got {shown(value)}")
    return value


def similarity(distance: float) -> float:
    """Cosine similarity (1 = same direction) from Chroma's cosine distance."""
    return 1.0 - float(distance)


class ChromaMemory(ABC, Generic[H]):
    """Base of the Chroma-backed memories: client, embeddings, per-tenant collections, search.

    ``H`` is the record type a search returns (built by :meth:`_hit`)."""

    kind: ClassVar[str]
    filter_reserved: ClassVar[frozenset[str]]
    """Metadata keys user filters may not name (they decide whose records are searched)."""

    def __init__(self, client: ClientAPI, embeddings: Embeddings | str | None = None) -> None:
        if not isinstance(client, ClientAPI):
            raise ConfigurationError(
                f"{type(self).__name__} needs a Chroma client, got {shown(client)}"
            )
        self.client = client
        self.embeddings = resolve_embeddings(embeddings)
        self._collections: dict[str, Collection] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(
        cls, settings: Settings | None = None, *, embeddings: Embeddings | str | None = None
    ) -> Self:
        """The memory on the configured Chroma with the configured embeddings."""
        spec = embeddings if embeddings is not None else resolve_embeddings(None, settings)
        return cls(chroma_client(settings), spec)

    def check_filters(self, filters: Mapping[str, Any] | None) -> None:
        """Raise :class:`InvalidFilterError` if a search would refuse ``filters``."""
        check_filters(filters, self.filter_reserved)

    def collection_name(self, *, tenant_id: str) -> str:
        """The Chroma collection holding ``tenant_id``'s memories of this kind."""
        return collection_name(self.kind, require_id(tenant_id, "tenant_id", error=ScopeError))

    @chroma_call
    def _collection(self, tenant_id: str) -> Collection:
        """The tenant's collection, created on first use (blocking: call from a worker thread)."""
        return cast(Collection, self._cached_collection(tenant_id, open_collection))

    @chroma_call
    def _existing_collection(self, tenant_id: str) -> Collection | None:
        """The tenant's collection, or None if it never stored anything (reads create nothing)."""
        return self._cached_collection(tenant_id, find_collection)

    def _cached_collection(
        self,
        tenant_id: str,
        load: Callable[[ClientAPI, str, Embeddings], Collection | None],
    ) -> Collection | None:
        """The tenant's collection from the cache, else from ``load`` (cached if found)."""
        with self._lock:
            collection = self._collections.get(tenant_id)
            if collection is None:
                name = self.collection_name(tenant_id=tenant_id)
                collection = load(self.client, name, self.embeddings)
                if collection is not None:
                    self._collections[tenant_id] = collection
            return collection

    @staticmethod
    @abstractmethod
    def _hit(id: str, document: str, metadata: dict[str, Any], score: float) -> H:
        """The record type of this memory for one search hit."""

    @chroma_call
    def _query(self, tenant_id: str, vector: list[float], limit: int, where: Where) -> list[H]:
        """Nearest records with their cosine similarity, best first."""
        collection = self._existing_collection(tenant_id)
        if collection is None:
            return []
        found = collection.query(
            query_embeddings=[vector],
            n_results=limit,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        with reading(f"a record of Chroma collection {collection.name}"):
            return [
                self._hit(id, document or "", dict(metadata or {}), similarity(distance))
                for id, document, metadata, distance in zip(
                    found["ids"][0],
                    (found["documents"] or [[]])[0],
                    (found["metadatas"] or [[]])[0],
                    (found["distances"] or [[]])[0],
                    strict=True,
                )
            ]

    def _search(self, tenant_id: str, query: str, where: Where, limit: int) -> list[H]:
        """Embed ``query`` and return the tenant's ``limit`` nearest records under ``where``."""
        return self._query(tenant_id, self.embeddings.embed_query(query), limit, where)

    @chroma_call
    def _check_batch(self, count: int, what: str) -> None:
        """Refuse a write of more records than Chroma takes in one call (it stays atomic)."""
        limit = self.client.get_max_batch_size()
        if count > limit:
            raise InvalidMemoryInputError(
                f"{what} would be {count} records, over Chroma's {limit}-record batch limit"
            )

    @chroma_call
    def _delete_where(self, tenant_id: str, where: Where) -> list[dict[str, Any]]:
        """Delete the tenant's records matching ``where``; returns their metadata."""
        collection = self._existing_collection(tenant_id)
        if collection is None:
            return []
        found = collection.get(where=where, include=["metadatas"])
        if found["ids"]:
            collection.delete(ids=found["ids"])
        return [dict(metadata or {}) for metadata in found["metadatas"] or []]
