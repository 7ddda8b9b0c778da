"""Which events a consumer group has completed: the idempotency record of the bus.

Event ids go into hashes, one per group and time bucket of ``ttl`` seconds, each expiring one
bucket after it closes; an id is remembered for between ``ttl`` and ``2 * ttl`` seconds.

One script call per batch does everything a consumer needs besides reading: it records the ids
of completed events and acknowledges their stream entries atomically, then tells for each id of
the next batch whether it was completed already (looking at the previous, current and next
bucket, which absorbs clock skew between machines). Consumers thus pay one round trip per batch
for idempotency and acknowledgement together, not one command per event.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import redis.asyncio

from soorma_lc.bus.keys import BusKeys

# KEYS: previous, current, next bucket; errors hash; stream.
# ARGV: group, expire-at, n, m, k; n event ids to record as completed; m error-hash fields to
# delete; k event ids to check; then the stream entry ids to acknowledge.
# Returns one character per checked id: "1" completed already, "0" not.
_SETTLE = """
local n, m, k = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local at = 6
if n > 0 then
  local fields = {}
  for i = at, at + n - 1 do
    fields[#fields + 1] = ARGV[i]
    fields[#fields + 1] = '1'
  end
  redis.call('HSET', KEYS[2], unpack(fields))
  redis.call('EXPIREAT', KEYS[2], ARGV[2])
end
at = at + n
if m > 0 then
  redis.call('HDEL', KEYS[4], unpack(ARGV, at, at + m - 1))
end
at = at + m
local flags = {}
for i = at, at + k - 1 do
  local flag = '0'
  for b = 1, 3 do
    if redis.call('HEXISTS', KEYS[b], ARGV[i]) == 1 then
      flag = '1'
      break
    end
  end
  flags[#flags + 1] = flag
end
at = at + k
if #ARGV >= at then
  redis.call('XACK', KEYS[5], ARGV[1], unpack(ARGV, at, #ARGV))
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
        stream: bytes | str | None = None,
        *,
        message_ids: Sequence[bytes] = (),
        event_ids: Sequence[str] = (),
        error_fields: Sequence[bytes] = (),
        check_ids: Sequence[str] = (),
    ) -> list[bool]:
        """Record ``event_ids`` as completed by ``group``, delete their ``error_fields`` and
        XACK ``message_ids`` of ``stream``, atomically; then, for each of ``check_ids``,
        whether ``group`` has completed it."""
        bucket = int(time.time() // self.ttl)
        buckets = [self._keys.completed(group, bucket + offset) for offset in (-1, 0, 1)]
        keys = [*buckets, self._keys.errors(group), stream or buckets[1]]
        expire_at = (bucket + 2) * self.ttl
        size = max(len(message_ids), len(event_ids), len(error_fields), len(check_ids), 1)
        flags: list[bool] = []
        for start in range(0, size, _CHUNK):
            part = slice(start, start + _CHUNK)
            done, errors, check = event_ids[part], error_fields[part], check_ids[part]
            args = [group, expire_at, len(done), len(errors), len(check), *done, *errors, *check]
            answer = await self._settle(keys=keys, args=[*args, *message_ids[part]])
            flags += [flag == ord("1") for flag in answer]
        return flags

    async def completed(self, group: str, event_ids: Sequence[str]) -> list[bool]:
        """For each id, whether ``group`` completed it."""
        return await self.settle(group, check_ids=event_ids)

    async def record(self, group: str, event_ids: Sequence[str]) -> None:
        """Record ``event_ids`` as completed by ``group`` (e.g. work finished out of band)."""
        await self.settle(group, event_ids=event_ids)
