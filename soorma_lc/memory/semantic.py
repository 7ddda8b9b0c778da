"""Semantic memory: facts and documents a user (or a whole tenant) can search by meaning.

Scope: tenant + user. Knowledge is private to the user who stored it unless ``is_public``,
which shares it with every user of the same tenant (never beyond). Storing is an upsert keyed
by ``external_id`` or, without one, by the content's hash: storing the same thing twice keeps
one copy. Long texts are stored as overlapping chunks, one vector each.

A store writes the new chunks first, then removes chunks the new version no longer has; a crash
between the two steps leaves the previous version's tail chunks until the next store of the
same knowledge, never a missing chunk.

Every method is async with a blocking ``*_sync`` twin (:mod:`soorma_lc.memory.twins`); scope
arguments are keyword-only, ``*, tenant_id, user_id``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chromadb.api import ClientAPI
from langchain_core.embeddings import Embeddings

from soorma_lc.backends.chroma import chroma_call
from soorma_lc.errors import InvalidMemoryInputError
from soorma_lc.memory._values import require_count, require_scope
from soorma_lc.memory.chroma_filters import Where, clean_metadata, scoped_where
from soorma_lc.memory.chroma_memory import (
    ChromaMemory,
    require_flag,
    require_limit,
    require_name,
    require_text,
)
from soorma_lc.memory.chunking import DEFAULT_CHUNK_CHARS, DEFAULT_OVERLAP_CHARS, chunk_text
from soorma_lc.memory.twins import async_twin

_OWN_KEYS = frozenset(
    {
        "tenant_id",
        "user_id",
        "is_public",
        "knowledge_id",
        "external_id",
        "content_hash",
        "chunk_index",
        "chunk_count",
        "updated_at_ns",
    }
)
# Filters may not name these: they decide who sees what.
_ACCESS_KEYS = frozenset({"user_id", "is_public"})


@dataclass(frozen=True, slots=True)
class Knowledge:
    """One stored chunk of knowledge; ``score`` is the cosine similarity from a search."""

    id: str
    knowledge_id: str
    tenant_id: str
    user_id: str
    content: str
    is_public: bool
    external_id: str | None
    chunk_index: int
    chunk_count: int
    metadata: dict[str, Any] = field(default_factory=dict)
    score: float | None = None


def _knowledge(id: str, document: str, metadata: Mapping[str, Any], score: float) -> Knowledge:
    return Knowledge(
        id=id,
        knowledge_id=str(metadata["knowledge_id"]),
        tenant_id=str(metadata["tenant_id"]),
        user_id=str(metadata["user_id"]),
        content=document,
        is_public=bool(metadata["is_public"]),
        external_id=metadata.get("external_id"),
        chunk_index=int(metadata["chunk_index"]),
        chunk_count=int(metadata["chunk_count"]),
        metadata={k: v for k, v in metadata.items() if k not in _OWN_KEYS},
        score=score,
    )


@dataclass(frozen=True, slots=True)
class _Write:
    """A validated store_knowledge call, ready to embed and write."""

    tenant_id: str
    knowledge_id: str
    chunks: list[str]
    metadatas: list[dict[str, Any]]

    @property
    def ids(self) -> list[str]:
        return [f"{self.knowledge_id}:{index}" for index in range(len(self.chunks))]


class SemanticMemory(ChromaMemory[Knowledge]):
    """Knowledge per tenant/user in Chroma; async methods plus ``*_sync`` twins."""

    kind = "semantic"
    filter_reserved = frozenset({"tenant_id"}) | _ACCESS_KEYS
    _hit = staticmethod(_knowledge)

    def __init__(
        self,
        client: ClientAPI,
        embeddings: Embeddings | str | None = None,
        *,
        chunk_chars: int = DEFAULT_CHUNK_CHARS,
        chunk_overlap: int = DEFAULT_OVERLAP_CHARS,
    ) -> None:
        super().__init__(client, embeddings)
        require_count(chunk_chars, "chunk_chars", minimum=100, error=InvalidMemoryInputError)
        require_count(chunk_overlap, "chunk_overlap", minimum=0, error=InvalidMemoryInputError)
        if chunk_overlap >= chunk_chars // 2:
            raise InvalidMemoryInputError("need chunk_chars >= 100, 0 <= overlap < chunk_chars/2")
        self.chunk_chars = chunk_chars
        self.chunk_overlap = chunk_overlap

    # -- storing ---------------------------------------------------------------------------

    def _prepare_store(
        self,
        content: str,
        tenant_id: str,
        user_id: str,
        metadata: Mapping[str, Any] | None,
        external_id: str | None,
        is_public: bool,
    ) -> _Write:
        tenant_id, user_id = require_scope(tenant_id, user_id)
        require_text(content, "content")
        if external_id is not None:
            require_name(external_id, "external_id")
        require_flag(is_public, "is_public")
        extra = clean_metadata(metadata, _OWN_KEYS)
        content_hash = hashlib.sha256(content.encode("utf-8")).hexdigest()
        key = f"ext:{external_id}" if external_id is not None else f"sha:{content_hash}"
        knowledge_id = hashlib.sha256(f"{tenant_id}\x00{user_id}\x00{key}".encode()).hexdigest()[
            :32
        ]
        chunks = chunk_text(content, self.chunk_chars, self.chunk_overlap)
        self._check_batch(len(chunks), "the content's chunks")
        own = {
            "tenant_id": tenant_id,
            "user_id": user_id,
            "is_public": is_public,
            "knowledge_id": knowledge_id,
            "content_hash": content_hash,
            "chunk_count": len(chunks),
            "updated_at_ns": time.time_ns(),
        }
        if external_id is not None:
            own["external_id"] = external_id
        metadatas = [{**extra, **own, "chunk_index": i} for i in range(len(chunks))]
        return _Write(tenant_id, knowledge_id, chunks, metadatas)

    @chroma_call
    def _stored(self, write: _Write) -> dict[str, tuple[dict[str, Any], list[float]]]:
        """Metadata and vector already stored under each of the write's chunk ids."""
        collection = self._existing_collection(write.tenant_id)
        if collection is None:
            return {}
        found = collection.get(ids=write.ids, include=["metadatas", "embeddings"])
        return {
            id: (dict(meta or {}), [float(x) for x in vector])
            for id, meta, vector in zip(
                found["ids"], found["metadatas"] or [], found["embeddings"], strict=True
            )
        }

    @staticmethod
    def _reusable_vectors(
        write: _Write, stored: dict[str, tuple[dict[str, Any], list[float]]]
    ) -> list[list[float]] | None:
        """The stored vectors when the content is unchanged (a re-store with new metadata or
        visibility then needs no embedding call), else None."""
        content_hash = write.metadatas[0]["content_hash"]
        if any(stored.get(id, ({}, []))[0].get("content_hash") != content_hash for id in write.ids):
            return None
        return [stored[id][1] for id in write.ids]

    @chroma_call
    def _write(
        self,
        write: _Write,
        vectors: list[list[float]],
        stored: dict[str, tuple[dict[str, Any], list[float]]],
    ) -> None:
        # Chroma merges metadata on upsert: keys the new version lacks are cleared with None.
        metadatas = [
            {**dict.fromkeys(stored.get(id, ({}, []))[0]), **meta}
            for id, meta in zip(write.ids, write.metadatas, strict=True)
        ]
        collection = self._collection(write.tenant_id)
        collection.upsert(
            ids=write.ids, embeddings=vectors, documents=write.chunks, metadatas=metadatas
        )
        stale = collection.get(
            where=scoped_where(
                {"tenant_id": write.tenant_id, "knowledge_id": write.knowledge_id},
                {"chunk_index": {"$gte": len(write.chunks)}},
            ),
            include=[],
        )["ids"]
        if stale:
            collection.delete(ids=stale)

    def store_knowledge_sync(
        self,
        content: str,
        *,
        tenant_id: str,
        user_id: str,
        metadata: Mapping[str, Any] | None = None,
        external_id: str | None = None,
        is_public: bool = False,
    ) -> str:
        """Upsert knowledge (by ``external_id``, else content hash); returns its knowledge id.

        Storing content that is already stored under the same key only updates its metadata
        and visibility (no re-embedding).
        """
        write = self._prepare_store(content, tenant_id, user_id, metadata, external_id, is_public)
        stored = self._stored(write)
        vectors = self._reusable_vectors(write, stored)
        if vectors is None:
            vectors = self.embeddings.embed_documents(write.chunks)
        self._write(write, vectors, stored)
        return write.knowledge_id

    store_knowledge = async_twin(store_knowledge_sync)

    # -- search ----------------------------------------------------------------------------

    def search_knowledge_sync(
        self,
        query: str,
        *,
        tenant_id: str,
        user_id: str,
        limit: int = 5,
        include_public: bool = True,
        filters: Mapping[str, Any] | None = None,
    ) -> list[Knowledge]:
        """Chunks closest in meaning to ``query``, best first, with scores: the user's own
        knowledge plus (``include_public``) the tenant's public knowledge."""
        tenant_id, user_id = require_scope(tenant_id, user_id)
        require_text(query, "query")
        if require_flag(include_public, "include_public"):
            access: Where = {"$or": [{"user_id": {"$eq": user_id}}, {"is_public": {"$eq": True}}]}
        else:
            access = {"user_id": {"$eq": user_id}}
        where = scoped_where(
            {"tenant_id": tenant_id}, filters, extra=[access], reserved=_ACCESS_KEYS
        )
        return self._search(tenant_id, query, where, require_limit(limit))

    search_knowledge = async_twin(search_knowledge_sync)

    # -- deletion --------------------------------------------------------------------------

    def _delete(self, tenant_id: str, where: Where) -> int:
        """Delete matching chunks; returns how many knowledge items they belonged to."""
        deleted = self._delete_where(tenant_id, where)
        return len({metadata.get("knowledge_id") for metadata in deleted})

    def delete_knowledge_sync(self, knowledge_id: str, *, tenant_id: str, user_id: str) -> bool:
        """Delete one knowledge item (all its chunks) owned by the user; False if none."""
        tenant_id, user_id = require_scope(tenant_id, user_id)
        scope = {
            "tenant_id": tenant_id,
            "user_id": user_id,
            "knowledge_id": require_name(knowledge_id, "knowledge_id"),
        }
        return self._delete(tenant_id, scoped_where(scope)) > 0

    delete_knowledge = async_twin(delete_knowledge_sync)

    def delete_user_knowledge_sync(self, *, tenant_id: str, user_id: str) -> int:
        """Delete everything the user stored (public items included); returns the item count."""
        tenant_id, user_id = require_scope(tenant_id, user_id)
        where = scoped_where({"tenant_id": tenant_id, "user_id": user_id})
        return self._delete(tenant_id, where)

    delete_user_knowledge = async_twin(delete_user_knowledge_sync)
