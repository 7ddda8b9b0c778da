"""Durable plan timers: deadlines that fire even if the replica that set them is gone.

Timers live in a Redis sorted set per planner name (score = due time), not in process memory.
Every replica polls it; a due timer is claimed atomically (moved to a claimed set with a claim
deadline), handled, then removed. A replica that dies after claiming leaves the claim to expire,
and another replica takes it again: timers fire at least once, and handling is idempotent (a
plan ignores a timer for something it no longer waits for).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

import redis.asyncio

from soorma_lc.memory._values import key_segment

# KEYS: due set, claimed set. ARGV: now (s), claim deadline (s), max count.
# Moves due timers (and claims that expired) into the claimed set; returns their members.
_CLAIM_LUA = """
local now = tonumber(ARGV[1])
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
for _, m in ipairs(expired) do table.insert(members, m) end
for _, m in ipairs(members) do
  redis.call('ZREM', KEYS[1], m)
  redis.call('ZADD', KEYS[2], ARGV[2], m)
end
return members
"""


@dataclass(frozen=True)
class PlanTimer:
    """A deadline of one plan: when ``token`` (what the plan waits for) is still awaited at
    ``due``, the plan hears that it timed out."""

    plan_id: str
    tenant_id: str
    user_id: str
    token: str
    due: float

    def member(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_member(cls, member: bytes | str) -> PlanTimer:
        return cls(**json.loads(member))


class PlanTimers:
    """The timers of one planner name, shared by all its replicas."""

    def __init__(self, client: redis.asyncio.Redis, planner: str, *, claim_ttl: float = 60.0):
        tag = f"{{{key_segment(planner)}}}"
        self.client = client
        self.claim_ttl = claim_ttl
        self._due = f"soorma:planner-timers:{tag}:due"
        self._claimed = f"soorma:planner-timers:{tag}:claimed"
        self._claim = client.register_script(_CLAIM_LUA)

    async def schedule(self, timer: PlanTimer) -> None:
        """Add ``timer`` (idempotent: the same timer twice is one timer)."""
        await self.client.zadd(self._due, {timer.member(): timer.due})

    async def cancel(self, timer: PlanTimer) -> None:
        """Remove ``timer`` whether due, claimed or not yet due."""
        member = timer.member()
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.zrem(self._due, member)
            pipe.zrem(self._claimed, member)
            await pipe.execute()

    async def claim_due(self, *, limit: int = 50) -> list[PlanTimer]:
        """Timers that are due (or whose claim expired), now claimed by the caller."""
        now = time.time()
        members = await self._claim(
            keys=[self._due, self._claimed], args=[now, now + self.claim_ttl, limit]
        )
        return [PlanTimer.from_member(member) for member in members]

    async def done(self, timer: PlanTimer) -> None:
        """Forget a claimed timer once it was handled."""
        await self.client.zrem(self._claimed, timer.member())

    async def pending(self) -> int:
        """How many timers are scheduled or claimed."""
        return int(await self.client.zcard(self._due)) + int(await self.client.zcard(self._claimed))
