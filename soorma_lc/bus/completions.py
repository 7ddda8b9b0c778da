"""Which events a consumer group has completed: the idempotency record of the bus.

Event ids go into hashes, one per group and time bucket of ``ttl`` seconds, each expiring one
bucket after it closes; an id is remembered for between ``ttl`` and ``2 * ttl`` seconds. Every
key here carries the group as its Redis Cluster hash tag, so one script reads and writes them
all, on a single server and on a cluster alike; the topic streams live in other slots.

One script call per batch records the ids of completed events (and drops their handler
errors), then tells for each id of the next batch whether it was completed already (looking at
the previous, current and next bucket, which absorbs clock skew between machines). Consumers
acknowledge stream entries (XACK) only after the script recorded their ids: an entry is never
acknowledged without its marker. A consumer that dies between the two leaves a marked entry
pending; whoever reclaims it finds the marker and acknowledges it without running the handler.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import redis.asyncio

from soorma_lc.bus.keys import BusKeys

# KEYS: previous, current, next bucket; errors hash (all tagged with the group).
# ARGV: expire-at, n, m; n event ids to record as completed; m error-hash fields to delete;
# then the event ids to check.
# Returns one character per checked id: "1" completed already, "0" not.
_SETTLE = """
local n, m = tonumber(ARGV[2]), tonumber(ARGV[3])
local at = 4
if n > 0 then
  local fields = {}
  for i = at, at + n - 1 do
    fields[#fields + 1] = ARGV[i]
    fields[#fields + 1] = '1'
  end
  redis.call('HSET', KEYS[2], unpack(fields))
  redis.call('EXPIREAT', KEYS[2], ARGV[1])
end
at = at + n
if m > 0 then
  redis.call('HDEL', KEYS[4], unpack(ARGV, at, at + m - 1))
end
at = at + m
local flags = {}
for i = at, #ARGV do
  local flag = '0'
  for b = 1, 3 do
    if redis.call('HEXISTS', KEYS[b], ARGV[i]) == 1 then
      flag = '1'
      break
    end
  end
  flags[#flags + 1] = flag
end
return table.concat(flags)
"""

# Items per list and script call (Lua's unpack() has a stack limit of a few thousand).
_CHUNK = 500


class CompletionLog:
    """Completed event ids per consumer group, kept ``ttl`` to ``2 * ttl`` seconds."""

    def __init__(self, client: redis.asyncio.Redis, keys: BusKeys, ttl: int) -> None:
        self._keys = keys
        self.ttl = ttl
        self._settle = client.register_script(_SETTLE)

    async def settle(
        self,
        group: str,
        *,
        event_ids: Sequence[str] = (),
        error_fields: Sequence[bytes] = (),
        check_ids: Sequence[str] = (),
    ) -> list[bool]:
        """Record ``event_ids`` as completed by ``group`` and delete their ``error_fields``;
        then, for each of ``check_ids``, whether ``group`` has completed it."""
        bucket = int(time.time() // self.ttl)
        buckets = [self._keys.completed(group, bucket + offset) for offset in (-1, 0, 1)]
        keys = [*buckets, self._keys.errors(group)]
        expire_at = (bucket + 2) * self.ttl
        size = max(len(event_ids), len(error_fields), len(check_ids), 1)
        flags: list[bool] = []
        for start in range(0, size, _CHUNK):
            part = slice(start, start + _CHUNK)
            done, errors, check = event_ids[part], error_fields[part], check_ids[part]
            args = [expire_at, len(done), len(errors), *done, *errors, *check]
            answer = await self._settle(keys=keys, args=args)
            flags += [flag == ord("1") for flag in answer]
        return flags

    async def completed(self, group: str, event_ids: Sequence[str]) -> list[bool]:
        """For each id, whether ``group`` completed it."""
        return await self.settle(group, check_ids=event_ids)

    async def record(self, group: str, event_ids: Sequence[str]) -> None:
        """Record ``event_ids`` as completed by ``group`` (e.g. work finished out of band)."""
        await self.settle(group, event_ids=event_ids)
