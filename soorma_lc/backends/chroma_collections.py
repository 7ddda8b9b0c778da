"""Chroma collections that remember which embedding model built them.

Vectors from two models live in unrelated spaces: querying one model's collection with another
model's vectors returns confident garbage (or fails on the dimension). Every collection opened
here records ``embedding_model`` in its metadata and refuses any other model.
"""

from __future__ import annotations

import hashlib
import logging

from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.errors import NotFoundError
from langchain_core.embeddings import Embeddings

from soorma_lc.backends.embeddings import embedding_model_id
from soorma_lc.errors import EmbeddingModelMismatchError

logger = logging.getLogger(__name__)

EMBEDDING_MODEL_KEY = "embedding_model"
UNKNOWN_MODEL = "<unrecorded>"


def collection_name(kind: str, tenant_id: str) -> str:
    """The name of ``tenant_id``'s collection of ``kind`` (episodic, semantic, store, ...)."""
    return f"soorma-{kind}-{hashlib.sha256(tenant_id.encode('utf-8')).hexdigest()[:40]}"


def open_collection(client: ClientAPI, name: str, embeddings: Embeddings) -> Collection:
    """Get or create the cosine-space collection ``name`` for ``embeddings`` (blocking call).

    Raises :class:`EmbeddingModelMismatchError` when the collection was built by another model.
    An empty collection without a recorded model (made by other tools) is adopted.
    """
    model_id = embedding_model_id(embeddings)
    collection = client.get_or_create_collection(
        name,
        metadata={EMBEDDING_MODEL_KEY: model_id},
        configuration={"hnsw": {"space": "cosine"}},
        embedding_function=None,
    )
    return _checked(collection, model_id)


def find_collection(client: ClientAPI, name: str, embeddings: Embeddings) -> Collection | None:
    """Like :func:`open_collection`, but None when the collection does not exist: reads of
    scopes that never stored anything create nothing."""
    try:
        collection = client.get_collection(name, embedding_function=None)
    except NotFoundError:
        return None
    return _checked(collection, embedding_model_id(embeddings))


def _checked(collection: Collection, model_id: str) -> Collection:
    stored = (collection.metadata or {}).get(EMBEDDING_MODEL_KEY)
    if stored is None and collection.count() == 0:
        logger.info("recording embedding model %s on collection %s", model_id, collection.name)
        collection.modify(metadata={**(collection.metadata or {}), EMBEDDING_MODEL_KEY: model_id})
        stored = model_id
    if stored != model_id:
        raise EmbeddingModelMismatchError(collection.name, str(stored or UNKNOWN_MODEL), model_id)
    return collection
