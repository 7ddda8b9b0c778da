"""Helpers for the episodic/semantic memory and retriever tests (real embedded Chroma)."""

from __future__ import annotations

from pathlib import Path

import chromadb
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings
from langchain_core.embeddings import Embeddings

from soorma_lc.memory.embeddings import HashingEmbeddings

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
