"""Plans and sessions on Redis: who is working on what, with lifecycle and grouping.

A plan is one goal's execution (plan_id, goal_event, goal_data, status, optional session and
parent plan); a session groups plans and tracks ``last_interaction``. Both are unique per
tenant and visible only to the tenant and user that own them, as in Soorma's Memory Service.
Scope arguments are keyword-only, ``*, tenant_id, user_id``.

All keys of one tenant share the hash tag ``{<tenant>}``, so every multi-key change (create a
plan, index it, touch its session) is one atomic Lua script even on Redis Cluster.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

import redis.asyncio
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticSerializationError

from soorma_lc.backends.redis_clients import reply_text
from soorma_lc.backends.redis_errors import reports_redis_errors
from soorma_lc.checks import shown
from soorma_lc.errors import (
    DuplicatePlanError,
    DuplicateSessionError,
    InvalidStatusTransitionError,
    PlanNotFoundError,
    SerializationError,
    SoormaValidationError,
)
from soorma_lc.memory._values import (
    DEFAULT_MAX_VALUE_BYTES,
    check_size,
    decode_json,
    encode_json,
    key_segment,
    reading,
    require_async_client,
    require_count,
    require_id,
    require_scope,
    stored_text,
)

DEFAULT_LIST_LIMIT = 20
_SCAN_CHUNK = 100
_T = TypeVar("_T")
_M = TypeVar("_M", bound=BaseModel)


class PlanStatus(StrEnum):
    """Lifecycle states of a plan (Soorma's vocabulary)."""

    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"


ALLOWED_TRANSITIONS: dict[PlanStatus, frozenset[PlanStatus]] = {
    PlanStatus.RUNNING: frozenset({PlanStatus.PAUSED, PlanStatus.COMPLETED, PlanStatus.FAILED}),
    PlanStatus.PAUSED: frozenset({PlanStatus.RUNNING, PlanStatus.FAILED}),
    PlanStatus.COMPLETED: frozenset(),
    PlanStatus.FAILED: frozenset(),
}
"""Status changes a plan may make; completed and failed are final."""


class Plan(BaseModel):
    """One goal's execution record."""

    model_config = ConfigDict(frozen=True)

    plan_id: str
    tenant_id: str
    user_id: str
    session_id: str | None = None
    goal_event: str
    goal_data: dict[str, Any] = Field(default_factory=dict)
    status: PlanStatus = PlanStatus.RUNNING
    parent_plan_id: str | None = None
    created_at: datetime
    updated_at: datetime


class Session(BaseModel):
    """A group of related plans (a conversation, a project); holds no state of its own."""

    model_config = ConfigDict(frozen=True)

    session_id: str
    tenant_id: str
    user_id: str
    name: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    last_interaction: datetime


# KEYS: plan, user's plan index, session, session's plan index, user's session index,
#       parent plan, parent's child index.
# ARGV: user, now (iso), now (score), has session, has parent, plan id, session id,
#       plan record json, new-session record json.
# A plan hash holds the immutable record as JSON plus the mutable status and updated_at.
_CREATE_PLAN_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 'duplicate' end
local user = ARGV[1]
if ARGV[5] == '1' and redis.call('HGET', KEYS[6], 'user_id') ~= user then
  return 'no_parent'
end
if ARGV[4] == '1' then
  local owner = redis.call('HGET', KEYS[3], 'user_id')
  if not owner then
    redis.call('HSET', KEYS[3], 'record', ARGV[9], 'user_id', user,
               'last_interaction', ARGV[2])
  elseif owner ~= user then
    return 'session_taken'
  else
    redis.call('HSET', KEYS[3], 'last_interaction', ARGV[2])
  end
  redis.call('ZADD', KEYS[5], ARGV[3], ARGV[7])
  redis.call('ZADD', KEYS[4], ARGV[3], ARGV[6])
end
if ARGV[5] == '1' then
  redis.call('ZADD', KEYS[7], ARGV[3], ARGV[6])
end
redis.call('HSET', KEYS[1], 'record', ARGV[8], 'user_id', user, 'status', 'running',
           'updated_at', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[6])
return 'ok'
"""

# KEYS: plan, user's plan index, session's plan index, parent's child index, session,
#       user's session index.
# ARGV: user, target status, now (iso), now (score), plan id, session id, allowed sources...
# Returns {code, current status}; code is ok, same, not_found or invalid.
_UPDATE_STATUS_LUA = """
if redis.call('HGET', KEYS[1], 'user_id') ~= ARGV[1] then return {'not_found', ''} end
local current = redis.call('HGET', KEYS[1], 'status')
if current == ARGV[2] then return {'same', current} end
local allowed = false
for i = 7, #ARGV do
  if ARGV[i] == current then allowed = true end
end
if not allowed then return {'invalid', current} end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'updated_at', ARGV[3])
redis.call('ZADD', KEYS[2], 'XX', ARGV[4], ARGV[5])
redis.call('ZADD', KEYS[3], 'XX', ARGV[4], ARGV[5])
redis.call('ZADD', KEYS[4], 'XX', ARGV[4], ARGV[5])
if redis.call('HGET', KEYS[5], 'user_id') == ARGV[1] then
  redis.call('HSET', KEYS[5], 'last_interaction', ARGV[3])
  redis.call('ZADD', KEYS[6], 'XX', ARGV[4], ARGV[6])
end
return {'ok', current}
"""

# KEYS: plan, user's plan index, session's plan index, parent's child index. ARGV: user, id.
_DELETE_PLAN_LUA = """
if redis.call('HGET', KEYS[1], 'user_id') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
for i = 2, 4 do redis.call('ZREM', KEYS[i], ARGV[2]) end
return 1
"""

# KEYS: session, user's session index. ARGV: user, now (iso), now (score), id, record json.
_CREATE_SESSION_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'record', ARGV[5], 'user_id', ARGV[1], 'last_interaction', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
return 1
"""

# KEYS: session, user's session index. ARGV: user, id.
_DELETE_SESSION_LUA = """
if redis.call('HGET', KEYS[1], 'user_id') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
"""


class _Keys:
    """Key names of one tenant's plans and sessions (all under the hash tag ``{tenant}``)."""

    def __init__(self, tenant_id: str) -> None:
        self._prefix = f"soorma:plans:{{{key_segment(tenant_id)}}}"

    def plan(self, plan_id: str) -> str:
        return f"{self._prefix}:plan:{key_segment(plan_id)}"

    def children(self, plan_id: str) -> str:
        return f"{self.plan(plan_id)}:children"

    def session(self, session_id: str) -> str:
        return f"{self._prefix}:session:{key_segment(session_id)}"

    def session_plans(self, session_id: str) -> str:
        return f"{self.session(session_id)}:plans"

    def user_plans(self, user_id: str) -> str:
        return f"{self._prefix}:user:{key_segment(user_id)}:plans"

    def user_sessions(self, user_id: str) -> str:
        return f"{self._prefix}:user:{key_segment(user_id)}:sessions"


def _now() -> tuple[datetime, str, int]:
    """The current time as a datetime, as ISO text, and as a microsecond index score.

    Microseconds (exact in a double until the year 2255) keep successive writes in order.
    """
    moment = datetime.now(UTC)
    return moment, moment.isoformat(), int(moment.timestamp() * 1_000_000)


def _status(value: PlanStatus | str) -> PlanStatus:
    try:
        if not isinstance(value, str):  # Enum's own error repr()s the value, which may fail
            raise ValueError(value)
        return PlanStatus(value)
    except ValueError:
        raise SoormaValidationError(
            f"unknown plan status {shown(value)}; use one of {[s.value for s in PlanStatus]}"
        ) from None


def _optional_id(value: str | None, what: str) -> str | None:
    return None if value is None else require_id(value, what)


def _json_object(value: dict[str, Any] | None, what: str, limit: int) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SoormaValidationError(f"{what} must be a dict (got {type(value).__name__})")
    encode_json(value, limit=limit, what=what)
    return value


def _name(value: Any, limit: int) -> str | None:
    """A session name: None, or text UTF-8 can encode, at most ``limit`` bytes."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise SoormaValidationError(f"name must be a string (got {type(value).__name__})")
    encode_json(value, limit=limit, what="name")
    return value


# Hash fields kept beside the immutable JSON ``record`` because they change after creation.
_MUTABLE_FIELDS: dict[type[BaseModel], tuple[str, ...]] = {
    Plan: ("status", "updated_at"),
    Session: ("last_interaction",),
}


def _load(model: type[_M], raw: dict[Any, Any], user: str, key: str) -> _M | None:
    """The plan or session stored in the hash ``key`` (its fields ``raw``); None unless
    ``user`` owns it. :class:`CorruptedDataError` if the hash was changed outside soorma-lc."""
    what = f"{model.__name__.lower()} record {key}"
    with reading(what, key=key):  # pydantic's ValidationError is a ValueError
        fields = {
            stored_text(k, what, key=key): stored_text(v, what, key=key) for k, v in raw.items()
        }
        if fields.get("user_id") != user:
            return None
        mutable = {name: fields[name] for name in _MUTABLE_FIELDS[model]}
        record = decode_json(fields["record"], what=what, key=key)
        return model.model_validate({**record, **mutable})


def _new_session(session_id: str, tenant: str, user: str, now: datetime, **fields: Any) -> Session:
    return Session(
        session_id=session_id,
        tenant_id=tenant,
        user_id=user,
        created_at=now,
        last_interaction=now,
        **fields,
    )


def _record(item: Plan | Session, limit: int) -> str:
    """The immutable part of a plan or session, stored as the hash's ``record`` field
    (:class:`ValueTooLargeError` when longer than ``limit`` bytes)."""
    try:
        record = item.model_dump_json(exclude=set(_MUTABLE_FIELDS[type(item)]))
    except PydanticSerializationError as exc:  # e.g. goal data past pydantic's depth limit
        raise SerializationError(f"{type(item).__name__} cannot be stored: {exc}") from exc
    check_size(len(record.encode("utf-8")), limit=limit, what=f"{type(item).__name__} record")
    return record


@reports_redis_errors("plan store")
class PlanStore:
    """Plans and sessions of every tenant, stored in Redis."""

    def __init__(
        self, client: redis.asyncio.Redis, *, max_value_bytes: int = DEFAULT_MAX_VALUE_BYTES
    ) -> None:
        self.max_value_bytes = require_count(max_value_bytes, "max_value_bytes")
        self._redis = require_async_client(client, "PlanStore")
        self._create_plan = client.register_script(_CREATE_PLAN_LUA)
        self._update_status = client.register_script(_UPDATE_STATUS_LUA)
        self._delete_plan = client.register_script(_DELETE_PLAN_LUA)
        self._create_session = client.register_script(_CREATE_SESSION_LUA)
        self._delete_session = client.register_script(_DELETE_SESSION_LUA)

    # -- plans ---------------------------------------------------------------------------

    async def create_plan(
        self,
        plan_id: str | None = None,
        goal_event: str | None = None,
        goal_data: dict[str, Any] | None = None,
        *,
        tenant_id: str,
        user_id: str,
        session_id: str | None = None,
        parent_plan_id: str | None = None,
    ) -> Plan:
        """Open a plan in status ``running`` (``plan_id`` defaults to a new uuid4).

        A ``session_id`` that does not exist yet creates that session; an existing one gets its
        ``last_interaction`` refreshed. ``parent_plan_id`` must name a plan of the same user.
        Raises :class:`DuplicatePlanError`, :class:`PlanNotFoundError` (parent) or
        :class:`DuplicateSessionError` (session owned by another user); nothing is written then.
        """
        tenant, user = require_scope(tenant_id, user_id)
        plan_id = require_id(plan_id if plan_id is not None else str(uuid.uuid4()), "plan_id")
        goal_event = require_id(goal_event, "goal_event")
        goal_data = _json_object(goal_data, "goal_data", self.max_value_bytes)
        session_id = _optional_id(session_id, "session_id")
        parent_plan_id = _optional_id(parent_plan_id, "parent_plan_id")
        now, now_iso, now_score = _now()
        plan = Plan(
            plan_id=plan_id,
            tenant_id=tenant,
            user_id=user,
            session_id=session_id,
            goal_event=goal_event,
            goal_data=goal_data,
            parent_plan_id=parent_plan_id,
            created_at=now,
            updated_at=now,
        )
        keys = _Keys(tenant)
        result = await self._create_plan(
            keys=[
                keys.plan(plan_id),
                keys.user_plans(user),
                keys.session(session_id or ""),
                keys.session_plans(session_id or ""),
                keys.user_sessions(user),
                keys.plan(parent_plan_id or ""),
                keys.children(parent_plan_id or ""),
            ],
            args=[
                user,
                now_iso,
                now_score,
                "1" if session_id else "0",
                "1" if parent_plan_id else "0",
                plan_id,
                session_id or "",
                _record(plan, self.max_value_bytes),
                _record(_new_session(session_id, tenant, user, now), self.max_value_bytes)
                if session_id
                else "",
            ],
        )
        outcome = reply_text(result)
        if outcome == "duplicate":
            raise DuplicatePlanError(plan_id)
        if outcome == "no_parent":
            raise PlanNotFoundError(parent_plan_id or "")
        if outcome == "session_taken":
            raise DuplicateSessionError(
                session_id or "", f"session {session_id!r} belongs to another user"
            )
        return plan

    async def get_plan(self, plan_id: str, *, tenant_id: str, user_id: str) -> Plan | None:
        """The plan, or None if this tenant and user have no plan with this id."""
        tenant, user = require_scope(tenant_id, user_id)
        key = _Keys(tenant).plan(require_id(plan_id, "plan_id"))
        return _load(Plan, await self._redis.hgetall(key), user, key)

    async def update_plan_status(
        self, plan_id: str, status: PlanStatus | str, *, tenant_id: str, user_id: str
    ) -> Plan:
        """Move the plan to ``status`` along :data:`ALLOWED_TRANSITIONS` and return it.

        Setting the status it already has is a no-op (redelivered events stay harmless).
        Raises :class:`PlanNotFoundError` or :class:`InvalidStatusTransitionError`.
        """
        target = _status(status)
        plan = await self.get_plan(plan_id, tenant_id=tenant_id, user_id=user_id)
        if plan is None:
            raise PlanNotFoundError(plan_id)
        keys = _Keys(plan.tenant_id)
        sources = [s.value for s, targets in ALLOWED_TRANSITIONS.items() if target in targets]
        now, now_iso, now_score = _now()
        code, current = await self._update_status(
            keys=[
                keys.plan(plan_id),
                keys.user_plans(plan.user_id),
                keys.session_plans(plan.session_id or ""),
                keys.children(plan.parent_plan_id or ""),
                keys.session(plan.session_id or ""),
                keys.user_sessions(plan.user_id),
            ],
            args=[
                plan.user_id,
                target.value,
                now_iso,
                now_score,
                plan_id,
                plan.session_id or "",
                *sources,
            ],
        )
        code = reply_text(code)
        if code == "not_found":
            raise PlanNotFoundError(plan_id)
        if code == "invalid":
            raise InvalidStatusTransitionError(plan_id, reply_text(current), target.value)
        if code == "same":
            return plan.model_copy(update={"status": target})
        return plan.model_copy(update={"status": target, "updated_at": now})

    async def list_plans(
        self,
        *,
        tenant_id: str,
        user_id: str,
        session_id: str | None = None,
        status: PlanStatus | str | None = None,
        parent_plan_id: str | None = None,
        limit: int | None = DEFAULT_LIST_LIMIT,
    ) -> list[Plan]:
        """The user's plans, most recently updated first, filtered by the given fields.

        ``limit=None`` returns all of them.
        """
        tenant, user = require_scope(tenant_id, user_id)
        wanted = None if status is None else _status(status)
        session_id = _optional_id(session_id, "session_id")
        parent_plan_id = _optional_id(parent_plan_id, "parent_plan_id")
        keys = _Keys(tenant)
        if session_id is not None:
            index = keys.session_plans(session_id)
        elif parent_plan_id is not None:
            index = keys.children(parent_plan_id)
        else:
            index = keys.user_plans(user)

        def keep(plan: Plan) -> bool:
            return (
                (wanted is None or plan.status == wanted)
                and (session_id is None or plan.session_id == session_id)
                and (parent_plan_id is None or plan.parent_plan_id == parent_plan_id)
            )

        return await self._scan(index, keys.plan, lambda r, k: _load(Plan, r, user, k), keep, limit)

    async def delete_plan(self, plan_id: str, *, tenant_id: str, user_id: str) -> bool:
        """Delete the plan record and its index entries; True if it existed.

        Working memory is separate: :meth:`MemoryClient.delete_plan` removes both.
        """
        plan = await self.get_plan(plan_id, tenant_id=tenant_id, user_id=user_id)
        return plan is not None and await self.delete_plan_record(plan)

    async def delete_plan_record(self, plan: Plan) -> bool:
        """Delete a plan already read by :meth:`get_plan` (its tenant, user and indexes come
        from it, so nothing is read again); True if it was still there."""
        if not isinstance(plan, Plan):
            raise SoormaValidationError(f"delete_plan_record takes a Plan, got {shown(plan)}")
        keys = _Keys(plan.tenant_id)
        deleted = await self._delete_plan(
            keys=[
                keys.plan(plan.plan_id),
                keys.user_plans(plan.user_id),
                keys.session_plans(plan.session_id or ""),
                keys.children(plan.parent_plan_id or ""),
            ],
            args=[plan.user_id, plan.plan_id],
        )
        return bool(deleted)

    # -- sessions ------------------------------------------------------------------------

    async def create_session(
        self,
        session_id: str | None = None,
        *,
        tenant_id: str,
        user_id: str,
        name: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Session:
        """Create a session (``session_id`` defaults to a new uuid4).

        Raises :class:`DuplicateSessionError` if the tenant already has one with this id.
        """
        tenant, user = require_scope(tenant_id, user_id)
        session_id = require_id(
            session_id if session_id is not None else str(uuid.uuid4()), "session_id"
        )
        name = _name(name, self.max_value_bytes)
        metadata = _json_object(metadata, "metadata", self.max_value_bytes)
        now, now_iso, now_score = _now()
        session = _new_session(session_id, tenant, user, now, name=name, metadata=metadata)
        keys = _Keys(tenant)
        created = await self._create_session(
            keys=[keys.session(session_id), keys.user_sessions(user)],
            args=[user, now_iso, now_score, session_id, _record(session, self.max_value_bytes)],
        )
        if not created:
            raise DuplicateSessionError(session_id)
        return session

    async def get_session(self, session_id: str, *, tenant_id: str, user_id: str) -> Session | None:
        """The session, or None if this tenant and user have none with this id."""
        tenant, user = require_scope(tenant_id, user_id)
        key = _Keys(tenant).session(require_id(session_id, "session_id"))
        return _load(Session, await self._redis.hgetall(key), user, key)

    async def list_sessions(
        self,
        *,
        tenant_id: str,
        user_id: str,
        limit: int | None = DEFAULT_LIST_LIMIT,
    ) -> list[Session]:
        """The user's sessions, most recent interaction first (``limit=None``: all)."""
        tenant, user = require_scope(tenant_id, user_id)
        keys = _Keys(tenant)
        return await self._scan(
            keys.user_sessions(user),
            keys.session,
            lambda r, k: _load(Session, r, user, k),
            lambda _: True,
            limit,
        )

    async def delete_session(self, session_id: str, *, tenant_id: str, user_id: str) -> bool:
        """Delete the session record; True if it existed.

        Its plans are kept (a session holds no data) and still list under its id.
        """
        tenant, user = require_scope(tenant_id, user_id)
        session_id = require_id(session_id, "session_id")
        keys = _Keys(tenant)
        deleted = await self._delete_session(
            keys=[keys.session(session_id), keys.user_sessions(user)], args=[user, session_id]
        )
        return bool(deleted)

    # -- helpers -------------------------------------------------------------------------

    async def _scan(
        self,
        index: str,
        record_key: Callable[[str], str],
        build: Callable[[dict[Any, Any], str], _T | None],
        keep: Callable[[_T], bool],
        limit: int | None,
    ) -> list[_T]:
        """Walk ``index`` newest first, loading records in chunks until ``limit`` are kept."""
        if limit is not None:
            require_count(limit, "limit (a positive int, or None for all)")
        found: list[_T] = []
        start = 0
        while limit is None or len(found) < limit:
            members = await self._redis.zrevrange(index, start, start + _SCAN_CHUNK - 1)
            if not members:
                break
            ids = [stored_text(m, f"the index {index}", key=index) for m in members]
            start += len(ids)
            keys = [record_key(item_id) for item_id in ids]
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.hgetall(key)
                rows = await pipe.execute()
            for row, key in zip(rows, keys, strict=True):
                item = build(row, key)
                if item is not None and keep(item):
                    found.append(item)
        return found if limit is None else found[:limit]
