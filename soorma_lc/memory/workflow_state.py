"""``WorkflowState``: Soorma's helper for one plan's working memory, bound to tenant and user.

Agents sharing a plan build one from ``context.memory`` and the ids carried by the event, then
read and write plan state without repeating plan, tenant and user on every call. Unlike
Soorma's SDK, ``increment``, ``append``, ``extend`` and ``record_action`` are atomic in Redis
(no lost updates between processes), and a key holding the wrong type raises
:class:`PlanStateTypeError` instead of being silently reset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict, cast

from soorma_lc.checks import shown
from soorma_lc.errors import ConfigurationError, PlanStateTypeError
from soorma_lc.memory._values import require_id, require_scope
from soorma_lc.memory.working import WorkingMemory

if TYPE_CHECKING:
    from soorma_lc.memory.client import MemoryClient

ACTION_HISTORY_KEY = "_action_history"
"""Working-memory key holding the list of recorded actions, oldest first."""


class _Scope(TypedDict):
    tenant_id: str
    user_id: str


class WorkflowState:
    """Plan-scoped state for ``plan_id`` as seen by ``tenant_id``/``user_id``.

    Raises :class:`ScopeError` when tenant or user is missing and
    :class:`InvalidIdentifierError` for an empty plan id, before anything is read or written.
    Calls go straight to ``memory.working`` (the client's :class:`WorkingMemory`).
    """

    def __init__(self, memory: MemoryClient, plan_id: str, *, tenant_id: str, user_id: str) -> None:
        working = getattr(memory, "working", None)
        if not isinstance(working, WorkingMemory):
            raise ConfigurationError(
                f"WorkflowState needs a MemoryClient (context.memory), got {shown(memory)}"
            )
        self.memory = memory
        self.tenant_id, self.user_id = require_scope(tenant_id, user_id)
        self.plan_id = require_id(plan_id, "plan_id")
        self._working = working
        self._scope: _Scope = {"tenant_id": self.tenant_id, "user_id": self.user_id}

    async def set(self, key: str, value: Any) -> None:
        """Store a JSON value under ``key``."""
        await self._working.set_plan_state(self.plan_id, key, value, **self._scope)

    async def get(self, key: str, default: Any = None) -> Any:
        """The value under ``key``, or ``default`` when it is absent or null."""
        value = await self._working.get_plan_state(self.plan_id, key, **self._scope)
        return default if value is None else value

    async def has(self, key: str) -> bool:
        """True when ``key`` holds a non-null value (Soorma's meaning)."""
        return await self._working.get_plan_state(self.plan_id, key, **self._scope) is not None

    async def delete(self, key: str) -> bool:
        """Remove ``key``; True if it existed."""
        return await self._working.delete_plan_state(self.plan_id, key, **self._scope)

    async def cleanup(self) -> int:
        """Remove all of the plan's state, history included; returns how many keys it held."""
        return await self._working.cleanup_plan(self.plan_id, **self._scope)

    async def increment(self, key: str, delta: int = 1) -> int:
        """Atomically add ``delta`` to the integer under ``key`` (absent = 0); the new value."""
        return await self._working.increment_plan_state(self.plan_id, key, delta, **self._scope)

    async def append(self, key: str, item: Any) -> list[Any]:
        """Atomically append ``item`` to the list under ``key`` (absent = []); the new list."""
        return await self.extend(key, [item])

    async def extend(self, key: str, items: list[Any]) -> list[Any]:
        """Atomically append ``items`` to the list under ``key``; the new list."""
        updated = await self._working.extend_plan_state(self.plan_id, key, items, **self._scope)
        return cast(list[Any], updated)

    async def update_dict(self, key: str, updates: dict[str, Any]) -> dict[str, Any]:
        """Merge ``updates`` into the dict under ``key`` (absent = {}); the new dict."""
        return await self._working.merge_plan_state(self.plan_id, key, updates, **self._scope)

    async def record_action(self, event_name: str) -> None:
        """Append ``event_name`` to the plan's action history, atomically."""
        await self._working.extend_plan_state(
            self.plan_id,
            ACTION_HISTORY_KEY,
            [require_id(event_name, "event_name")],
            **self._scope,
            return_value=False,
        )

    async def get_action_history(self) -> list[str]:
        """Recorded actions, oldest first ([] when none); :class:`PlanStateTypeError` if the
        history key was overwritten with something else than a list."""
        history = await self.get(ACTION_HISTORY_KEY, [])
        if not isinstance(history, list):
            raise PlanStateTypeError(
                f"{ACTION_HISTORY_KEY!r} holds a {type(history).__name__}, not the action list"
            )
        return history
