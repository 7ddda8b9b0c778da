"""The event index: event descriptions embedded in Chroma, so a goal can find its few tools.

One collection per tenant and embedding model (the index is derived data: switching models
builds a new one instead of mixing vector spaces). ``sync`` embeds only events that are new or
whose text changed and deletes removed ones; a fingerprint of the indexed text is stored with
each vector, so any process can sync incrementally against what is already in Chroma.

Each event is stored as one vector: the normalised mean of the embeddings of its views
(:func:`event_views`), so queries cost one nearest-neighbour search whatever the views.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Collection as Names
from collections.abc import Iterable
from typing import Any

import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from langchain_core.embeddings import Embeddings

from soorma_lc.backends.chroma_collections import open_collection
from soorma_lc.backends.embeddings import embedding_model_id
from soorma_lc.events import EventDefinition
from soorma_lc.toolkit.schema import object_schema, resolve_ref

logger = logging.getLogger(__name__)

_FINGERPRINT = "fingerprint"
_EVENT_NAME = "event_name"
_BATCH = 256
_VIEWS_VERSION = "views-v1"  # part of the fingerprint: changing how vectors are made re-embeds


def _words(name: str) -> str:
    return name.replace(".", " ").replace("_", " ").replace("-", " ")


def event_text(event: EventDefinition) -> str:
    """What is embedded for an event: its name as words, its description and guidance.

    Field names and descriptions are added only when the event has no description: measured
    on benchmarks/synthetic_events.py, field lists dilute a good description (MiniLM
    recall@5 0.87 with them, 0.89 without).
    """
    parts = [_words(event.event_name), *_prose(event)]
    if not event.description.strip():
        parts.append(_fields_text(event))
    return " ".join(_sentence(part) for part in parts if part)


def event_views(event: EventDefinition) -> list[str]:
    """The texts whose embeddings are averaged into the event's vector.

    The full :func:`event_text`, and its prose alone (description and guidance, without the
    name's words) when the event has prose. Event names are terse identifiers; averaging the
    two views keeps the name's words from outweighing what the description says. Measured on
    benchmarks/synthetic_events.py: MiniLM recall@5 0.892 with the full text only, 0.908 with
    both views; the offline embeddings 0.483 and 0.486.
    """
    full = event_text(event)
    prose = " ".join(_sentence(part) for part in _prose(event))
    return [full, prose] if prose and prose != full else [full]


def _prose(event: EventDefinition) -> list[str]:
    parts = [event.description.strip()]
    when_to_use = event.metadata.get("when_to_use")
    if isinstance(when_to_use, str):
        parts.append(when_to_use.strip())
    return [part for part in parts if part]


def _mean_direction(vectors: list[list[float]]) -> list[float]:
    """The normalised mean of the normalised ``vectors`` (a single view: itself, normalised)."""
    array = np.asarray(vectors, dtype=np.float64)
    array /= np.maximum(np.linalg.norm(array, axis=1, keepdims=True), 1e-12)
    mean = array.sum(axis=0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-12)).tolist()


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def _fields_text(event: EventDefinition) -> str:
    try:
        schema = object_schema(event.payload_schema, event_name=event.event_name)
    except ValueError:
        return ""
    fields = []
    for name, prop in schema["properties"].items():
        prop = resolve_ref(prop, schema) if isinstance(prop, dict) else {}
        text = _words(name)
        if isinstance(prop.get("description"), str):
            text += f" ({prop['description']})"
        if isinstance(prop.get("enum"), list):
            text += " one of " + ", ".join(str(v) for v in prop["enum"])
        fields.append(text)
    return f"Fields: {'; '.join(fields)}." if fields else ""


def _fingerprint(views: list[str]) -> str:
    return hashlib.sha256("\n".join([_VIEWS_VERSION, *views]).encode("utf-8")).hexdigest()


def collection_name(tenant_id: str, model_id: str) -> str:
    """Chroma-safe collection name for one tenant's event index built by one model."""
    tenant = hashlib.sha256(tenant_id.encode()).hexdigest()[:16]
    model = hashlib.sha256(model_id.encode()).hexdigest()[:10]
    return f"soorma-events-{tenant}-{model}"


class EventIndex:
    """Semantic search over event definitions, kept in step with the registry incrementally."""

    def __init__(self, client: ClientAPI, embeddings: Embeddings, *, tenant_id: str) -> None:
        self.client = client
        self.embeddings = embeddings
        self.tenant_id = tenant_id
        self.name = collection_name(tenant_id, embedding_model_id(embeddings))
        self._collection: Collection | None = None
        self._indexed: dict[str, str] | None = None  # event name -> fingerprint in Chroma
        self._lock = asyncio.Lock()

    async def _open(self) -> Collection:
        if self._collection is None:
            self._collection = await asyncio.to_thread(
                open_collection, self.client, self.name, self.embeddings
            )
        return self._collection

    async def _load_indexed(self, collection: Collection) -> dict[str, str]:
        if self._indexed is None:
            stored = await asyncio.to_thread(collection.get, include=["metadatas"])
            self._indexed = {
                name: str((metadata or {}).get(_FINGERPRINT, ""))
                for name, metadata in zip(stored["ids"], stored["metadatas"] or [], strict=False)
            }
        return self._indexed

    async def sync(self, events: Iterable[EventDefinition]) -> int:
        """Make the index hold exactly ``events``; returns how many were (re-)embedded."""
        async with self._lock:
            collection = await self._open()
            indexed = await self._load_indexed(collection)
            views = {event.event_name: event_views(event) for event in events}
            fingerprints = {name: _fingerprint(texts) for name, texts in views.items()}
            changed = [name for name, fp in fingerprints.items() if indexed.get(name) != fp]
            removed = [name for name in indexed if name not in views]
            for start in range(0, len(changed), _BATCH):
                batch = changed[start : start + _BATCH]
                vectors = await self._embed_views([views[n] for n in batch])
                metadatas: list[Any] = [
                    {_EVENT_NAME: n, _FINGERPRINT: fingerprints[n]} for n in batch
                ]
                await asyncio.to_thread(
                    collection.upsert,
                    ids=batch,
                    embeddings=vectors,
                    documents=[views[n][0] for n in batch],
                    metadatas=metadatas,
                )
                indexed.update((n, fingerprints[n]) for n in batch)
            if removed:
                await asyncio.to_thread(collection.delete, ids=removed)
                for name in removed:
                    indexed.pop(name, None)
            if changed or removed:
                logger.info(
                    "event index %s: %d embedded, %d removed", self.name, len(changed), len(removed)
                )
            return len(changed)

    async def _embed_views(self, views: list[list[str]]) -> list[list[float]]:
        """One vector per event from one embedding call over all the events' views."""
        flat = await self.embeddings.aembed_documents([text for texts in views for text in texts])
        vectors, start = [], 0
        for texts in views:
            vectors.append(_mean_direction(flat[start : start + len(texts)]))
            start += len(texts)
        return vectors

    async def rank(
        self, query: str, k: int, *, among: Names[str] | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` indexed events most similar to ``query`` as (name, cosine similarity)."""
        collection = await self._open()
        indexed = await self._load_indexed(collection)
        names = set(indexed) if among is None else set(among) & indexed.keys()
        if k <= 0 or not names:
            return []
        vector = await self.embeddings.aembed_query(query)
        where: Any = None
        if len(names) < len(indexed):
            where = {_EVENT_NAME: {"$in": sorted(names)}}
        result = await asyncio.to_thread(
            collection.query,
            query_embeddings=[vector],
            n_results=min(k, len(names)),
            where=where,
            include=["distances"],
        )
        ids = result["ids"][0]
        distances = (result.get("distances") or [[]])[0]
        return [(name, 1.0 - float(d)) for name, d in zip(ids, distances, strict=False)]
