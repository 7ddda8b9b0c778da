"""Plan-scoped working memory on Redis: JSON values per (tenant, user, plan) and key.

One Redis hash per plan and user, ``soorma:wm:{<tenant>:<plan_id>}:<user>``, holds every key
of that plan as compact JSON text. The braces are a Redis Cluster hash tag, so every key of a
plan lives on one shard. Counters and list appends run server side (``HINCRBY`` and a Lua
script), so any number of processes can update one plan without lost updates; dictionary
merges use optimistic ``WATCH``/``MULTI`` transactions. As in Soorma's Memory Service, state is
visible only to the tenant and user that wrote it.

Methods carry Soorma's names (``set_plan_state``, ``cleanup_plan``, ...), so that
:class:`MemoryClient` exposes them as they are; scope arguments are keyword-only,
``*, tenant_id, user_id``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any, cast

import redis.asyncio
from redis.exceptions import ResponseError, WatchError

from soorma_lc.backends.redis_errors import reports_redis_errors
from soorma_lc.checks import shown
from soorma_lc.errors import (
    ConcurrentUpdateError,
    CorruptedDataError,
    PlanStateTypeError,
    ScopeError,
    SoormaValidationError,
)
from soorma_lc.memory._values import (
    DEFAULT_MAX_VALUE_BYTES,
    check_size,
    decode_json,
    encode_json,
    key_segment,
    require_async_client,
    require_count,
    require_id,
    require_scope,
    stored_text,
)

logger = logging.getLogger(__name__)

_MERGE_ATTEMPTS = 200
_INT64 = 2**63

# Appends the items of a JSON array (ARGV[2]) to the JSON array stored in a hash field by
# splicing text, so values keep their exact encoding (no cjson round trip). Values are always
# compact JSON written by this module, so the first and last bytes tell whether the field holds
# a list. Returns {1, new value or ""}, {-1, ""} if the field is not a list, {-2, size} if too
# large.
_APPEND_LUA = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
local items = ARGV[2]
local updated
if not current then
  updated = items
elseif string.sub(current, 1, 1) ~= '[' or string.sub(current, -1) ~= ']' then
  return {-1, ''}
elseif items == '[]' then
  updated = current
elseif current == '[]' then
  updated = items
else
  updated = string.sub(current, 1, -2) .. ',' .. string.sub(items, 2)
end
if string.len(updated) > tonumber(ARGV[3]) then
  return {-2, tostring(string.len(updated))}
end
redis.call('HSET', KEYS[1], ARGV[1], updated)
if ARGV[4] == '1' then
  return {1, updated}
end
return {1, ''}
"""

# Puts back a field's previous value (ARGV[3]) if it still holds ARGV[2]: undoes an append to
# a list that turned out to be corrupted, unless another writer changed it since.
_RESTORE_LUA = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
"""

# Deletes a plan's hash and says how many keys it held, atomically.
_CLEANUP_LUA = """
local count = redis.call('HLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return count
"""


@reports_redis_errors("working memory")
class WorkingMemory:
    """Plan-scoped key/value state shared by the agents working on one plan.

    ``max_value_bytes`` bounds the JSON encoding of any one stored value (lists included after
    an append); larger values raise :class:`ValueTooLargeError` and nothing is written. A field
    changed outside soorma-lc so that it no longer holds JSON raises :class:`CorruptedDataError`
    when read or updated, and is left as it is.
    """

    def __init__(
        self, client: redis.asyncio.Redis, *, max_value_bytes: int = DEFAULT_MAX_VALUE_BYTES
    ) -> None:
        self.max_value_bytes = require_count(max_value_bytes, "max_value_bytes")
        self.client = require_async_client(client, "WorkingMemory")
        """The Redis client (planners keep their per-plan bookkeeping next to the state)."""
        self._append = client.register_script(_APPEND_LUA)
        self._restore = client.register_script(_RESTORE_LUA)
        self._cleanup = client.register_script(_CLEANUP_LUA)

    @staticmethod
    def plan_tag(plan_id: str, *, tenant_id: str) -> str:
        """The Redis Cluster hash tag of a plan: keys carrying it live on one shard, so one
        script may touch the plan's state and other per-plan keys together."""
        tenant = require_id(tenant_id, "tenant_id", error=ScopeError)
        plan = require_id(plan_id, "plan_id")
        return f"{{{key_segment(tenant)}:{key_segment(plan)}}}"

    def plan_key(self, plan_id: str, *, tenant_id: str, user_id: str) -> str:
        """The Redis hash holding the plan's state as ``user_id`` sees it."""
        tenant, user = require_scope(tenant_id, user_id)
        return f"soorma:wm:{self.plan_tag(plan_id, tenant_id=tenant)}:{key_segment(user)}"

    def _hash_key(self, plan_id: str, tenant_id: str, user_id: str) -> str:
        return self.plan_key(plan_id, tenant_id=tenant_id, user_id=user_id)

    async def set_plan_state(
        self, plan_id: str, key: str, value: Any, *, tenant_id: str, user_id: str
    ) -> None:
        """Store ``value`` (any JSON value) under ``key``, replacing what was there."""
        name = self._hash_key(plan_id, tenant_id, user_id)
        field = require_id(key, "key")
        data = encode_json(value, limit=self.max_value_bytes, what=f"value of {key!r}")
        await self.client.hset(name, field, data)

    async def get_plan_state(self, plan_id: str, key: str, *, tenant_id: str, user_id: str) -> Any:
        """The value stored under ``key``, or None when there is none (Soorma's HTTP client
        returns a response object)."""
        name = self._hash_key(plan_id, tenant_id, user_id)
        field = require_id(key, "key")
        data = await self.client.hget(name, field)
        return None if data is None else _decoded(data, name, field)

    async def get_all_plan_state(
        self, plan_id: str, *, tenant_id: str, user_id: str
    ) -> dict[str, Any]:
        """Every key of the plan with its value (one consistent snapshot)."""
        name = self._hash_key(plan_id, tenant_id, user_id)
        raw = await self.client.hgetall(name)
        state = {}
        for field, data in raw.items():
            key = stored_text(field, f"a field name of {name}", key=name)
            state[key] = _decoded(data, name, key)
        return state

    async def delete_plan_state(
        self, plan_id: str, key: str, *, tenant_id: str, user_id: str
    ) -> bool:
        """Remove ``key``; True if it existed (whatever it held, so a corrupted value can go)."""
        name = self._hash_key(plan_id, tenant_id, user_id)
        return bool(await self.client.hdel(name, require_id(key, "key")))

    async def cleanup_plan(self, plan_id: str, *, tenant_id: str, user_id: str) -> int:
        """Remove every key of the plan; returns how many there were."""
        name = self._hash_key(plan_id, tenant_id, user_id)
        return int(await self._cleanup(keys=[name]))

    async def increment_plan_state(
        self, plan_id: str, key: str, delta: int = 1, *, tenant_id: str, user_id: str
    ) -> int:
        """Add ``delta`` to the integer under ``key`` (missing counts as 0), atomically.

        Counters are 64-bit signed integers, as in Redis. Raises :class:`PlanStateTypeError` if
        the key holds something other than an integer or the sum would overflow (Soorma's SDK
        would silently reset it to 0; here nothing stored is overwritten).
        """
        name = self._hash_key(plan_id, tenant_id, user_id)
        field = require_id(key, "key")
        if isinstance(delta, bool) or not isinstance(delta, int):
            raise SoormaValidationError(f"delta must be an int, got {shown(delta)}")
        if not -_INT64 <= delta < _INT64:
            raise SoormaValidationError(
                f"delta must fit a 64-bit signed integer, got {shown(delta)}"
            )
        try:
            return int(await self.client.hincrby(name, field, delta))
        except ResponseError as exc:
            raise PlanStateTypeError(f"cannot increment {key!r}: {exc}") from exc

    async def extend_plan_state(
        self,
        plan_id: str,
        key: str,
        items: list[Any] | tuple[Any, ...],
        *,
        tenant_id: str,
        user_id: str,
        return_value: bool = True,
    ) -> list[Any] | None:
        """Append ``items`` to the list under ``key`` (missing counts as []), atomically.

        Returns the updated list, or None with ``return_value=False`` (saves transferring a
        long list back). Raises :class:`PlanStateTypeError` if the key holds a non-list. The
        updated list is decoded only when it is returned: if the list stored under ``key`` was
        corrupted outside soorma-lc, the append is undone and :class:`CorruptedDataError`
        raised; with ``return_value=False`` such a list is only detected when it is read.
        """
        name = self._hash_key(plan_id, tenant_id, user_id)
        field = require_id(key, "key")
        if not isinstance(items, list | tuple):
            raise SoormaValidationError(f"items must be a list (got {type(items).__name__})")
        if not isinstance(return_value, bool):
            raise SoormaValidationError(f"return_value must be a bool, got {shown(return_value)}")
        data = encode_json(items, limit=self.max_value_bytes, what=f"items for {key!r}")
        code, payload = await self._append(
            keys=[name], args=[field, data, self.max_value_bytes, "1" if return_value else "0"]
        )
        if code == -1:
            raise PlanStateTypeError(f"cannot append to {key!r}: it does not hold a list")
        if code == -2:
            check_size(int(payload), limit=self.max_value_bytes, what=f"list under {key!r}")
        if not return_value:
            return None
        try:
            return cast(list[Any], _decoded(payload, name, field))
        except CorruptedDataError:
            await self._undo_append(name, field, payload, data)
            raise

    async def _undo_append(self, name: str, field: str, updated: bytes, items: bytes) -> None:
        """Put back the corrupted list an append extended, unless it changed since."""
        if items == b"[]":
            return
        previous = updated[: len(updated) - len(items)] + b"]"
        restored = await self._restore(keys=[name], args=[field, updated, previous])
        if not restored:
            logger.warning("could not undo an append to the corrupted field %s of %s", field, name)

    async def merge_plan_state(
        self, plan_id: str, key: str, updates: dict[str, Any], *, tenant_id: str, user_id: str
    ) -> dict[str, Any]:
        """Merge ``updates`` into the dict under ``key`` (missing counts as {}); returns it.

        Runs as an optimistic transaction (``WATCH``/``MULTI``) retried on conflict, so a
        concurrent writer never loses an update; raises :class:`PlanStateTypeError` if the key
        holds a non-dict and :class:`ConcurrentUpdateError` if it keeps losing races.
        """
        name = self._hash_key(plan_id, tenant_id, user_id)
        field = require_id(key, "key")
        if not isinstance(updates, dict):
            raise SoormaValidationError(f"updates must be a dict (got {type(updates).__name__})")
        encode_json(updates, limit=self.max_value_bytes, what=f"updates for {key!r}")
        async with self.client.pipeline(transaction=True) as pipe:
            for attempt in range(_MERGE_ATTEMPTS):
                try:
                    await pipe.watch(name)
                    raw = await pipe.hget(name, field)
                    current = {} if raw is None else _decoded(raw, name, field)
                    if not isinstance(current, dict):
                        raise PlanStateTypeError(f"cannot update {key!r}: it does not hold a dict")
                    merged = {**current, **updates}
                    data = encode_json(merged, limit=self.max_value_bytes, what=f"dict {key!r}")
                    pipe.multi()
                    pipe.hset(name, field, data)
                    await pipe.execute()
                    return merged
                except WatchError:
                    logger.debug("merge on %s/%s lost a race (attempt %d)", plan_id, key, attempt)
                    await asyncio.sleep(random.uniform(0, 0.001 * min(attempt + 1, 20)))
                finally:
                    await pipe.reset()
        raise ConcurrentUpdateError(
            f"gave up merging into {key!r} after {_MERGE_ATTEMPTS} conflicting writes"
        )


def _decoded(data: bytes, name: str, field: str) -> Any:
    """A stored value, strictly decoded (:class:`CorruptedDataError` names where it is)."""
    return decode_json(data, what=f"working-memory value {field!r}", key=f"{name} {field}")
