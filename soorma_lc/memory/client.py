"""``MemoryClient``: the one memory object agents get as ``context.memory``.

It speaks Soorma's Memory Service vocabulary (``set_plan_state``, ``create_plan``,
``log_interaction``, ``store_knowledge``, ...) on our own backends: working memory and
plans/sessions in Redis, episodic and semantic memory in Chroma. Every call names its tenant and
user (keyword-only, ``*, tenant_id, user_id``), so one client serves every tenant and user of a
process. The Chroma-backed memories are built on first use, so agents that only use working
memory never load or start Chroma.

The stores carry Soorma's method names themselves; each name here is a :class:`_Delegated`
descriptor that hands out the store's own bound method. Nothing is copied: ``help()``,
``inspect.signature`` and type checkers see the store's signature and docs, and a change there
is a change here. Only ``delete_plan`` spans two stores and is written out.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, Self, TypeVar, overload

import redis.asyncio

from soorma_lc.backends.redis_clients import (
    async_client,
    clients_configured_by,
    resolve_redis_url,
)
from soorma_lc.config import Settings, resolve_settings
from soorma_lc.memory._values import DEFAULT_MAX_VALUE_BYTES
from soorma_lc.memory.plans import PlanStore
from soorma_lc.memory.working import WorkingMemory

if TYPE_CHECKING:
    from soorma_lc.memory.episodic import EpisodicMemory
    from soorma_lc.memory.semantic import SemanticMemory

P = ParamSpec("P")
R = TypeVar("R")


class _Delegated(Generic[P, R]):
    """A :class:`MemoryClient` method that is its store's method of the same name.

    ``store`` names the client attribute holding the store; ``method`` returns the store's
    function (a thunk, so Chroma-backed stores are imported only when first used). On an
    instance it gives the store's bound method; on the class, the store's function (for
    ``help()``). The thunk's return type carries the exact signature to type checkers.
    """

    def __init__(self, store: str, method: Callable[[], Callable[Concatenate[Any, P], R]]) -> None:
        self._store = store
        self._method = method
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, client: None, owner: type) -> Callable[Concatenate[Any, P], R]: ...

    @overload
    def __get__(self, client: object, owner: type) -> Callable[P, R]: ...

    def __get__(self, client: object | None, owner: type) -> Any:
        if client is None:
            return self._method()
        return getattr(getattr(client, self._store), self._name)


def _episodic_memory() -> type[EpisodicMemory]:
    from soorma_lc.memory.episodic import EpisodicMemory

    return EpisodicMemory


def _semantic_memory() -> type[SemanticMemory]:
    from soorma_lc.memory.semantic import SemanticMemory

    return SemanticMemory


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
        with clients_configured_by(settings):  # the settings' Redis timeouts
            return cls.from_url(resolve_redis_url(settings), settings=settings, **options)

    @property
    def episodic(self) -> EpisodicMemory:
        """Conversation history (Chroma), built from the settings on first use."""
        if self._episodic is None:
            self._episodic = _episodic_memory().from_settings(self._settings)
        return self._episodic

    @property
    def semantic(self) -> SemanticMemory:
        """Knowledge (Chroma), built from the settings on first use."""
        if self._semantic is None:
            self._semantic = _semantic_memory().from_settings(self._settings)
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

    # -- working memory (Redis) -------------------------------------------------------------

    set_plan_state = _Delegated("working", lambda: WorkingMemory.set_plan_state)
    get_plan_state = _Delegated("working", lambda: WorkingMemory.get_plan_state)
    get_all_plan_state = _Delegated("working", lambda: WorkingMemory.get_all_plan_state)
    delete_plan_state = _Delegated("working", lambda: WorkingMemory.delete_plan_state)
    cleanup_plan = _Delegated("working", lambda: WorkingMemory.cleanup_plan)
    increment_plan_state = _Delegated("working", lambda: WorkingMemory.increment_plan_state)
    extend_plan_state = _Delegated("working", lambda: WorkingMemory.extend_plan_state)
    merge_plan_state = _Delegated("working", lambda: WorkingMemory.merge_plan_state)

    # -- plans and sessions (Redis) ----------------------------------------------------------

    create_plan = _Delegated("plans", lambda: PlanStore.create_plan)
    get_plan = _Delegated("plans", lambda: PlanStore.get_plan)
    update_plan_status = _Delegated("plans", lambda: PlanStore.update_plan_status)
    list_plans = _Delegated("plans", lambda: PlanStore.list_plans)
    create_session = _Delegated("plans", lambda: PlanStore.create_session)
    get_session = _Delegated("plans", lambda: PlanStore.get_session)
    list_sessions = _Delegated("plans", lambda: PlanStore.list_sessions)
    delete_session = _Delegated("plans", lambda: PlanStore.delete_session)

    async def delete_plan(self, plan_id: str, *, tenant_id: str, user_id: str) -> bool:
        """Delete the plan's working memory, then its record; True if the plan existed.

        Working memory goes first, so a crash in between leaves a plan that a retried
        ``delete_plan`` finds and finishes, never working memory that no plan points to.
        """
        plan = await self.plans.get_plan(plan_id, tenant_id=tenant_id, user_id=user_id)
        if plan is None:
            return False
        await self.working.cleanup_plan(plan_id, tenant_id=tenant_id, user_id=user_id)
        return await self.plans.delete_plan_record(plan)

    # -- episodic and semantic memory (Chroma, loaded on first use) ---------------------------

    log_interaction = _Delegated("episodic", lambda: _episodic_memory().log_interaction)
    get_recent_history = _Delegated("episodic", lambda: _episodic_memory().get_recent_history)
    search_interactions = _Delegated("episodic", lambda: _episodic_memory().search_interactions)
    store_knowledge = _Delegated("semantic", lambda: _semantic_memory().store_knowledge)
    search_knowledge = _Delegated("semantic", lambda: _semantic_memory().search_knowledge)
