"""Text similarity for the offline planner, from the project's offline embeddings."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from langchain_core.embeddings import Embeddings

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[._\-/:]+")
# Words every planner message and tool description carries ("Goal event: ...", "a result event
# follows", "Result event ..."): they say nothing about the topic, so they are left out.
_BOILERPLATE = re.compile(
    r"\b(?:goal|event|events|result|results|follows|data|json|request|payload|publish)\b",
    re.IGNORECASE,
)


def words(name: str) -> str:
    """``user_email``, ``userEmail``, ``research.request`` as plain words."""
    return _SEPARATORS.sub(" ", _CAMEL.sub(" ", name)).strip().lower()


class Relevance:
    """Cosine similarity of texts under ``embeddings``, boilerplate words left out.

    Made for one decision: vectors are cached per text for as long as the object lives.

    The thresholds in :mod:`soorma_lc.llm.offline.policy` are calibrated for
    :class:`~soorma_lc.backends.embeddings.HashingEmbeddings`.
    """

    def __init__(self, embeddings: Embeddings) -> None:
        self._embeddings = embeddings
        self._vectors: dict[str, np.ndarray] = {}

    def _vector(self, text: str) -> np.ndarray:
        vector = self._vectors.get(text)
        if vector is None:
            topical = _BOILERPLATE.sub(" ", text)
            raw = np.asarray(self._embeddings.embed_query(topical), dtype=np.float64)
            norm = float(np.linalg.norm(raw))
            vector = raw / norm if norm else raw
            self._vectors[text] = vector
        return vector

    def similarity(self, first: str, second: str) -> float:
        if not first.strip() or not second.strip():
            return 0.0
        return float(np.dot(self._vector(first), self._vector(second)))

    def best(self, text: str, others: Sequence[str]) -> float:
        """The highest similarity of ``text`` to any of ``others`` (0 when there are none)."""
        return max((self.similarity(text, other) for other in others), default=0.0)
