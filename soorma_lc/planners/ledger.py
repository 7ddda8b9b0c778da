"""The plan's bookkeeping in Redis: the action count, its owner and the per-plan lease.

Everything of one plan shares the plan's hash tag ``{<tenant>:<plan>}`` with its working
memory, so the action reservation (count, Soorma's ``_action_history``, the step marker) is one
atomic script, also on Redis Cluster. The count lives in the plan's working memory under
``_action_count``, where every replica, restart and ``WorkflowState`` sees the same number.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from soorma_lc.backends.redis_clients import reply_text
from soorma_lc.errors import PlanBusyError
from soorma_lc.memory._values import require_id
from soorma_lc.memory.working import WorkingMemory

logger = logging.getLogger(__name__)

ACTION_COUNT_KEY = "_action_count"
"""Working-memory key holding how many actions (published events) the plan has taken."""
ACTION_STEPS_KEY = "_action_steps"
"""Working-memory key holding the steps whose action was counted (re-runs count once)."""

# KEYS[1]: the plan's working-memory hash. ARGV: step, max actions, event name as JSON text.
# Returns {count, 1} when reserved now, {count, 0} when this step was reserved before (a
# re-run after a crash), {count, -1} when the limit is reached (nothing written).
_RESERVE_LUA = """
local step = tonumber(ARGV[1])
local count = tonumber(redis.call('HGET', KEYS[1], '_action_count') or '0')
local steps_raw = redis.call('HGET', KEYS[1], '_action_steps')
local steps = {}
if steps_raw then steps = cjson.decode(steps_raw) end
for _, s in ipairs(steps) do
  if s == step then return {count, 0} end
end
if count >= tonumber(ARGV[2]) then return {count, -1} end
table.insert(steps, step)
redis.call('HSET', KEYS[1], '_action_count', tostring(count + 1),
           '_action_steps', cjson.encode(steps))
local history = redis.call('HGET', KEYS[1], '_action_history')
if not history or history == '[]' then
  history = '[' .. ARGV[3] .. ']'
else
  history = string.sub(history, 1, -2) .. ',' .. ARGV[3] .. ']'
end
redis.call('HSET', KEYS[1], '_action_history', history)
return {count + 1, 1}
"""

# KEYS: lease key, owner key. ARGV: token, ttl ms, expected owner ('' = any).
# Returns -1 when the plan has another owner, 1 when the lease was taken, 0 when it is held.
_ACQUIRE_LUA = """
if ARGV[3] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[3] then return -1 end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
"""

# KEYS[1]: lease key. ARGV: token, ttl ms. Extends the lease only if we still hold it.
_RENEW_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

# KEYS[1]: lease key. ARGV: token. Releases the lease only if we still hold it.
_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True)
class Reservation:
    """The answer to "may this step publish?": the count after it, and whether it may."""

    count: int
    allowed: bool
    repeated: bool
    """True when the step had reserved its action before (a re-run after a crash)."""


class PlanLedger:
    """Action counts and leases of plans, next to their working memory."""

    def __init__(self, working: WorkingMemory) -> None:
        self.working = working
        self.client = client = working.client
        self._reserve = client.register_script(_RESERVE_LUA)
        self._acquire = client.register_script(_ACQUIRE_LUA)
        self._renew = client.register_script(_RENEW_LUA)
        self._release = client.register_script(_RELEASE_LUA)

    def _planner_key(self, plan_id: str, tenant_id: str, what: str) -> str:
        tag = self.working.plan_tag(plan_id, tenant_id=require_id(tenant_id, "tenant_id"))
        return f"soorma:planner:{tag}:{what}"

    async def reserve_action(
        self, plan_id: str, step: int, event: str, max_actions: int, *, tenant_id: str, user_id: str
    ) -> Reservation:
        """Count step ``step``'s action unless ``max_actions`` were taken; idempotent per step."""
        key = self.working.plan_key(plan_id, tenant_id=tenant_id, user_id=user_id)
        count, code = await self._reserve(
            keys=[key], args=[step, max_actions, json.dumps(event, ensure_ascii=False)]
        )
        return Reservation(count=int(count), allowed=int(code) >= 0, repeated=int(code) == 0)

    async def action_count(self, plan_id: str, *, tenant_id: str, user_id: str) -> int:
        """How many actions the plan has taken."""
        key = self.working.plan_key(plan_id, tenant_id=tenant_id, user_id=user_id)
        return int(await self.client.hget(key, ACTION_COUNT_KEY) or 0)

    async def claim(self, plan_id: str, *, tenant_id: str, owner: str) -> bool:
        """Mark the plan as ``owner``'s (a planner and user); False if another owns it."""
        key = self._planner_key(plan_id, tenant_id, "owner")
        if await self.client.set(key, owner, nx=True):
            return True
        return reply_text(await self.client.get(key) or b"") == owner

    @contextlib.asynccontextmanager
    async def lease(
        self, plan_id: str, *, tenant_id: str, ttl: float, wait: float, owner: str | None = None
    ) -> AsyncIterator[bool]:
        """Hold the plan's lease: no other holder runs a step of this plan meanwhile.

        Yields True once held; with ``owner``, yields False at once (holding nothing) when the
        plan is not that owner's (see :meth:`claim`), so foreign events cost one round trip.
        Waits up to ``wait`` seconds for a holder to finish (then :class:`PlanBusyError`, which
        the bus retries); the lease expires ``ttl`` seconds after a holder that died last renewed
        it, so a killed replica never blocks a plan for longer than that.
        """
        key = self._planner_key(plan_id, tenant_id, "lease")
        owner_key = self._planner_key(plan_id, tenant_id, "owner")
        token = uuid.uuid4().hex
        ttl_ms = max(1, int(ttl * 1000))
        loop = asyncio.get_running_loop()
        give_up = loop.time() + wait
        delay = 0.005
        while True:
            got = int(await self._acquire(keys=[key, owner_key], args=[token, ttl_ms, owner or ""]))
            if got < 0:
                yield False
                return
            if got:
                break
            if loop.time() >= give_up:
                raise PlanBusyError(plan_id, wait)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.2)
        renewer = asyncio.create_task(self._keep(key, token, ttl_ms))
        try:
            yield True
        finally:
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)
            await self._release(keys=[key], args=[token])

    async def _keep(self, key: str, token: str, ttl_ms: int) -> None:
        while True:
            await asyncio.sleep(ttl_ms / 3000)
            if not await self._renew(keys=[key], args=[token, ttl_ms]):
                logger.warning("lost the lease %s (expired while the step ran)", key)
                return
