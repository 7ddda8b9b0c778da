"""The store's items in Redis: the source of truth for values, namespaces and expiry.

Keys of one scope (tenant + optional user) share a Redis Cluster hash tag, so each write runs
as one atomic Lua script:

- ``<P>:i:<namespace>``: hash, field = key, value = item JSON (value, times, ttl, generation);
- ``<P>:ns``: sorted set of the encoded namespaces that hold at least one item (lex order);
- ``<P>:exp``: sorted set of items with a TTL, scored by their expiry time (epoch seconds).

Expired items are invisible to every read even before a sweep deletes them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import redis.asyncio

from soorma_lc.errors import CorruptedDataError
from soorma_lc.memory._values import reading
from soorma_lc.memory.store.codec import (
    NAMESPACE_END,
    StoredItem,
    decode_item,
    decode_namespace,
    encode_namespace,
    item_id,
    parse_item_id,
)

logger = logging.getLogger(__name__)

# KEYS: items hash, namespaces zset, expiry zset.
# ARGV: key, body, now_us, encoded namespace, expiry member, expires_at ('' = none), now_s.
# Keeps the created time of a live item; returns the old JSON so that its vectors can go.
PUT = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
local created = ARGV[3]
if old then
  local expiry = redis.call('ZSCORE', KEYS[3], ARGV[5])
  if not expiry or tonumber(expiry) > tonumber(ARGV[7]) then
    created = string.match(old, '^{"c":(%d+),') or created
  end
end
redis.call('HSET', KEYS[1], ARGV[1], '{"c":' .. created .. ',' .. ARGV[2])
redis.call('ZADD', KEYS[2], 0, ARGV[4])
if ARGV[6] == '' then
  redis.call('ZREM', KEYS[3], ARGV[5])
else
  redis.call('ZADD', KEYS[3], ARGV[6], ARGV[5])
end
return old
"""

# KEYS: items hash, namespaces zset, expiry zset.
# ARGV: key, encoded namespace, expiry member, expired_before ('' = delete unconditionally).
# With expired_before set, deletes only an item that is still expired (the sweeper's race).
DELETE = """
if ARGV[4] ~= '' then
  local expiry = redis.call('ZSCORE', KEYS[3], ARGV[3])
  if not expiry or tonumber(expiry) > tonumber(ARGV[4]) then return false end
end
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[3])
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], ARGV[2]) end
return old
"""


@dataclass(frozen=True, slots=True)
class Write:
    """One put (``body`` set) or delete (``body`` None) for :meth:`RedisItems.write`."""

    namespace: tuple[str, ...]
    key: str
    body: str | None = None
    expires_at: float | None = None


class RedisItems:
    """Items of one scope; every method is one or two Redis round trips."""

    def __init__(self, client: redis.asyncio.Redis, scope: str) -> None:
        self._client = client
        self._prefix = f"soorma:store:{{{scope}}}"
        self._namespaces = f"{self._prefix}:ns"
        self._expiry = f"{self._prefix}:exp"
        self._put = client.register_script(PUT)
        self._delete = client.register_script(DELETE)

    def _items_key(self, namespace: tuple[str, ...]) -> str:
        return f"{self._prefix}:i:{encode_namespace(namespace)}"

    def _keys(self, namespace: tuple[str, ...]) -> list[str]:
        return [self._items_key(namespace), self._namespaces, self._expiry]

    async def get(
        self, refs: Sequence[tuple[tuple[str, ...], str]], now: float
    ) -> list[StoredItem | None]:
        """The live items at ``refs`` (None where missing or expired), in order."""
        if not refs:
            return []
        pipe = self._client.pipeline(transaction=False)
        for namespace, key in refs:
            pipe.hget(self._items_key(namespace), key)
        raws = await pipe.execute()
        items = [
            decode_item(namespace, key, raw) if raw is not None else None
            for (namespace, key), raw in zip(refs, raws, strict=True)
        ]
        expired = await self._expired([item for item in items if item is not None], now)
        return [item if item is not None and item.id not in expired else None for item in items]

    async def scan(self, prefix: tuple[str, ...], now: float) -> list[StoredItem]:
        """Every live item whose namespace starts with ``prefix``, by namespace then key."""
        namespaces = await self.namespaces(prefix)
        pipe = self._client.pipeline(transaction=False)
        for namespace in namespaces:
            pipe.hgetall(self._items_key(namespace))
        rows = await pipe.execute()
        with reading(f"a store key under {prefix!r}"):
            keyed = [
                (namespace, field.decode("utf-8"), raw)
                for namespace, fields in zip(namespaces, rows, strict=True)
                for field, raw in sorted(fields.items())
            ]
        items = [decode_item(namespace, key, raw) for namespace, key, raw in keyed]
        expired = await self._expired(items, now)
        return [item for item in items if item.id not in expired]

    async def namespaces(self, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
        """Namespaces under ``prefix`` holding at least one item (expired ones included)."""
        encoded = encode_namespace(prefix)
        low, high = (f"[{encoded}", f"({encoded}{NAMESPACE_END}") if prefix else ("-", "+")
        members = await self._client.zrangebylex(self._namespaces, low, high)
        with reading(f"the namespace index {self._namespaces}"):
            return sorted(decode_namespace(member.decode("ascii")) for member in members)

    async def _expired(self, items: Iterable[StoredItem], now: float) -> set[str]:
        """The ids among ``items`` whose TTL has run out at ``now``."""
        ids = [item.id for item in items if item.ttl_minutes is not None]
        scores = await self._client.zmscore(self._expiry, ids) if ids else []
        return {i for i, s in zip(ids, scores, strict=True) if s is not None and s <= now}

    async def write(
        self, writes: Sequence[Write], now_us: int, now: float
    ) -> list[StoredItem | None]:
        """Apply puts and deletes atomically per item; return each item's previous state."""
        if not writes:
            return []
        pipe = self._client.pipeline(transaction=False)
        for write in writes:
            keys = self._keys(write.namespace)
            member = item_id(write.namespace, write.key)
            if write.body is None:
                args = [write.key, encode_namespace(write.namespace), member, ""]
                await self._delete(keys=keys, args=args, client=pipe)
            else:
                expires = "" if write.expires_at is None else repr(write.expires_at)
                args = [
                    write.key, write.body, now_us, encode_namespace(write.namespace),
                    member, expires, repr(now),
                ]  # fmt: skip
                await self._put(keys=keys, args=args, client=pipe)
        olds = await pipe.execute()
        return [
            _replaced(write.namespace, write.key, old)
            for write, old in zip(writes, olds, strict=True)
        ]

    async def refresh(self, items: Iterable[StoredItem], now: float) -> None:
        """Restart the TTL clock of ``items`` that have one (only if they still have one)."""
        pipe = self._client.pipeline(transaction=False)
        count = 0
        for item in items:
            if item.ttl_minutes is not None:
                pipe.zadd(self._expiry, {item.id: now + item.ttl_minutes * 60}, xx=True)
                count += 1
        if count:
            await pipe.execute()

    async def expired_ids(self, now: float, batch: int) -> list[str]:
        """Up to ``batch`` ids of expired items (for the sweeper)."""
        members = await self._client.zrangebyscore(self._expiry, "-inf", now, start=0, num=batch)
        with reading(f"the expiry index {self._expiry}"):
            ids = [member.decode("ascii") for member in members]
            for identifier in ids:
                parse_item_id(identifier)
        return ids

    async def delete_expired(self, ids: Sequence[str], now: float) -> list[StoredItem]:
        """Delete the items among ``ids`` that are still expired; return what was deleted."""
        pipe = self._client.pipeline(transaction=False)
        with reading(f"the expiry index {self._expiry}"):
            refs = [parse_item_id(identifier) for identifier in ids]
        for (namespace, key), identifier in zip(refs, ids, strict=True):
            args = [key, encode_namespace(namespace), identifier, repr(now)]
            await self._delete(keys=self._keys(namespace), args=args, client=pipe)
        olds = await pipe.execute()
        replaced = [_replaced(ns, key, old) for (ns, key), old in zip(refs, olds, strict=True)]
        return [item for item in replaced if item is not None]


def _replaced(namespace: tuple[str, ...], key: str, old: bytes | None) -> StoredItem | None:
    """The item a write replaced or deleted, for dropping its vectors. One changed outside
    soorma-lc cannot be decoded: the write still goes through (it repairs the item), and its
    old vectors, if any, stay behind, skipped by searches (their generation is not the item's)."""
    if not old:
        return None
    try:
        return decode_item(namespace, key, old)
    except CorruptedDataError:
        logger.warning("replaced a corrupted store item %r in %r", key, namespace, exc_info=True)
        return None
