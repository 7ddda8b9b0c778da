"""Lua scripts of the Redis checkpointer: each read or write of a thread is one atomic call.

Every script gets the five keys of one thread (they share a Cluster hash tag)::

    KEYS[1] index  ZSET, members "ns\\0checkpoint_id" (lexicographic order = time order)
    KEYS[2] ckpt   HASH "ns\\0checkpoint_id" -> packed checkpoint, metadata, parent id
    KEYS[3] refs   HASH "ns\\0checkpoint_id" -> run_id \\1 (channel \\0 version \\1)*
    KEYS[4] blobs  HASH "ns\\0channel\\0version" -> stored blob (see codec.py)
    KEYS[5] writes HASH "ns\\0checkpoint_id" -> concatenated pending-write records

Only plain Redis commands (6.2+) are used: no modules.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

_PRELUDE = r"""
local I, C, R, B, W = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local function expire(ms)
  if ms > 0 then for _, k in ipairs(KEYS) do redis.call('PEXPIRE', k, ms) end end
end
-- calls fn(token) for each \1-terminated token of a refs value after the run id
local function each_ref(refs, fn)
  local first = true
  for tok in string.gmatch(refs, "([^\1]*)\1") do
    if first then first = false else fn(tok) end
  end
end
local function run_of(refs)
  return string.sub(refs, 1, string.find(refs, "\1", 1, true) - 1)
end
local function ns_of(member)
  return string.sub(member, 1, string.find(member, "\0", 1, true) - 1)
end
-- appends field, value pairs of every blob a checkpoint needs (delta chains included)
local function collect(ns, refs, out, seen)
  each_ref(refs, function(tok)
    local prefix = ns .. "\0" .. string.sub(tok, 1, string.find(tok, "\0", 1, true))
    local f = ns .. "\0" .. tok
    while f and not seen[f] do
      seen[f] = true
      local v = redis.call('HGET', B, f)
      if not v then break end
      out[#out + 1] = f
      out[#out + 1] = v
      if string.byte(v, 1) == 68 then
        f = prefix .. string.sub(v, 6, string.find(v, "\0", 6, true) - 1)
      else
        f = nil
      end
    end
  end)
end
local function drop(member)
  redis.call('ZREM', I, member)
  redis.call('HDEL', C, member)
  redis.call('HDEL', R, member)
  redis.call('HDEL', W, member)
end
-- deletes blobs no remaining checkpoint needs, and writes of checkpoints that are gone
local function gc()
  local needed = {}
  local refs = redis.call('HGETALL', R)
  for i = 1, #refs, 2 do
    collect(ns_of(refs[i]), refs[i + 1], {}, needed)
  end
  for _, f in ipairs(redis.call('HKEYS', B)) do
    if not needed[f] then redis.call('HDEL', B, f) end
  end
  for _, f in ipairs(redis.call('HKEYS', W)) do
    if redis.call('HEXISTS', C, f) == 0 then redis.call('HDEL', W, f) end
  end
end
"""

# ARGV: ns, checkpoint_id, record, refs, ttl_ms, n, then n x (field, value, base_field, base_crc)
# Returns 1, or the field whose delta base is missing or changed (nothing is written then).
_PUT = r"""
local n = tonumber(ARGV[6])
for i = 0, n - 1 do
  local base = ARGV[9 + 4 * i]
  if base ~= "" then
    local v = redis.call('HGET', B, base)
    if (not v) or string.sub(v, 2, 5) ~= ARGV[10 + 4 * i] then return ARGV[7 + 4 * i] end
  end
end
local member = ARGV[1] .. "\0" .. ARGV[2]
redis.call('ZADD', I, 0, member)
redis.call('HSET', C, member, ARGV[3])
redis.call('HSET', R, member, ARGV[4])
for i = 0, n - 1 do redis.call('HSET', B, ARGV[7 + 4 * i], ARGV[8 + 4 * i]) end
expire(tonumber(ARGV[5]))
return 1
"""

# ARGV: member, ttl_ms, records. Appends; readers de-duplicate by (task_id, idx).
_PUT_WRITES = r"""
local current = redis.call('HGET', W, ARGV[1])
redis.call('HSET', W, ARGV[1], (current or "") .. ARGV[3])
expire(tonumber(ARGV[2]))
return 1
"""

# ARGV: ns, checkpoint_id ("" = latest of ns), refresh_ms.
# Returns false or {member, record, writes, blob field, blob value, ...}.
_GET = r"""
local member
if ARGV[2] == "" then
  local m = redis.call('ZREVRANGEBYLEX', I, "(" .. ARGV[1] .. "\1", "(" .. ARGV[1] .. "\0",
                       'LIMIT', 0, 1)
  if #m == 0 then return false end
  member = m[1]
else
  member = ARGV[1] .. "\0" .. ARGV[2]
end
local record = redis.call('HGET', C, member)
if not record then return false end
local out = {member, record, redis.call('HGET', W, member) or ""}
collect(ARGV[1], redis.call('HGET', R, member) or "\1", out, {})
expire(tonumber(ARGV[3]))
return out
"""

# ARGV: ns ("" with all_ns=1 lists every namespace), before id ("" = none), limit (0 = all),
# refresh_ms, all_ns. Returns {count, (member, record, writes) x count, blob pairs...}.
_LIST = r"""
local members
if ARGV[5] == "1" then
  members = redis.call('ZREVRANGEBYLEX', I, '+', '-')
else
  local max = "(" .. ARGV[1] .. "\1"
  if ARGV[2] ~= "" then max = "(" .. ARGV[1] .. "\0" .. ARGV[2] end
  local limit = tonumber(ARGV[3])
  if limit > 0 then
    members = redis.call('ZREVRANGEBYLEX', I, max, "(" .. ARGV[1] .. "\0", 'LIMIT', 0, limit)
  else
    members = redis.call('ZREVRANGEBYLEX', I, max, "(" .. ARGV[1] .. "\0")
  end
end
local out = {0}
local blobs, seen = {}, {}
for _, member in ipairs(members) do
  local record = redis.call('HGET', C, member)
  if record then
    out[1] = out[1] + 1
    out[#out + 1] = member
    out[#out + 1] = record
    out[#out + 1] = redis.call('HGET', W, member) or ""
    collect(ns_of(member), redis.call('HGET', R, member) or "\1", blobs, seen)
  end
end
for _, v in ipairs(blobs) do out[#out + 1] = v end
expire(tonumber(ARGV[4]))
return out
"""

# Deletes the thread; returns the distinct run ids it held (to clean the run index).
_DELETE = r"""
local runs, out = {}, {}
for _, refs in ipairs(redis.call('HVALS', R)) do
  local run = run_of(refs)
  if run ~= "" and not runs[run] then runs[run] = true; out[#out + 1] = run end
end
redis.call('DEL', I, C, R, B, W)
return out
"""

# ARGV: run ids. Deletes the thread's checkpoints of those runs; returns how many.
_DELETE_RUNS = r"""
local runs = {}
for _, run in ipairs(ARGV) do runs[run] = true end
local refs = redis.call('HGETALL', R)
local n = 0
for i = 1, #refs, 2 do
  if runs[run_of(refs[i + 1])] then drop(refs[i]); n = n + 1 end
end
if n > 0 then gc() end
return n
"""

# Keeps only the newest checkpoint of each namespace (and the blobs and writes it needs).
_KEEP_LATEST = r"""
local members = redis.call('ZRANGE', I, 0, -1)
local n = 0
for i, member in ipairs(members) do
  local nxt = members[i + 1]
  if nxt and ns_of(nxt) == ns_of(member) then drop(member); n = n + 1 end
end
if n > 0 then gc() end
return n
"""

# Returns the raw content of the thread: {index members, ckpt, refs, blobs, writes} (flat hashes).
_DUMP = r"""
return {redis.call('ZRANGE', I, 0, -1), redis.call('HGETALL', C), redis.call('HGETALL', R),
        redis.call('HGETALL', B), redis.call('HGETALL', W)}
"""

# ARGV: ttl_ms, then the five parts of _DUMP encoded as counts + flat values.
# Refuses (returns 0) when the target thread already has checkpoints.
_RESTORE = r"""
if redis.call('EXISTS', I) == 1 then return 0 end
local pos = 2
local function take(key, is_hash)
  local count = tonumber(ARGV[pos]); pos = pos + 1
  for i = 1, count do
    if is_hash then
      redis.call('HSET', key, ARGV[pos], ARGV[pos + 1]); pos = pos + 2
    else
      redis.call('ZADD', key, 0, ARGV[pos]); pos = pos + 1
    end
  end
end
take(I, false); take(C, true); take(R, true); take(B, true); take(W, true)
expire(tonumber(ARGV[1]))
return 1
"""


@dataclass(frozen=True)
class Script:
    """A Lua script with its SHA1, called with EVALSHA (loaded on NOSCRIPT)."""

    name: str
    source: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.source.encode()).hexdigest())


def _script(name: str, body: str) -> Script:
    return Script(name, _PRELUDE + body)


PUT = _script("put", _PUT)
PUT_WRITES = _script("put_writes", _PUT_WRITES)
GET = _script("get", _GET)
LIST = _script("list", _LIST)
DELETE = _script("delete", _DELETE)
DELETE_RUNS = _script("delete_runs", _DELETE_RUNS)
KEEP_LATEST = _script("keep_latest", _KEEP_LATEST)
DUMP = _script("dump", _DUMP)
RESTORE = _script("restore", _RESTORE)
