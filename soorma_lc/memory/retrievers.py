"""LangChain retrievers over episodic and semantic memory (sync ``invoke`` and ``ainvoke``).

Both take ``k``, ``score_threshold`` (minimum cosine similarity) and Chroma-style metadata
``filters`` at construction, and accept the same three as ``invoke(query, k=..., ...)``
overrides. Their scope (tenant, user, agent) is fixed at construction: no call can widen it.
"""

from __future__ import annotations

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

from soorma_lc.config import Settings, resolve_settings
from soorma_lc.errors import InvalidMemoryInputError
from soorma_lc.memory.chroma_memory import MAX_LIMIT, require_limit
from soorma_lc.memory.episodic import EpisodicMemory, Interaction
from soorma_lc.memory.semantic import Knowledge, SemanticMemory

_OVERRIDES = frozenset({"k", "score_threshold", "filters"})


class _MemoryRetriever(BaseRetriever):
    """Shared options and call plumbing; subclasses fetch hits and turn them into Documents."""

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    k: int = Field(default=4, ge=1, le=MAX_LIMIT)
    score_threshold: float | None = Field(default=None, ge=-1.0, le=1.0)
    filters: dict[str, Any] | None = None

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
            raise InvalidMemoryInputError(
                f"invalid {type(self).__name__} options: " + "; ".join(problems), problems
            ) from exc

    def _options(self, overrides: dict[str, Any]) -> tuple[int, float | None, Any]:
        unknown = set(overrides) - _OVERRIDES
        if unknown:
            raise InvalidMemoryInputError(
                f"unknown retriever option(s) {sorted(unknown)}; supported: {sorted(_OVERRIDES)}"
            )
        k = require_limit(overrides.get("k", self.k), "k")
        threshold = overrides.get("score_threshold", self.score_threshold)
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

    @abstractmethod
    async def _asearch(self, query: str, limit: int, filters: Any) -> list[Any]:
        """Up to ``limit`` hits for ``query``, best first."""

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k, threshold, filters = self._options(kwargs)
        return self._rank(self._search(query, self._fetch_count(k), filters), k, threshold)

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k, threshold, filters = self._options(kwargs)
        hits = await self._asearch(query, self._fetch_count(k), filters)
        return self._rank(hits, k, threshold)


class EpisodicRetriever(_MemoryRetriever):
    """Past interactions of one agent with one user, most relevant first.

    ``recency_weight`` in [0, 1] blends similarity with freshness: the final score is
    ``(1 - w) * similarity + w * 0.5 ** (age / recency_half_life)`` (seconds), computed over
    a wider candidate set. ``score_threshold`` applies to the similarity alone.
    """

    memory: EpisodicMemory
    agent_id: str
    user_id: str
    tenant_id: str
    recency_weight: float = Field(default=0.0, ge=0.0, le=1.0)
    recency_half_life: float = Field(default=86_400.0, gt=0.0)

    def _fetch_count(self, k: int) -> int:
        return min(MAX_LIMIT, max(4 * k, k + 20)) if self.recency_weight else k

    def _search(self, query: str, limit: int, filters: Any) -> list[Interaction]:
        return self.memory.search_interactions_sync(
            self.agent_id, query, self.user_id, self.tenant_id, limit=limit, filters=filters
        )

    async def _asearch(self, query: str, limit: int, filters: Any) -> list[Interaction]:
        return await self.memory.search_interactions(
            self.agent_id, query, self.user_id, self.tenant_id, limit=limit, filters=filters
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
    user_id: str
    tenant_id: str
    include_public: bool = True

    def _search(self, query: str, limit: int, filters: Any) -> list[Knowledge]:
        return self.memory.search_knowledge_sync(
            query, self.user_id, self.tenant_id, limit, self.include_public, filters
        )

    async def _asearch(self, query: str, limit: int, filters: Any) -> list[Knowledge]:
        return await self.memory.search_knowledge(
            query, self.user_id, self.tenant_id, limit, self.include_public, filters
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
    user_id: str | None = None,
    tenant_id: str | None = None,
    settings: Settings | None = None,
    **options: Any,
) -> EpisodicRetriever:
    """An :class:`EpisodicRetriever`; memory and unset ids come from ``settings``.

    ``options``: ``k``, ``score_threshold``, ``filters`` (e.g. ``{"plan_id": "p1"}`` or
    ``{"role": "user"}``), ``recency_weight``, ``recency_half_life``.
    """
    settings = resolve_settings(settings)
    return EpisodicRetriever(
        memory=memory or EpisodicMemory.from_settings(settings),
        agent_id=agent_id,
        user_id=user_id or settings.user_id,
        tenant_id=tenant_id or settings.tenant_id,
        **options,
    )


def semantic_retriever(
    memory: SemanticMemory | None = None,
    *,
    user_id: str | None = None,
    tenant_id: str | None = None,
    settings: Settings | None = None,
    **options: Any,
) -> SemanticRetriever:
    """A :class:`SemanticRetriever`; memory and unset ids come from ``settings``.

    ``options``: ``k``, ``score_threshold``, ``filters``, ``include_public``.
    """
    settings = resolve_settings(settings)
    return SemanticRetriever(
        memory=memory or SemanticMemory.from_settings(settings),
        user_id=user_id or settings.user_id,
        tenant_id=tenant_id or settings.tenant_id,
        **options,
    )
