"""Episodic memory: what an agent and a user said to each other, searchable by meaning.

Scope: tenant + agent_id + user_id (Soorma's model). Interactions are append-only; each
records its role, content, a nanosecond timestamp and free metadata (``plan_id``,
``session_id``, ...). Recency order is by that timestamp, ties broken by id.

Logging appends, so logging one turn twice stores it twice, unless the caller gives the turn a
``key`` (an event id, a message id): a key already logged in the scope is not stored again, and
the first logged interaction is returned. Retried handlers (at-least-once delivery) log with a
key.

Every method is async with a blocking ``*_sync`` twin (:mod:`soorma_lc.memory.twins`); scope
arguments are keyword-only, ``*, tenant_id, user_id``.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chromadb.api.models.Collection import Collection

from soorma_lc.backends.chroma import chroma_call
from soorma_lc.checks import shown
from soorma_lc.errors import InvalidMemoryInputError
from soorma_lc.memory._values import reading, require_scope
from soorma_lc.memory.chroma_filters import clean_metadata, scoped_where
from soorma_lc.memory.chroma_memory import (
    ChromaMemory,
    require_limit,
    require_name,
    require_text,
)
from soorma_lc.memory.twins import async_twin

_OWN_KEYS = frozenset({"tenant_id", "user_id", "agent_id", "role", "created_at_ns"})
Turn = tuple[str, str] | tuple[str, str, Mapping[str, Any] | None]
"""One turn to log: ``(role, content)`` or ``(role, content, metadata)``."""
# get_recent_history looks back through growing windows before scanning everything.
_HISTORY_WINDOWS_NS = tuple(int(s * 1e9) for s in (3600, 86_400, 7 * 86_400, 90 * 86_400))


@dataclass(frozen=True, slots=True)
class Interaction:
    """One logged interaction; ``score`` is the cosine similarity when it came from a search."""

    id: str
    tenant_id: str
    agent_id: str
    user_id: str
    role: str
    content: str
    created_at_ns: int
    metadata: dict[str, Any] = field(default_factory=dict)
    score: float | None = None

    @property
    def created_at(self) -> datetime:
        """When it was logged (UTC); ``created_at_ns`` is the exact stored sort key."""
        return datetime.fromtimestamp(self.created_at_ns / 1e9, tz=UTC)


def _interaction(
    id: str, document: str, metadata: Mapping[str, Any], score: float | None = None
) -> Interaction:
    return Interaction(
        id=id,
        tenant_id=str(metadata["tenant_id"]),
        agent_id=str(metadata["agent_id"]),
        user_id=str(metadata["user_id"]),
        role=str(metadata["role"]),
        content=document,
        created_at_ns=int(metadata["created_at_ns"]),
        metadata={k: v for k, v in metadata.items() if k not in _OWN_KEYS},
        score=score,
    )


class EpisodicMemory(ChromaMemory[Interaction]):
    """Interactions per tenant/agent/user in Chroma; async methods plus ``*_sync`` twins."""

    kind = "episodic"
    filter_reserved = frozenset({"tenant_id", "agent_id", "user_id"})
    _hit = staticmethod(_interaction)

    @staticmethod
    def _scope(agent_id: str, tenant_id: str, user_id: str) -> dict[str, str]:
        tenant_id, user_id = require_scope(tenant_id, user_id)
        return {
            "tenant_id": tenant_id,
            "agent_id": require_name(agent_id, "agent_id"),
            "user_id": user_id,
        }

    # -- writing ---------------------------------------------------------------------------

    @staticmethod
    def _keyed_ids(
        scope: dict[str, str], keys: Sequence[str | None] | None, count: int
    ) -> list[str | None]:
        """The stored id of each keyed turn (the same key, the same id), None for the others."""
        if keys is None:
            return [None] * count
        if isinstance(keys, str | bytes | Mapping) or not isinstance(keys, Iterable):
            raise InvalidMemoryInputError(f"keys must be a sequence of {count} keys (or None)")
        keys = list(keys)
        if len(keys) != count:
            raise InvalidMemoryInputError(f"keys must be a sequence of {count} keys (or None)")
        ids: list[str | None] = []
        for key in keys:
            if key is None:
                ids.append(None)
                continue
            require_name(key, "key")
            parts = "\x00".join((scope["tenant_id"], scope["agent_id"], scope["user_id"], key))
            ids.append("key-" + hashlib.sha256(parts.encode()).hexdigest()[:32])
        named = [id for id in ids if id is not None]
        if len(set(named)) != len(named):
            raise InvalidMemoryInputError("a key appears twice among the turns")
        return ids

    def _prepare_log(
        self,
        agent_id: str,
        turns: Sequence[Turn],
        tenant_id: str,
        user_id: str,
        keys: Sequence[str | None] | None = None,
    ) -> list[Interaction]:
        """Validate every turn before anything is embedded or written (all or nothing)."""
        scope = self._scope(agent_id, tenant_id, user_id)
        if isinstance(turns, str | bytes | Mapping) or not isinstance(turns, Iterable):
            raise InvalidMemoryInputError("turns must be a non-empty sequence of (role, content)")
        turns = list(turns)
        if not turns:
            raise InvalidMemoryInputError("turns must be a non-empty sequence of (role, content)")
        self._check_batch(len(turns), "the interactions to log")
        keyed = self._keyed_ids(scope, keys, len(turns))
        prepared: list[tuple[str, str, dict[str, Any]]] = []
        for turn in turns:
            if not isinstance(turn, tuple | list) or len(turn) not in (2, 3):
                raise InvalidMemoryInputError(
                    f"each turn is (role, content) or (role, content, metadata), got {shown(turn)}"
                )
            role, content = require_name(turn[0], "role"), require_text(turn[1], "content")
            metadata = turn[2] if len(turn) == 3 else None
            prepared.append((role, content, clean_metadata(metadata, _OWN_KEYS)))
        first_ns = time.time_ns()
        # Consecutive nanoseconds keep a batch's order exact in recency queries.
        return [
            Interaction(
                id=keyed[n] or f"{first_ns + n:020d}-{uuid.uuid4().hex[:16]}",
                role=role,
                content=content,
                created_at_ns=first_ns + n,
                metadata=extra,
                **scope,
            )
            for n, (role, content, extra) in enumerate(prepared)
        ]

    @chroma_call
    def _logged_before(self, interactions: list[Interaction]) -> dict[str, Interaction]:
        """The keyed interactions already stored, by id."""
        keyed = [i.id for i in interactions if i.id.startswith("key-")]
        collection = self._existing_collection(interactions[0].tenant_id) if keyed else None
        if collection is None:
            return {}
        return {i.id: i for i in self._fetch_documents(collection, keyed)}

    @chroma_call
    def _write(self, interactions: list[Interaction], vectors: list[list[float]]) -> None:
        stored = [
            {
                **interaction.metadata,
                "tenant_id": interaction.tenant_id,
                "agent_id": interaction.agent_id,
                "user_id": interaction.user_id,
                "role": interaction.role,
                "created_at_ns": interaction.created_at_ns,
            }
            for interaction in interactions
        ]
        self._collection(interactions[0].tenant_id).add(  # one call: all or nothing
            ids=[i.id for i in interactions],
            embeddings=vectors,
            documents=[i.content for i in interactions],
            metadatas=stored,
        )

    def log_interaction_sync(
        self,
        agent_id: str,
        role: str,
        content: str,
        *,
        tenant_id: str,
        user_id: str,
        metadata: Mapping[str, Any] | None = None,
        key: str | None = None,
    ) -> Interaction:
        """Append one interaction (``role`` e.g. "user"/"assistant"); returns it with its id.

        With a ``key`` already logged in this scope nothing is stored and the interaction
        logged then is returned (see the module docstring).
        """
        turn = (role, content, metadata)
        return self.log_interactions_sync(
            agent_id, [turn], tenant_id=tenant_id, user_id=user_id, keys=[key]
        )[0]

    log_interaction = async_twin(log_interaction_sync)

    def log_interactions_sync(
        self,
        agent_id: str,
        turns: Sequence[Turn],
        *,
        tenant_id: str,
        user_id: str,
        keys: Sequence[str | None] | None = None,
    ) -> list[Interaction]:
        """Append several turns at once, in order: ``(role, content)`` or ``(role, content,
        metadata)`` each. One embedding call and one Chroma write, so at most Chroma's batch
        size of turns per call; nothing is written if any turn is invalid. ``keys`` (one per
        turn, None for unkeyed turns) make logging idempotent: turns whose key was logged
        before are not stored again, and the interactions logged then are returned in their
        place."""
        interactions = self._prepare_log(agent_id, turns, tenant_id, user_id, keys)
        before = self._logged_before(interactions)
        new = [i for i in interactions if i.id not in before]
        if new:
            self._write(new, self.embeddings.embed_documents([i.content for i in new]))
        return [before.get(i.id, i) for i in interactions]

    log_interactions = async_twin(log_interactions_sync)

    # -- recent history --------------------------------------------------------------------

    @chroma_call
    def _recent(self, scope: dict[str, str], limit: int) -> list[Interaction]:
        collection = self._existing_collection(scope["tenant_id"])
        if collection is None:
            return []
        now = time.time_ns()
        for window in (*_HISTORY_WINDOWS_NS, None):
            time_filter = None if window is None else {"created_at_ns": {"$gte": now - window}}
            found = collection.get(where=scoped_where(scope, time_filter), include=["metadatas"])
            if len(found["ids"]) >= limit or window is None:
                break
        with reading(f"a record of Chroma collection {collection.name}"):
            keyed = sorted(
                zip(found["ids"], found["metadatas"] or [], strict=True),
                key=lambda pair: (int(pair[1]["created_at_ns"]), pair[0]),
            )[-limit:]
        return self._fetch_documents(collection, [id for id, _ in keyed])

    @staticmethod
    def _fetch_documents(collection: Collection, ids: list[str]) -> list[Interaction]:
        if not ids:
            return []
        found = collection.get(ids=ids, include=["documents", "metadatas"])
        with reading(f"a record of Chroma collection {collection.name}"):
            by_id = {
                id: _interaction(id, doc or "", meta)
                for id, doc, meta in zip(
                    found["ids"], found["documents"] or [], found["metadatas"] or [], strict=True
                )
            }
        return [by_id[id] for id in ids if id in by_id]

    def get_recent_history_sync(
        self, agent_id: str, *, tenant_id: str, user_id: str, limit: int = 10
    ) -> list[Interaction]:
        """The ``limit`` most recent interactions of the scope, oldest first."""
        return self._recent(self._scope(agent_id, tenant_id, user_id), require_limit(limit))

    get_recent_history = async_twin(get_recent_history_sync)

    # -- search ----------------------------------------------------------------------------

    def search_interactions_sync(
        self,
        agent_id: str,
        query: str,
        *,
        tenant_id: str,
        user_id: str,
        limit: int = 5,
        filters: Mapping[str, Any] | None = None,
    ) -> list[Interaction]:
        """Interactions of the scope closest in meaning to ``query``, best first, with scores.

        ``filters`` narrow by metadata in Chroma's filter language, e.g. ``{"role": "user"}``,
        ``{"plan_id": "p1"}`` or ``{"$or": [{"role": "user"}, {"session_id": "s"}]}``.
        """
        scope = self._scope(agent_id, tenant_id, user_id)
        require_text(query, "query")
        where = scoped_where(scope, filters)
        return self._search(scope["tenant_id"], query, where, require_limit(limit))

    search_interactions = async_twin(search_interactions_sync)

    # -- deletion --------------------------------------------------------------------------

    def delete_interactions_sync(
        self, *, tenant_id: str, user_id: str, agent_id: str | None = None
    ) -> int:
        """Forget a user's interactions (with one agent, or all agents); returns how many."""
        tenant_id, user_id = require_scope(tenant_id, user_id)
        scope = {"tenant_id": tenant_id, "user_id": user_id}
        if agent_id is not None:
            scope["agent_id"] = require_name(agent_id, "agent_id")
        return len(self._delete_where(tenant_id, scoped_where(scope)))

    delete_interactions = async_twin(delete_interactions_sync)
