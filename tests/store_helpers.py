"""Helpers shared by the SoormaStore tests: a deterministic embedding and the reference store."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable

from langchain_core.embeddings import Embeddings
from langgraph.store.base import IndexConfig, Op, PutOp, Result
from langgraph.store.memory import InMemoryStore

DIMS = 33


class WordEmbeddings(Embeddings):
    """Signed bag-of-words vectors (32 hashed dims plus a bias, so never all-zero)."""

    model_id = "tests-word-embeddings-33"

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * (DIMS - 1) + [0.5]
        for word in re.findall(r"\w+", text.lower()):
            digest = zlib.crc32(word.encode("utf-8"))
            vector[digest % (DIMS - 1)] += 1.0 if digest & 0x100 else -0.7
        return vector

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


def index_config(fields: list[str] | None = None) -> IndexConfig:
    """The index config both stores of a comparison use."""
    return {"dims": DIMS, "embed": WordEmbeddings(), "fields": fields or ["text"]}


class ReferenceStore(InMemoryStore):
    """LangGraph's InMemoryStore minus two quirks that no persistent store shares.

    - A put replaces an item's vectors (InMemoryStore keeps vectors of paths the new value
      no longer indexes, e.g. after a re-put with ``index=False``).
    - Namespaces without items are not listed (InMemoryStore lists any namespace ever read).
    """

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        ops = list(ops)
        self._forget_replaced_vectors(ops)
        results = super().batch(ops)
        self._drop_empty_namespaces()
        return results

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        ops = list(ops)
        self._forget_replaced_vectors(ops)
        results = await super().abatch(ops)
        self._drop_empty_namespaces()
        return results

    def _forget_replaced_vectors(self, ops: list[Op]) -> None:
        for op in ops:
            if isinstance(op, PutOp):
                self._vectors[op.namespace].pop(op.key, None)

    def _drop_empty_namespaces(self) -> None:
        for namespace in [ns for ns, items in self._data.items() if not items]:
            del self._data[namespace]
