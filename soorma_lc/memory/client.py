"""``MemoryClient``: the one memory object agents get as ``context.memory``.

It speaks Soorma's Memory Service vocabulary (``set_plan_state``, ``create_plan``,
``log_interaction``, ``store_knowledge``, ...) on our own backends: working memory and
plans/sessions in Redis, episodic and semantic memory in Chroma. Every call names its tenant and
user, so one client serves every tenant and user of a process. The Chroma-backed memories are
built on first use, so agents that only use working memory never load or start Chroma.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import redis.asyncio

from soorma_lc.backends.redis_clients import async_client, resolve_redis_url
from soorma_lc.config import Settings, resolve_settings
from soorma_lc.memory._values import DEFAULT_MAX_VALUE_BYTES
from soorma_lc.memory.plans import DEFAULT_LIST_LIMIT, Plan, PlanStatus, PlanStore, Session
from soorma_lc.memory.working import WorkingMemory

if TYPE_CHECKING:
    from soorma_lc.memory.episodic import EpisodicMemory, Interaction
    from soorma_lc.memory.semantic import Knowledge, SemanticMemory


class MemoryClient:
    """Working memory, plans, sessions, episodic and semantic memory behind Soorma's names.

    ``get_plan_state`` returns the stored value itself (None when absent), where Soorma's
    HTTP client returns a response object; everything else keeps Soorma's names and meaning.
    ``max_value_bytes`` caps one stored value's JSON size (default 1 MiB). ``episodic`` and
    ``semantic`` default to memories built from ``settings`` when first used.
    """

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        max_value_bytes: int = DEFAULT_MAX_VALUE_BYTES,
        episodic: EpisodicMemory | None = None,
        semantic: SemanticMemory | None = None,
        settings: Settings | None = None,
        owns_client: bool = False,
    ) -> None:
        self._redis = client
        self._owns_client = owns_client
        self._settings = settings
        self._episodic = episodic
        self._semantic = semantic
        self.working = WorkingMemory(client, max_value_bytes=max_value_bytes)
        self.plans = PlanStore(client, max_value_bytes=max_value_bytes)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        max_value_bytes: int = DEFAULT_MAX_VALUE_BYTES,
        episodic: EpisodicMemory | None = None,
        semantic: SemanticMemory | None = None,
        settings: Settings | None = None,
        **options: Any,
    ) -> Self:
        """A client on the Redis at ``url``; ``options`` go to ``redis.asyncio.Redis``."""
        return cls(
            async_client(url, **options),
            max_value_bytes=max_value_bytes,
            episodic=episodic,
            semantic=semantic,
            settings=settings,
            owns_client=True,
        )

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **options: Any) -> Self:
        """A client on the configured Redis (the embedded server when none is configured)
        whose episodic and semantic memories use the configured Chroma and embeddings."""
        settings = resolve_settings(settings)
        return cls.from_url(resolve_redis_url(settings), settings=settings, **options)

    @property
    def episodic(self) -> EpisodicMemory:
        """Conversation history (Chroma), built from the settings on first use."""
        if self._episodic is None:
            from soorma_lc.memory.episodic import EpisodicMemory

            self._episodic = EpisodicMemory.from_settings(self._settings)
        return self._episodic

    @property
    def semantic(self) -> SemanticMemory:
        """Knowledge (Chroma), built from the settings on first use."""
        if self._semantic is None:
            from soorma_lc.memory.semantic import SemanticMemory

            self._semantic = SemanticMemory.from_settings(self._settings)
        return self._semantic

    async def aclose(self) -> None:
        """Close the Redis connections if this client opened them."""
        if self._owns_client:
            await self._redis.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- working memory ----------------------------------------------------------------

    async def set_plan_state(
        self,
        plan_id: str,
        key: str,
        value: Any,
        tenant_id: str | None = None,
        user_id: str | None = None,
    ) -> None:
        """Store a JSON ``value`` under ``key`` in the plan's working memory."""
        await self.working.set(plan_id, key, value, tenant_id, user_id)

    async def get_plan_state(
        self, plan_id: str, key: str, tenant_id: str | None = None, user_id: str | None = None
    ) -> Any:
        """The value under ``key`` (None when absent; Soorma returns a response object)."""
        return await self.working.get(plan_id, key, tenant_id, user_id)

    async def get_all_plan_state(
        self, plan_id: str, tenant_id: str | None = None, user_id: str | None = None
    ) -> dict[str, Any]:
        """Every key and value of the plan's working memory."""
        return await self.working.get_all(plan_id, tenant_id, user_id)

    async def delete_plan_state(
        self, plan_id: str, key: str, tenant_id: str | None = None, user_id: str | None = None
    ) -> bool:
        """Delete one key; True if it existed."""
        return await self.working.delete(plan_id, key, tenant_id, user_id)

    async def cleanup_plan(
        self, plan_id: str, tenant_id: str | None = None, user_id: str | None = None
    ) -> int:
        """Delete all of the plan's working memory; returns how many keys it held."""
        return await self.working.cleanup(plan_id, tenant_id, user_id)

    async def increment_plan_state(
        self,
        plan_id: str,
        key: str,
        delta: int = 1,
        tenant_id: str | None = None,
        user_id: str | None = None,
    ) -> int:
        """Atomically add ``delta`` to an integer counter; returns the new value."""
        return await self.working.increment(plan_id, key, delta, tenant_id, user_id)

    async def extend_plan_state(
        self,
        plan_id: str,
        key: str,
        items: list[Any] | tuple[Any, ...],
        tenant_id: str | None = None,
        user_id: str | None = None,
        *,
        return_value: bool = True,
    ) -> list[Any] | None:
        """Atomically append ``items`` to a list; returns it (None if not ``return_value``)."""
        return await self.working.extend(
            plan_id, key, items, tenant_id, user_id, return_value=return_value
        )

    async def merge_plan_state(
        self,
        plan_id: str,
        key: str,
        updates: dict[str, Any],
        tenant_id: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """Merge ``updates`` into a dict without losing concurrent updates; returns it."""
        return await self.working.merge(plan_id, key, updates, tenant_id, user_id)

    # -- plans and sessions --------------------------------------------------------------

    async def create_plan(
        self,
        plan_id: str | None = None,
        goal_event: str | None = None,
        goal_data: dict[str, Any] | None = None,
        session_id: str | None = None,
        parent_plan_id: str | None = None,
        tenant_id: str | None = None,
        user_id: str | None = None,
    ) -> Plan:
        """Open a running plan; see :meth:`PlanStore.create_plan`."""
        return await self.plans.create_plan(
            plan_id, goal_event, goal_data, session_id, parent_plan_id, tenant_id, user_id
        )

    async def get_plan(
        self, plan_id: str, tenant_id: str | None = None, user_id: str | None = None
    ) -> Plan | None:
        """The plan, or None if this tenant and user have none with this id."""
        return await self.plans.get_plan(plan_id, tenant_id, user_id)

    async def update_plan_status(
        self,
        plan_id: str,
        status: PlanStatus | str,
        tenant_id: str | None = None,
        user_id: str | None = None,
    ) -> Plan:
        """Move the plan along its lifecycle; see :meth:`PlanStore.update_plan_status`."""
        return await self.plans.update_plan_status(plan_id, status, tenant_id, user_id)

    async def list_plans(
        self,
        tenant_id: str | None = None,
        user_id: str | None = None,
        *,
        session_id: str | None = None,
        status: PlanStatus | str | None = None,
        parent_plan_id: str | None = None,
        limit: int | None = DEFAULT_LIST_LIMIT,
    ) -> list[Plan]:
        """The user's plans, most recently updated first, optionally filtered."""
        return await self.plans.list_plans(
            tenant_id,
            user_id,
            session_id=session_id,
            status=status,
            parent_plan_id=parent_plan_id,
            limit=limit,
        )

    async def delete_plan(
        self, plan_id: str, tenant_id: str | None = None, user_id: str | None = None
    ) -> bool:
        """Delete the plan's working memory, then its record; True if the plan existed."""
        if await self.plans.get_plan(plan_id, tenant_id, user_id) is None:
            return False
        await self.working.cleanup(plan_id, tenant_id, user_id)
        return await self.plans.delete_plan(plan_id, tenant_id, user_id)

    async def create_session(
        self,
        session_id: str | None = None,
        name: str | None = None,
        metadata: dict[str, Any] | None = None,
        tenant_id: str | None = None,
        user_id: str | None = None,
    ) -> Session:
        """Create a session grouping plans; see :meth:`PlanStore.create_session`."""
        return await self.plans.create_session(session_id, name, metadata, tenant_id, user_id)

    async def get_session(
        self, session_id: str, tenant_id: str | None = None, user_id: str | None = None
    ) -> Session | None:
        """The session, or None if this tenant and user have none with this id."""
        return await self.plans.get_session(session_id, tenant_id, user_id)

    async def list_sessions(
        self,
        tenant_id: str | None = None,
        user_id: str | None = None,
        *,
        limit: int | None = DEFAULT_LIST_LIMIT,
    ) -> list[Session]:
        """The user's sessions, most recent interaction first."""
        return await self.plans.list_sessions(tenant_id, user_id, limit=limit)

    async def delete_session(
        self, session_id: str, tenant_id: str | None = None, user_id: str | None = None
    ) -> bool:
        """Delete the session record (its plans stay); True if it existed."""
        return await self.plans.delete_session(session_id, tenant_id, user_id)

    # -- episodic and semantic memory ----------------------------------------------------

    async def log_interaction(
        self,
        agent_id: str,
        role: str,
        content: str,
        user_id: str,
        tenant_id: str,
        metadata: Mapping[str, Any] | None = None,
    ) -> Interaction:
        """Append one interaction to the agent's history with the user (episodic memory)."""
        return await self.episodic.log_interaction(
            agent_id, role, content, user_id, tenant_id, metadata
        )

    async def get_recent_history(
        self, agent_id: str, user_id: str, tenant_id: str, limit: int = 10
    ) -> list[Interaction]:
        """The ``limit`` most recent interactions of agent and user, oldest first."""
        return await self.episodic.get_recent_history(agent_id, user_id, tenant_id, limit)

    async def search_interactions(
        self,
        agent_id: str,
        query: str,
        user_id: str,
        tenant_id: str,
        limit: int = 5,
        filters: Mapping[str, Any] | None = None,
    ) -> list[Interaction]:
        """Past interactions of agent and user closest in meaning to ``query``."""
        return await self.episodic.search_interactions(
            agent_id, query, user_id, tenant_id, limit, filters
        )

    async def store_knowledge(
        self,
        content: str,
        user_id: str,
        tenant_id: str,
        metadata: Mapping[str, Any] | None = None,
        external_id: str | None = None,
        is_public: bool = False,
    ) -> str:
        """Upsert knowledge (private to the user unless ``is_public``); returns its id."""
        return await self.semantic.store_knowledge(
            content, user_id, tenant_id, metadata, external_id, is_public
        )

    async def search_knowledge(
        self,
        query: str,
        user_id: str,
        tenant_id: str,
        limit: int = 5,
        include_public: bool = True,
        filters: Mapping[str, Any] | None = None,
    ) -> list[Knowledge]:
        """The user's (and public) knowledge closest in meaning to ``query``, with scores."""
        return await self.semantic.search_knowledge(
            query, user_id, tenant_id, limit, include_public, filters
        )
