"""LangChain retrievers over episodic and semantic memory (sync ``invoke`` and ``ainvoke``).

Both take ``k``, ``score_threshold`` (minimum cosine similarity) and Chroma-style metadata
``filters`` at construction, and accept the same three as ``invoke(query, k=..., ...)``
overrides. Their scope (tenant, user, agent) is fixed at construction: no call can widen it,
and a missing tenant or user raises :class:`ScopeError` there. LangChain's own pair is the
sync/async convention here: ``_get_relevant_documents`` searches with the memory's blocking
``*_sync`` method and ``_aget_relevant_documents`` runs it in a worker thread.
"""

from __future__ import annotations

import asyncio
import math
import time
from abc import abstractmethod
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, ValidationError

from soorma_lc.checks import shown
from soorma_lc.config import Settings
from soorma_lc.errors import InvalidMemoryInputError
from soorma_lc.memory._values import require_scope
from soorma_lc.memory.chroma_memory import MAX_LIMIT, ChromaMemory, require_limit, require_name
from soorma_lc.memory.episodic import EpisodicMemory, Interaction
from soorma_lc.memory.semantic import Knowledge, SemanticMemory

_OVERRIDES = frozenset({"k", "score_threshold", "filters"})


class _MemoryRetriever(BaseRetriever):
    """Shared scope, options and call plumbing; subclasses fetch hits and make Documents."""

    model_config = ConfigDict(
        arbitrary_types_allowed=True, extra="forbid", strict=True, allow_inf_nan=False
    )

    tenant_id: str
    user_id: str
    k: int = Field(default=4, ge=1, le=MAX_LIMIT)
    score_threshold: float | None = Field(default=None, ge=-1.0, le=1.0)
    filters: dict[str, Any] | None = None

    def __init__(self, **data: Any) -> None:
        require_scope(data.get("tenant_id"), data.get("user_id"))
        if isinstance(data.get("memory"), ChromaMemory):  # the same error as a search gives
            data["memory"].check_filters(data.get("filters"))
        try:
            super().__init__(**data)
        except ValidationError as exc:
            problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
            raise InvalidMemoryInputError(
                f"invalid {type(self).__name__} options: " + "; ".join(problems), problems
            ) from exc
        self._check_scope()

    def _check_scope(self) -> None:
        """Refuse scope fields the memory would refuse at the first search."""

    def _options(self, overrides: dict[str, Any]) -> tuple[int, float | None, Any]:
        unknown = set(overrides) - _OVERRIDES
        if unknown:
            raise InvalidMemoryInputError(
                f"unknown retriever option(s) {sorted(unknown)}; supported: {sorted(_OVERRIDES)}"
            )
        k = require_limit(overrides.get("k", self.k), "k")
        threshold = overrides.get("score_threshold", self.score_threshold)
        if threshold is not None and (
            isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
            or not -1.0 <= threshold <= 1.0  # NaN fails this too
        ):
            raise InvalidMemoryInputError(
                f"score_threshold must be a number in [-1, 1] or None, got {shown(threshold)}"
            )
        return k, threshold, overrides.get("filters", self.filters)

    def _fetch_count(self, k: int) -> int:
        """How many candidates to fetch for ``k`` results (more when re-ranking)."""
        return k

    def _score(self, hit: Any, now_ns: int) -> float:
        """The score results are ranked by: the similarity, unless a subclass blends in more."""
        return float(hit.score)

    def _rank(self, hits: list[Any], k: int, threshold: float | None) -> list[Document]:
        """The ``k`` best hits whose similarity reaches ``threshold``, best score first."""
        now_ns = time.time_ns()
        scored = [
            (self._score(hit, now_ns), hit)
            for hit in hits
            if threshold is None or hit.score >= threshold
        ]
        scored.sort(key=lambda pair: pair[0], reverse=True)  # stable: ties keep Chroma's order
        return [self._document(hit, score) for score, hit in scored[:k]]

    @abstractmethod
    def _document(self, hit: Any, score: float) -> Document:
        """The LangChain Document for one hit, with ``score`` in its metadata."""

    @abstractmethod
    def _search(self, query: str, limit: int, filters: Any) -> list[Any]:
        """Up to ``limit`` hits for ``query``, best first (blocking)."""

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k, threshold, filters = self._options(kwargs)
        return self._rank(self._search(query, self._fetch_count(k), filters), k, threshold)

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        return await asyncio.to_thread(
            self._get_relevant_documents, query, run_manager=run_manager.get_sync(), **kwargs
        )


class EpisodicRetriever(_MemoryRetriever):
    """Past interactions of one agent with one user, most relevant first.

    ``recency_weight`` in [0, 1] blends similarity with freshness: the final score is
    ``(1 - w) * similarity + w * 0.5 ** (age / recency_half_life)`` (seconds), computed over
    a wider candidate set. ``score_threshold`` applies to the similarity alone.
    """

    memory: EpisodicMemory
    agent_id: str
    recency_weight: float = Field(default=0.0, ge=0.0, le=1.0)
    recency_half_life: float = Field(default=86_400.0, gt=0.0)

    def _check_scope(self) -> None:
        require_name(self.agent_id, "agent_id")

    def _fetch_count(self, k: int) -> int:
        return min(MAX_LIMIT, max(4 * k, k + 20)) if self.recency_weight else k

    def _search(self, query: str, limit: int, filters: Any) -> list[Interaction]:
        return self.memory.search_interactions_sync(
            self.agent_id,
            query,
            tenant_id=self.tenant_id,
            user_id=self.user_id,
            limit=limit,
            filters=filters,
        )

    def _score(self, hit: Interaction, now_ns: int) -> float:
        weight = self.recency_weight
        if not weight:
            return super()._score(hit, now_ns)
        age_s = max(0, now_ns - hit.created_at_ns) / 1e9
        return (1 - weight) * hit.score + weight * math.pow(0.5, age_s / self.recency_half_life)

    def _document(self, hit: Interaction, score: float) -> Document:
        return Document(
            id=hit.id,
            page_content=hit.content,
            metadata={
                **hit.metadata,
                "id": hit.id,
                "role": hit.role,
                "agent_id": hit.agent_id,
                "user_id": hit.user_id,
                "created_at": hit.created_at.isoformat(),
                "similarity": hit.score,
                "score": score,
            },
        )


class SemanticRetriever(_MemoryRetriever):
    """Knowledge chunks of one user (plus the tenant's public knowledge), most relevant first."""

    memory: SemanticMemory
    include_public: bool = True

    def _search(self, query: str, limit: int, filters: Any) -> list[Knowledge]:
        return self.memory.search_knowledge_sync(
            query,
            tenant_id=self.tenant_id,
            user_id=self.user_id,
            limit=limit,
            include_public=self.include_public,
            filters=filters,
        )

    def _document(self, hit: Knowledge, score: float) -> Document:
        return Document(
            id=hit.id,
            page_content=hit.content,
            metadata={
                **hit.metadata,
                "id": hit.id,
                "knowledge_id": hit.knowledge_id,
                "user_id": hit.user_id,
                "is_public": hit.is_public,
                "external_id": hit.external_id,
                "chunk_index": hit.chunk_index,
                "chunk_count": hit.chunk_count,
                "score": score,
            },
        )


def episodic_retriever(
    agent_id: str,
    memory: EpisodicMemory | None = None,
    *,
    tenant_id: str,
    user_id: str,
    settings: Settings | None = None,
    **options: Any,
) -> EpisodicRetriever:
    """An :class:`EpisodicRetriever` over ``agent_id``'s history with the user; ``memory``
    defaults to the episodic memory configured by ``settings``.

    ``options``: ``k``, ``score_threshold``, ``filters`` (e.g. ``{"plan_id": "p1"}`` or
    ``{"role": "user"}``), ``recency_weight``, ``recency_half_life``.
    """
    return EpisodicRetriever(
        memory=memory or EpisodicMemory.from_settings(settings),
        agent_id=agent_id,
        tenant_id=tenant_id,
        user_id=user_id,
        **options,
    )


def semantic_retriever(
    memory: SemanticMemory | None = None,
    *,
    tenant_id: str,
    user_id: str,
    settings: Settings | None = None,
    **options: Any,
) -> SemanticRetriever:
    """A :class:`SemanticRetriever` over the user's (and the tenant's public) knowledge;
    ``memory`` defaults to the semantic memory configured by ``settings``.

    ``options``: ``k``, ``score_threshold``, ``filters``, ``include_public``.
    """
    return SemanticRetriever(
        memory=memory or SemanticMemory.from_settings(settings),
        tenant_id=tenant_id,
        user_id=user_id,
        **options,
    )
