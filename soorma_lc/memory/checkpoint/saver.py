"""RedisCheckpointSaver: a LangGraph checkpointer on plain Redis (6.2+, no modules).

Each operation is written once as a generator of Redis call batches (see driver.py), so ``put``
and ``aput`` (and every other pair) share one implementation while both talk to Redis natively.
Every read or write of a thread is a single Lua call on keys sharing the thread's hash tag (see
scripts.py), so it is atomic and costs one round trip.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Self

import redis
import redis.asyncio
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
    get_checkpoint_metadata,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from soorma_lc.backends.redis_clients import sync_client
from soorma_lc.backends.redis_component import RedisBacked
from soorma_lc.config import DEFAULT_TENANT_ID, Settings
from soorma_lc.errors import (
    CheckpointConfigError,
    CheckpointConflictError,
    ConfigurationError,
)
from soorma_lc.memory.checkpoint import scripts
from soorma_lc.memory.checkpoint.cache import BlobCache
from soorma_lc.memory.checkpoint.codec import (
    Blob,
    Decoded,
    blob_field,
    checksum,
    decode,
    encode_delta,
    encode_full,
)
from soorma_lc.memory.checkpoint.driver import Call, Emit, RedisDriver, Steps
from soorma_lc.memory.checkpoint.keys import run_key, thread_keys, threads_key
from soorma_lc.memory.checkpoint.records import (
    pack_record,
    pack_writes,
    unpack_record,
    unpack_writes,
)

logger = logging.getLogger(__name__)

_DELTA_MIN = 512  # blobs shorter than this are always stored in full (and never cached)
_LIST_PAGE = 100


@dataclass(frozen=True, slots=True)
class _Target:
    """Where a config points: tenant, thread, namespace and optional checkpoint id."""

    tenant_id: str
    thread_id: str
    ns: str
    checkpoint_id: str | None
    echo_tenant: bool  # the caller named the tenant: returned configs carry it back

    def config(self, checkpoint_id: str, ns: str | None = None) -> RunnableConfig:
        configurable: dict[str, Any] = {
            "thread_id": self.thread_id,
            "checkpoint_ns": self.ns if ns is None else ns,
            "checkpoint_id": checkpoint_id,
        }
        if self.echo_tenant:
            configurable["tenant_id"] = self.tenant_id
        return {"configurable": configurable}


class RedisCheckpointSaver(RedisBacked, BaseCheckpointSaver[str]):
    """LangGraph checkpointer storing threads in plain Redis, scoped by tenant.

    Built like every Redis-backed component (:mod:`soorma_lc.backends.redis_component`), with
    a client of each kind since LangGraph calls checkpointers both ways:
    ``RedisCheckpointSaver(client, aclient=...)`` on an injected ``redis.Redis`` (sync API)
    and/or ``redis.asyncio.Redis`` (async API), left open by ``close``/``aclose`` unless
    ``owns_client``; ``from_url`` / ``from_settings`` (the settings' tenant) own a sync client
    and one async client per event loop.

    The tenant is ``config["configurable"]["tenant_id"]`` when given, else ``tenant_id``; the
    same thread id under two tenants are two threads. Methods without a config
    (``delete_thread``, ``delete_for_runs``, ``copy_thread``, ``prune``) act on ``tenant_id``:
    use :meth:`for_tenant` for another tenant.

    Channel values are stored only when a channel changes, long ones as deltas against their
    previous version (see codec.py). With ``ttl_minutes`` every key of a thread expires together,
    refreshed by each write and, if ``refresh_on_read``, by each read.
    """

    def __init__(
        self,
        client: redis.Redis | None = None,
        *,
        aclient: redis.asyncio.Redis | None = None,
        tenant_id: str = DEFAULT_TENANT_ID,
        ttl_minutes: float | None = None,
        refresh_on_read: bool = True,
        serde: SerializerProtocol | None = None,
        key_prefix: str = "soorma:cp",
        max_chain: int = 16,
        cache_bytes: int = 64 * 1024 * 1024,
        owns_client: bool = False,
    ) -> None:
        super().__init__(serde=serde)
        if ttl_minutes is not None and ttl_minutes <= 0:
            raise ConfigurationError(f"ttl_minutes must be positive, got {ttl_minutes!r}")
        if max_chain < 0:
            raise ConfigurationError(f"max_chain must be >= 0, got {max_chain!r}")
        _check_tenant(tenant_id)
        self._driver = RedisDriver(client, aclient, owns_clients=owns_client)
        self.tenant_id = tenant_id
        self.ttl_ms = int(ttl_minutes * 60_000) if ttl_minutes else 0
        self.refresh_ms = self.ttl_ms if refresh_on_read else 0
        self.key_prefix = key_prefix
        self.max_chain = max_chain
        self._cache = BlobCache(cache_bytes)

    # ----------------------------------------------------------------------------- construction

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Self:
        """A saver on the Redis at ``url`` (redis://, rediss:// or unix://), owning a sync
        client and one async client per event loop."""
        saver = cls(sync_client(url), owns_client=True, **options)
        saver._driver.async_clients_from(url)
        return saver

    @classmethod
    def settings_options(cls, settings: Settings) -> dict[str, Any]:
        """The settings' tenant."""
        return {"tenant_id": settings.tenant_id}

    def for_tenant(self, tenant_id: str) -> Self:
        """The same saver (connections, cache) with another default tenant."""
        _check_tenant(tenant_id)
        clone = self.__class__.__new__(self.__class__)
        clone.__dict__.update(self.__dict__)
        clone.tenant_id = tenant_id
        return clone

    def close(self) -> None:
        """Close the sync client if this saver owns it."""
        self._driver.close()

    async def aclose(self) -> None:
        """Close the running event loop's async client if this saver owns it."""
        await self._driver.aclose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------ sync API

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return self._driver.run(self._get_steps(config))

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        yield from self._driver.iterate(self._list_steps(config, filter, before, limit))

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self._driver.run(self._put_steps(config, checkpoint, metadata, new_versions))

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        self._driver.run(self._put_writes_steps(config, writes, task_id, task_path))

    def delete_thread(self, thread_id: str) -> None:
        self._driver.run(self._delete_thread_steps(thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        self._driver.run(self._delete_for_runs_steps(run_ids))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        self._driver.run(self._copy_thread_steps(source_thread_id, target_thread_id))

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        self._driver.run(self._prune_steps(thread_ids, strategy))

    # ----------------------------------------------------------------------------- async API

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return await self._driver.arun(self._get_steps(config))

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        async for item in self._driver.aiterate(self._list_steps(config, filter, before, limit)):
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return await self._driver.arun(self._put_steps(config, checkpoint, metadata, new_versions))

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        await self._driver.arun(self._put_writes_steps(config, writes, task_id, task_path))

    async def adelete_thread(self, thread_id: str) -> None:
        await self._driver.arun(self._delete_thread_steps(thread_id))

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        await self._driver.arun(self._delete_for_runs_steps(run_ids))

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        await self._driver.arun(self._copy_thread_steps(source_thread_id, target_thread_id))

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        await self._driver.arun(self._prune_steps(thread_ids, strategy))

    def get_next_version(self, current: str | None, channel: None) -> str:
        """Zero-padded counter plus a random suffix, so versions on forked branches never clash."""
        if current is None:
            number = 0
        elif isinstance(current, (int, float)):
            number = int(current)
        else:
            number = int(current.split(".")[0])
        return f"{number + 1:010d}.{random.getrandbits(32):08x}"

    # ------------------------------------------------------------------------ operations

    def _get_steps(self, config: RunnableConfig) -> Steps[CheckpointTuple | None]:
        target = self._target(config)
        keys = self._thread_keys(target.tenant_id, target.thread_id)
        args = (target.ns, target.checkpoint_id or "", self.refresh_ms)
        reply = (yield [Call(args, scripts.GET, keys), *self._refresh_calls(target)])[0]
        if not reply:
            return None
        member, record, writes, *blobs = reply
        values = dict(zip(blobs[::2], blobs[1::2], strict=True))
        return self._tuple(target, member, record, writes, values, Decoded(), remember=True)

    def _list_steps(
        self,
        config: RunnableConfig | None,
        filter: dict[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
    ) -> Steps[None]:
        before_id = get_checkpoint_id(before) if before else None
        remaining = [limit if limit is not None else -1]
        if config is None:
            key = threads_key(self.key_prefix, self.tenant_id)
            members = (yield [Call(("SMEMBERS", key))])[0]
            targets = [
                _Target(self.tenant_id, m.decode(), "", None, False) for m in sorted(members)
            ]
            all_ns = True
        else:
            conf = config.get("configurable", {})
            targets = [self._target(config)]
            all_ns = "checkpoint_ns" not in conf
        for target in targets:
            if remaining[0] == 0:
                return
            if target.checkpoint_id is not None:
                found = yield from self._get_steps(target.config(target.checkpoint_id))
                if found is not None and _accepts(found, filter, before_id):
                    remaining[0] -= 1
                    yield Emit(found)
                continue
            yield from self._list_thread_steps(target, all_ns, filter, before_id, remaining)

    def _list_thread_steps(
        self,
        target: _Target,
        all_ns: bool,
        filter: dict[str, Any] | None,
        before_id: str | None,
        remaining: list[int],
    ) -> Steps[None]:
        keys = self._thread_keys(target.tenant_id, target.thread_id)
        page = remaining[0] if remaining[0] > 0 and not filter else _LIST_PAGE
        cursor = "" if all_ns else (before_id or "")
        while True:
            args = (target.ns, cursor, 0 if all_ns else page, self.refresh_ms, int(all_ns))
            reply = (yield [Call(args, scripts.LIST, keys), *self._refresh_calls(target)])[0]
            count = reply[0]
            blobs = reply[1 + 3 * count :]
            values = dict(zip(blobs[::2], blobs[1::2], strict=True))
            memo = Decoded()
            for i in range(count):
                member, record, writes = reply[1 + 3 * i : 4 + 3 * i]
                item = self._tuple(target, member, record, writes, values, memo, remember=False)
                cursor = item.checkpoint["id"]
                if not _accepts(item, filter, before_id):
                    continue
                remaining[0] -= 1
                yield Emit(item)
                if remaining[0] == 0:
                    return
            if all_ns or count < page:
                return

    def _put_steps(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> Steps[RunnableConfig]:
        target = self._target(config)
        _check_id(checkpoint["id"], "checkpoint id")
        saved = checkpoint.copy()
        values: dict[str, Any] = saved.pop("channel_values")  # type: ignore[misc]
        metadata = get_checkpoint_metadata(config, metadata)
        run_id = str(metadata.get("run_id") or "")
        record = pack_record(self.serde, dict(saved), metadata, target.checkpoint_id)
        for channel, version in checkpoint["channel_versions"].items():
            _check_id(channel, "channel name")
            _check_id(str(version), "channel version")
        refs = "".join(
            [run_id + "\1"] + [f"{ch}\0{v}\1" for ch, v in checkpoint["channel_versions"].items()]
        )
        blobs = {}
        for channel, version in new_versions.items():
            if channel in values:
                vtype, data = self.serde.dumps_typed(values[channel])
                blobs[channel, str(version)] = Blob(vtype, data, checksum(data))
        keys = self._thread_keys(target.tenant_id, target.thread_id)
        tenant_calls = self._index_calls(target, [run_id] if run_id else [])
        encoded = self._encode_blobs(target, blobs, use_cache=True)
        head = (target.ns, checkpoint["id"], record, refs, self.ttl_ms, len(encoded))
        reply = yield [Call(head + _flatten(encoded), scripts.PUT, keys), *tenant_calls]
        if reply[0] != 1:  # a delta base changed under us: store those channels in full
            logger.debug("delta base %r changed; storing full blobs", reply[0])
            self._cache.drop_thread(target.tenant_id, target.thread_id)
            encoded = self._encode_blobs(target, blobs, use_cache=False)
            head = (*head[:-1], len(encoded))
            yield [Call(head + _flatten(encoded), scripts.PUT, keys)]
        for (channel, version), blob in blobs.items():
            depth = encoded[channel, version][1]
            self._remember(target, channel, version, Blob(blob.type, blob.data, blob.crc, depth))
        return target.config(checkpoint["id"])

    def _put_writes_steps(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str,
    ) -> Steps[None]:
        target = self._target(config)
        if target.checkpoint_id is None:
            raise CheckpointConfigError("put_writes needs config['configurable']['checkpoint_id']")
        if not writes:
            return
        keys = self._thread_keys(target.tenant_id, target.thread_id)
        member = f"{target.ns}\0{target.checkpoint_id}"
        log = pack_writes(self.serde, writes, task_id, task_path)
        yield [Call((member, self.ttl_ms, log), scripts.PUT_WRITES, keys)]

    def _delete_thread_steps(self, thread_id: str) -> Steps[None]:
        thread_id = _thread(thread_id)
        keys = self._thread_keys(self.tenant_id, thread_id)
        runs = (yield [Call((), scripts.DELETE, keys)])[0]
        self._cache.drop_thread(self.tenant_id, thread_id)
        calls = [Call(("SREM", threads_key(self.key_prefix, self.tenant_id), thread_id))]
        calls += [Call(("SREM", self._run_key(r.decode()), thread_id)) for r in runs]
        yield calls

    def _delete_for_runs_steps(self, run_ids: Sequence[str]) -> Steps[None]:
        run_ids = [str(r) for r in run_ids]
        if not run_ids:
            return
        members = yield [Call(("SMEMBERS", self._run_key(r))) for r in run_ids]
        threads = sorted({m.decode() for found in members for m in found})
        if threads:
            yield [
                Call(tuple(run_ids), scripts.DELETE_RUNS, self._thread_keys(self.tenant_id, t))
                for t in threads
            ]
        for thread_id in threads:
            self._cache.drop_thread(self.tenant_id, thread_id)
        yield [Call(("DEL", *[self._run_key(r) for r in run_ids]))]

    def _prune_steps(self, thread_ids: Sequence[str], strategy: str) -> Steps[None]:
        if strategy not in ("keep_latest", "delete"):
            raise CheckpointConfigError(
                f"unknown prune strategy {strategy!r}: use 'keep_latest' or 'delete'"
            )
        for thread_id in thread_ids:
            if strategy == "delete":
                yield from self._delete_thread_steps(thread_id)
            else:
                keys = self._thread_keys(self.tenant_id, _thread(thread_id))
                yield [Call((), scripts.KEEP_LATEST, keys)]

    def _copy_thread_steps(self, source_thread_id: str, target_thread_id: str) -> Steps[None]:
        source, dest = _thread(source_thread_id), _thread(target_thread_id)
        index, *hashes = (
            yield [Call((), scripts.DUMP, self._thread_keys(self.tenant_id, source))]
        )[0]
        if not index:
            return
        args: list[Any] = [self.ttl_ms, len(index), *index]
        for flat in hashes:
            args += [len(flat) // 2, *flat]
        keys = self._thread_keys(self.tenant_id, dest)
        if (yield [Call(tuple(args), scripts.RESTORE, keys)])[0] != 1:
            raise CheckpointConflictError(
                f"cannot copy thread {source!r} onto {dest!r}: the target already has checkpoints"
            )
        refs = hashes[1][1::2]
        runs = sorted({r.split(b"\1", 1)[0].decode() for r in refs} - {""})
        yield self._index_calls(_Target(self.tenant_id, dest, "", None, False), runs)

    # ---------------------------------------------------------------------------- helpers

    def _tuple(
        self,
        target: _Target,
        member: bytes,
        record: bytes,
        writes: bytes,
        values: dict[bytes, bytes],
        memo: Decoded,
        *,
        remember: bool,
    ) -> CheckpointTuple:
        ns_b, checkpoint_id = member.split(b"\0", 1)
        ns = ns_b.decode()
        checkpoint, metadata, parent_id = unpack_record(self.serde, record)
        channel_values = {}
        for channel, version in checkpoint["channel_versions"].items():
            field = blob_field(ns, channel, version).encode()
            if field in values:
                blob = decode(field, values, memo)
                channel_values[channel] = self.serde.loads_typed((blob.type, blob.data))
                if remember:
                    self._remember(target, channel, str(version), blob)
        checkpoint["channel_values"] = channel_values
        cid = checkpoint_id.decode()
        return CheckpointTuple(
            config=target.config(cid, ns),
            checkpoint=checkpoint,
            metadata=metadata,
            parent_config=target.config(parent_id, ns) if parent_id else None,
            pending_writes=unpack_writes(self.serde, writes),
        )

    def _encode_blobs(
        self, target: _Target, blobs: dict[tuple[str, str], Blob], *, use_cache: bool
    ) -> dict[tuple[str, str], tuple[tuple[str, bytes, str, bytes], int]]:
        """Stored form of each new blob: ``((field, value, base field, base crc), depth)``."""
        out = {}
        for (channel, version), blob in blobs.items():
            field = blob_field(target.ns, channel, version)
            cached = self._cache.get(self._channel_key(target, channel)) if use_cache else None
            if cached is not None and self.max_chain:
                base_version, base = cached
                if (
                    base_version != version
                    and base.type == blob.type
                    and base.depth < self.max_chain
                    and (delta := encode_delta(blob, base_version, base)) is not None
                ):
                    base_field = blob_field(target.ns, channel, base_version)
                    out[channel, version] = ((field, delta, base_field, base.crc), base.depth + 1)
                    continue
            out[channel, version] = ((field, encode_full(blob), "", b""), 0)
        return out

    def _remember(self, target: _Target, channel: str, version: str, blob: Blob) -> None:
        if len(blob.data) >= _DELTA_MIN:
            self._cache.put(self._channel_key(target, channel), version, blob)

    def _channel_key(self, target: _Target, channel: str) -> tuple[str, str, str, str]:
        return (target.tenant_id, target.thread_id, target.ns, channel)

    def _index_calls(self, target: _Target, run_ids: Sequence[str]) -> list[Call]:
        """Tenant-level index updates: thread list and run -> threads (other hash slots)."""
        index = threads_key(self.key_prefix, target.tenant_id)
        calls = [Call(("SADD", index, target.thread_id))]
        calls += [
            Call(("SADD", run_key(self.key_prefix, target.tenant_id, r), target.thread_id))
            for r in run_ids
        ]
        if self.ttl_ms:
            calls += [Call(("PEXPIRE", c.args[1], self.ttl_ms)) for c in list(calls)]
        return calls

    def _refresh_calls(self, target: _Target) -> list[Call]:
        """On reads with refresh: keep the tenant's thread index alive as long as the thread."""
        if not self.refresh_ms:
            return []
        return [Call(("PEXPIRE", threads_key(self.key_prefix, target.tenant_id), self.refresh_ms))]

    def _run_key(self, run_id: str) -> str:
        return run_key(self.key_prefix, self.tenant_id, run_id)

    def _thread_keys(self, tenant_id: str, thread_id: str) -> tuple[str, ...]:
        return thread_keys(self.key_prefix, tenant_id, thread_id)

    def _target(self, config: RunnableConfig) -> _Target:
        conf = config.get("configurable") or {}
        tenant = conf.get("tenant_id")
        if tenant is not None:
            _check_tenant(tenant)
        ns = conf.get("checkpoint_ns") or ""
        _check_id(ns, "checkpoint_ns")
        checkpoint_id = conf.get("checkpoint_id") or None
        if checkpoint_id is not None:
            _check_id(checkpoint_id, "checkpoint_id")
        return _Target(
            tenant_id=tenant if tenant is not None else self.tenant_id,
            thread_id=_thread(conf.get("thread_id")),
            ns=ns,
            checkpoint_id=checkpoint_id,
            echo_tenant=tenant is not None,
        )


def _flatten(encoded: dict[Any, tuple[tuple[str, bytes, str, bytes], int]]) -> tuple[Any, ...]:
    return tuple(part for stored, _ in encoded.values() for part in stored)


def _accepts(item: CheckpointTuple, filter: dict[str, Any] | None, before_id: str | None) -> bool:
    if before_id is not None and item.checkpoint["id"] >= before_id:
        return False
    return not filter or all(item.metadata.get(k) == v for k, v in filter.items())


def _thread(thread_id: Any) -> str:
    if thread_id is None or thread_id == "":
        raise CheckpointConfigError(
            "a thread_id is required: pass config={'configurable': {'thread_id': ...}}"
        )
    return str(thread_id)


def _check_tenant(tenant_id: Any) -> None:
    if not isinstance(tenant_id, str) or not tenant_id:
        raise CheckpointConfigError(f"tenant_id must be a non-empty string, got {tenant_id!r}")


def _check_id(value: Any, what: str) -> None:
    if not isinstance(value, str) or "\0" in value or "\1" in value:
        raise CheckpointConfigError(f"{what} must be a string without NUL/\\x01, got {value!r}")
