"""Helpers for the episodic/semantic memory and retriever tests (real embedded Chroma)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, TypeVar

import chromadb
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings
from langchain_core.embeddings import Embeddings

from soorma_lc.backends.embeddings import HashingEmbeddings
from soorma_lc.memory.chroma_memory import ChromaMemory

M = TypeVar("M", bound=ChromaMemory)

TENANT = "tenant-a"
OTHER_TENANT = "tenant-b"
USER = "user-1"
OTHER_USER = "user-2"
AGENT = "agent-x"
OTHER_AGENT = "agent-y"


def new_chroma(path: Path) -> ClientAPI:
    """A fresh embedded Chroma under ``path`` (not the process-wide cached client)."""
    return chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
    )


class CountingEmbeddings(Embeddings):
    """The offline embeddings, counting how many texts were embedded (same model id)."""

    def __init__(self) -> None:
        self.inner = HashingEmbeddings()
        self.model_id = self.inner.model_id
        self.embedded = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        self.embedded += 1
        return self.inner.embed_query(text)


def thread_recording(cls: type[M], client: ClientAPI, seen: list[int]) -> M:
    """A ``cls`` memory that appends the thread id of every blocking collection lookup."""

    class Recording(cls):  # type: ignore[valid-type, misc]
        def _collection(self, tenant_id: str) -> Any:
            seen.append(threading.get_ident())
            return super()._collection(tenant_id)

        def _existing_collection(self, tenant_id: str) -> Any:
            seen.append(threading.get_ident())
            return super()._existing_collection(tenant_id)

    return Recording(client)
