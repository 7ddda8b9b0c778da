"""Memory for agents: working memory (Redis) and long-term memory (Chroma).

Components load on first access, so working-memory users never import Chroma.

Conventions of the whole layer: scope arguments are keyword-only, always ``*, tenant_id,
user_id`` (required; a blank one raises :class:`ScopeError`). Soorma-vocabulary methods are
async; the Chroma-backed memories give each a blocking ``*_sync`` twin generated from one
implementation (:mod:`soorma_lc.memory.twins`). LangGraph and LangChain interfaces (the
checkpointer, the store, the retrievers) keep their own sync/async naming.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from soorma_lc._lazy import lazy_getattr

if TYPE_CHECKING:
    from soorma_lc.backends.embeddings import (
        HashingEmbeddings,
        LiteLLMEmbeddings,
        LocalMiniLMEmbeddings,
        embedding_model_id,
        resolve_embeddings,
    )
    from soorma_lc.memory.checkpoint import RedisCheckpointSaver
    from soorma_lc.memory.client import MemoryClient
    from soorma_lc.memory.episodic import EpisodicMemory, Interaction
    from soorma_lc.memory.plans import Plan, PlanStatus, Session
    from soorma_lc.memory.retrievers import (
        EpisodicRetriever,
        SemanticRetriever,
        episodic_retriever,
        semantic_retriever,
    )
    from soorma_lc.memory.semantic import Knowledge, SemanticMemory
    from soorma_lc.memory.store import SoormaStore
    from soorma_lc.memory.workflow_state import WorkflowState

_LAZY_EXPORTS: dict[str, str] = {
    "EpisodicMemory": "soorma_lc.memory.episodic",
    "EpisodicRetriever": "soorma_lc.memory.retrievers",
    "HashingEmbeddings": "soorma_lc.backends.embeddings",
    "LiteLLMEmbeddings": "soorma_lc.backends.embeddings",
    "LocalMiniLMEmbeddings": "soorma_lc.backends.embeddings",
    "SemanticRetriever": "soorma_lc.memory.retrievers",
    "Interaction": "soorma_lc.memory.episodic",
    "Knowledge": "soorma_lc.memory.semantic",
    "MemoryClient": "soorma_lc.memory.client",
    "Plan": "soorma_lc.memory.plans",
    "PlanStatus": "soorma_lc.memory.plans",
    "RedisCheckpointSaver": "soorma_lc.memory.checkpoint",
    "SemanticMemory": "soorma_lc.memory.semantic",
    "Session": "soorma_lc.memory.plans",
    "SoormaStore": "soorma_lc.memory.store",
    "WorkflowState": "soorma_lc.memory.workflow_state",
    "embedding_model_id": "soorma_lc.backends.embeddings",
    "episodic_retriever": "soorma_lc.memory.retrievers",
    "resolve_embeddings": "soorma_lc.backends.embeddings",
    "semantic_retriever": "soorma_lc.memory.retrievers",
}


__getattr__ = lazy_getattr(__name__, _LAZY_EXPORTS)


__all__ = [
    "EpisodicMemory",
    "EpisodicRetriever",
    "HashingEmbeddings",
    "Interaction",
    "Knowledge",
    "LiteLLMEmbeddings",
    "LocalMiniLMEmbeddings",
    "MemoryClient",
    "Plan",
    "PlanStatus",
    "RedisCheckpointSaver",
    "SemanticMemory",
    "SemanticRetriever",
    "Session",
    "SoormaStore",
    "WorkflowState",
    "embedding_model_id",
    "episodic_retriever",
    "resolve_embeddings",
    "semantic_retriever",
]
