"""The store's vector index in Chroma: one collection per tenant, cosine space.

Chroma holds only vectors and the metadata needed to find them (scope, namespace labels,
item id, generation); values live in Redis. Every query's ``where`` pins the scope, and user
filters are never passed to Chroma, so no filter can reach another tenant or user.

A vector's id is ``<scope>|<item id>|<generation>|<n>``: a put writes the new generation's
vectors before the item, then deletes the old generation's, so a search never sees an item
without its vectors; stale vectors left by a crash are skipped (their generation is not the
item's) and removed by later writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from langchain_core.embeddings import Embeddings

from soorma_lc.backends.chroma import chroma_call
from soorma_lc.backends.chroma_collections import collection_name as shared_collection_name
from soorma_lc.backends.chroma_collections import open_collection
from soorma_lc.errors import InvalidEmbeddingError
from soorma_lc.memory.chroma_memory import similarity
from soorma_lc.memory.store.codec import StoredItem


def collection_name(tenant_id: str) -> str:
    """The Chroma collection of a tenant's store vectors."""
    return shared_collection_name("store", tenant_id)


@dataclass(frozen=True, slots=True)
class Hit:
    """One vector found by a query: whose it is and how close (cosine similarity)."""

    item_id: str
    generation: str
    score: float


class ChromaVectors:
    """Vectors of one scope. All methods block: the store calls them via ``asyncio.to_thread``."""

    def __init__(
        self,
        client: ClientAPI,
        tenant_id: str,
        scope: str,
        embeddings: Embeddings,
        dims: int | None,
    ) -> None:
        self._client = client
        self._name = collection_name(tenant_id)
        self._embeddings = embeddings
        self._scope = scope
        self._dims = dims
        self._collection: Collection | None = None

    def _open(self) -> Collection:
        if self._collection is None:
            self._collection = open_collection(self._client, self._name, self._embeddings)
        return self._collection

    def check(self, vectors: list[list[float]]) -> None:
        """Raise :class:`InvalidEmbeddingError` if any vector has the wrong size or no direction."""
        for vector in vectors:
            if self._dims is not None and len(vector) != self._dims:
                raise InvalidEmbeddingError(
                    f"the index expects {self._dims}-dimensional vectors, got {len(vector)}"
                )
            if not any(vector):
                raise InvalidEmbeddingError("the embedding model returned an all-zero vector")

    def vector_ids(self, item: StoredItem) -> list[str]:
        """Ids of the vectors of ``item``'s generation."""
        return [f"{self._scope}|{item.id}|{item.generation}|{n}" for n in range(item.vectors)]

    @chroma_call
    def add(self, batch: list[tuple[StoredItem, list[list[float]]]]) -> None:
        """Write the vectors of several items (one vector per indexed text), in as few calls
        as Chroma's batch size allows. Vectors that a failed call leaves behind belong to no
        item's generation: searches skip them and later writes of the item replace them."""
        ids: list[str] = []
        vectors: list[list[float]] = []
        metadatas: list[dict[str, Any]] = []
        for item, item_vectors in batch:
            metadata: dict[str, Any] = {
                "scope": self._scope,
                "item": item.id,
                "gen": item.generation,
                **{f"ns_{i}": label for i, label in enumerate(item.namespace)},
            }
            ids.extend(self.vector_ids(item))
            vectors.extend(item_vectors)
            metadatas.extend([metadata] * len(item_vectors))
        for part in self._batches(len(ids)):
            self._open().upsert(ids=ids[part], embeddings=vectors[part], metadatas=metadatas[part])

    @chroma_call
    def delete(self, ids: list[str]) -> None:
        """Delete vectors by id (unknown ids are ignored)."""
        for part in self._batches(len(ids)):
            self._open().delete(ids=ids[part])

    def _batches(self, count: int) -> list[slice]:
        """Slices of ``count`` records, each within Chroma's batch size."""
        if not count:
            return []
        step = self._client.get_max_batch_size()
        return [slice(start, start + step) for start in range(0, count, step)]

    @chroma_call
    def query(self, vector: list[float], prefix: tuple[str, ...], k: int) -> list[Hit]:
        """The ``k`` vectors under ``prefix`` nearest to ``vector``, nearest first.

        ``k`` is clamped to the collection's size: Chroma refuses a count past its integer
        range, and fewer hits than ``k`` already tells the caller every vector was seen."""
        collection = self._open()
        k = min(k, collection.count())
        if k < 1:
            return []
        conditions = [{"scope": self._scope}] + [
            {f"ns_{i}": label} for i, label in enumerate(prefix)
        ]
        where = conditions[0] if len(conditions) == 1 else {"$and": conditions}
        result = collection.query(
            query_embeddings=[vector],
            n_results=k,
            where=where,
            include=["metadatas", "distances"],
        )
        metadatas = (result["metadatas"] or [[]])[0]
        distances = (result["distances"] or [[]])[0]
        return [
            Hit(str(meta["item"]), str(meta["gen"]), min(1.0, similarity(distance)))
            for meta, distance in zip(metadatas, distances, strict=True)
        ]
