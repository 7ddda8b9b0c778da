"""RedisCheckpointSaver: a LangGraph checkpointer on plain Redis (6.2+, no modules).

Each operation is written once as a generator of Redis call batches (see driver.py), so ``put``
and ``aput`` (and every other pair) share one implementation while both talk to Redis natively.
Every read or write of a thread is a single Lua call on keys sharing the thread's hash tag (see
scripts.py), so it is atomic and costs one round trip.
"""

from __future__ import annotations

import logging
import math
import random
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
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
    get_checkpoint_metadata,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from soorma_lc.backends.redis_clients import client_options, sync_client
from soorma_lc.backends.redis_component import RedisBacked
from soorma_lc.checks import check_int, names_argument, shown
from soorma_lc.config import DEFAULT_TENANT_ID, Settings
from soorma_lc.errors import (
    CheckpointConfigError,
    CheckpointConflictError,
    CheckpointCorruptedError,
    ConfigurationError,
)
from soorma_lc.memory._values import (
    MAX_ID_LENGTH,
    MAX_TTL_MINUTES,
    id_problem,
    is_ttl_minutes,
    require_count,
    stored_text,
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
    dumps,
    pack_record,
    pack_writes,
    reading,
    unpack_record,
    unpack_writes,
)

logger = logging.getLogger(__name__)

_DELTA_MIN = 512  # blobs shorter than this are always stored in full (and never cached)
_LIST_PAGE = 100
_MAX_PATH = 4096  # checkpoint_ns and task_path: nested subgraphs make them longer than an id
_INT64 = 2**63


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

    Ids: a thread id is a string (an int or a UUID is taken as its text: ``5`` and ``"5"`` are
    one thread); thread, checkpoint, run and task ids hold at most 512 characters, namespaces
    and task paths 4096, all visible text (the memory id rule: no control or zero-width
    characters, no lone surrogates, no leading or trailing spaces). Anything else, and any
    config, filter, limit or checkpoint of the wrong shape, raises
    :class:`CheckpointConfigError`; a value the serde cannot write raises
    :class:`CheckpointSerializationError`, before anything is written. Data changed outside
    soorma-lc raises :class:`CheckpointCorruptedError` when read, and is left as it is.

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
        _check_options(ttl_minutes, refresh_on_read, key_prefix, owns_client)
        _check_tenant(tenant_id)
        max_chain = check_int(max_chain, "max_chain", minimum=0)
        cache_bytes = check_int(cache_bytes, "cache_bytes", minimum=0)
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
        saver._driver.async_clients_from(url, **client_options())  # from_settings' timeouts
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
        """Delete the checkpoints of these runs; one string is one run id (not its characters)."""
        self._driver.run(self._delete_for_runs_steps(run_ids))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        self._driver.run(self._copy_thread_steps(source_thread_id, target_thread_id))

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Keep only each thread's latest checkpoint per namespace, or delete the threads; one
        string is one thread id. Every id is checked before anything is deleted."""
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
        elif isinstance(current, int | float) and not isinstance(current, bool):
            number = int(current) if 0 <= current < _INT64 else -1  # NaN fails too
        elif isinstance(current, str) and current.split(".")[0].isdigit():
            number = int(current.split(".")[0])
        else:
            number = -1
        if number < 0:
            raise CheckpointConfigError(
                f"channel version {shown(current)} is not one a saver makes"
            )
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
        filter = _check_filter(filter)
        if limit is not None:
            require_count(limit, "limit", minimum=0, error=CheckpointConfigError)
        before_id = _before_id(before)
        remaining = [limit if limit is not None else -1]
        if config is None:
            key = threads_key(self.key_prefix, self.tenant_id)
            members = (yield [Call(("SMEMBERS", key))])[0]
            targets = [
                _Target(self.tenant_id, _text(m, key), "", None, False) for m in sorted(members)
            ]
            all_ns = True
        else:
            targets = [self._target(config)]
            all_ns = "checkpoint_ns" not in _configurable(config)
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
        saved, values, versions = _check_checkpoint(checkpoint)
        if not isinstance(metadata, Mapping):
            raise CheckpointConfigError(f"metadata must be a mapping, got {shown(metadata)}")
        if not isinstance(new_versions, Mapping):
            raise CheckpointConfigError(
                f"new_versions must be a mapping, got {shown(new_versions)}"
            )
        metadata = get_checkpoint_metadata(config, metadata)
        run_id = _unset(metadata.get("run_id"), "")
        run_id = _run_id(run_id) if run_id != "" else ""
        record = pack_record(self.serde, saved, metadata, target.checkpoint_id)
        refs = "".join([run_id + "\1"] + [f"{ch}\0{v}\1" for ch, v in versions.items()])
        blobs = {}
        for channel, version in new_versions.items():
            if channel in values:
                channel = _checked(channel, "channel name")
                vtype, data = dumps(self.serde, values[channel], f"channel {channel!r}")
                blobs[channel, _version(version)] = Blob(vtype, data, checksum(data))
        keys = self._thread_keys(target.tenant_id, target.thread_id)
        tenant_calls = self._index_calls(target, [run_id] if run_id else [])
        encoded = self._encode_blobs(target, blobs, use_cache=True)
        head = (target.ns, saved["id"], record, refs, self.ttl_ms, len(encoded))
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
        return target.config(saved["id"])

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
        writes = _check_writes(writes)
        task_id = _checked(task_id, "task_id")
        task_path = _checked(task_path, "task_path", allow_empty=True, max_length=_MAX_PATH)
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
        calls += [Call(("SREM", self._run_key(_text(r, keys[2])), thread_id)) for r in runs]
        yield calls

    def _delete_for_runs_steps(self, run_ids: Sequence[str]) -> Steps[None]:
        run_ids = [
            _run_id(r) for r in names_argument(run_ids, "run_ids", error=CheckpointConfigError)
        ]
        if not run_ids:
            return
        members = yield [Call(("SMEMBERS", self._run_key(r))) for r in run_ids]
        threads = sorted({_text(m, "a run index") for found in members for m in found})
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
                f"unknown prune strategy {shown(strategy)}: use 'keep_latest' or 'delete'"
            )
        threads = names_argument(thread_ids, "thread_ids", error=CheckpointConfigError)
        for thread_id in [_thread(t) for t in threads]:
            if strategy == "delete":
                yield from self._delete_thread_steps(thread_id)
            else:
                keys = self._thread_keys(self.tenant_id, thread_id)
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
        runs = sorted({_text(r.split(b"\1", 1)[0], keys[2]) for r in refs} - {""})
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
        with reading(f"checkpoint {member!r} of thread {target.thread_id!r}"):
            ns_b, checkpoint_id = member.split(b"\0", 1)
            ns, cid = ns_b.decode(), checkpoint_id.decode()
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
        conf = _configurable(config)
        tenant = conf.get("tenant_id")
        if tenant is not None:
            _check_tenant(tenant)
        ns = _checked(
            _unset(conf.get("checkpoint_ns"), ""),
            "checkpoint_ns",
            allow_empty=True,
            max_length=_MAX_PATH,
        )
        checkpoint_id = _unset(conf.get("checkpoint_id"), None)
        if checkpoint_id is not None:
            _checked(checkpoint_id, "checkpoint_id")
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
    """A thread id as stored: a string, or an int or UUID as its canonical text (so ``5`` and
    ``"5"`` are one thread, as in LangGraph's own savers); anything else is refused."""
    if thread_id is None or thread_id == "":
        raise CheckpointConfigError(
            "a thread_id is required: pass config={'configurable': {'thread_id': ...}}"
        )
    if isinstance(thread_id, uuid.UUID) or (
        isinstance(thread_id, int)
        and not isinstance(thread_id, bool)
        and -_INT64 <= thread_id < _INT64
    ):
        thread_id = str(thread_id)
    return _checked(thread_id, "thread_id")


def _run_id(run_id: Any) -> str:
    """A run id: a string, or a UUID as its text (LangChain run ids are UUIDs)."""
    return _checked(str(run_id) if isinstance(run_id, uuid.UUID) else run_id, "run_id")


def _checked(
    value: Any, what: str, *, allow_empty: bool = False, max_length: int = MAX_ID_LENGTH
) -> str:
    """``value`` if it is an id the keys and scripts can hold (the memory layer's id rule, so
    no NUL or \\x01, which separate ids in stored fields), else :class:`CheckpointConfigError`."""
    problem = id_problem(value, max_length=max_length, allow_empty=allow_empty)
    if problem is not None:
        raise CheckpointConfigError(f"{what} {problem}")
    return value


def _check_tenant(tenant_id: Any) -> None:
    _checked(tenant_id, "tenant_id")


def _configurable(config: Any, what: str = "config") -> Mapping[str, Any]:
    """``config["configurable"]`` of a RunnableConfig, checked to be mappings."""
    if not isinstance(config, Mapping):
        raise CheckpointConfigError(
            f"{what} must be a RunnableConfig mapping such as {{'configurable': {{'thread_id': "
            f"...}}}}, got {shown(config)}"
        )
    for part in ("configurable", "metadata"):
        if config.get(part) is not None and not isinstance(config[part], Mapping):
            raise CheckpointConfigError(
                f"{what}[{part!r}] must be a mapping, got {shown(config[part])}"
            )
    return _unset(config.get("configurable"), {})


def _unset(value: Any, default: Any) -> Any:
    """``default`` for a config entry that is None or empty text, else ``value`` (tested
    without truthiness, which a hostile object may not support)."""
    return default if value is None or (isinstance(value, str) and not value) else value


def _before_id(before: Any) -> str | None:
    """The checkpoint id of ``list(before=...)`` (None: no bound)."""
    if before is None:
        return None
    checkpoint_id = _unset(_configurable(before, "before").get("checkpoint_id"), None)
    return None if checkpoint_id is None else _checked(checkpoint_id, "before checkpoint_id")


def _check_filter(filter: Any) -> dict[str, Any] | None:
    if filter is None:
        return None
    if not isinstance(filter, Mapping) or not all(isinstance(k, str) for k in filter):
        raise CheckpointConfigError(
            f"filter must be a mapping of metadata keys to values, got {shown(filter)}"
        )
    return dict(filter)


def _version(version: Any) -> str:
    if (
        isinstance(version, bool)
        or not isinstance(version, str | int | float)
        or (isinstance(version, int) and not -_INT64 <= version < _INT64)
        or (isinstance(version, float) and not math.isfinite(version))
    ):
        raise CheckpointConfigError(
            f"channel versions must be strings or 64-bit numbers, got {shown(version)}"
        )
    return _checked(str(version), "channel version")


def _check_checkpoint(
    checkpoint: Any,
) -> tuple[dict[str, Any], Mapping[str, Any], dict[str, str]]:
    """The checkpoint without its values, its values, and its channel versions as text."""
    if not isinstance(checkpoint, Mapping):
        raise CheckpointConfigError(
            f"checkpoint must be a Checkpoint mapping, got {shown(checkpoint)}"
        )
    saved = dict(checkpoint)
    values = saved.pop("channel_values", None)
    versions = saved.get("channel_versions")
    if not isinstance(values, Mapping) or not isinstance(versions, Mapping):
        raise CheckpointConfigError(
            "a checkpoint needs 'channel_values' and 'channel_versions' mappings"
        )
    _checked(saved.get("id"), "checkpoint id")
    return saved, values, {_checked(ch, "channel name"): _version(v) for ch, v in versions.items()}


def _check_writes(writes: Any) -> list[tuple[str, Any]]:
    """``writes`` as a list of ``(channel, value)`` pairs with valid channel names."""
    if isinstance(writes, str | bytes | Mapping) or not isinstance(writes, Iterable):
        raise CheckpointConfigError(
            f"writes must be a list of (channel, value) pairs, got {shown(writes)}"
        )
    pairs = list(writes)
    for pair in pairs:
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise CheckpointConfigError(f"each write is a (channel, value) pair, got {shown(pair)}")
        _checked(pair[0], "write channel")
    return [(channel, value) for channel, value in pairs]


def _check_options(
    ttl_minutes: Any, refresh_on_read: Any, key_prefix: Any, owns_client: Any
) -> None:
    if ttl_minutes is not None and not is_ttl_minutes(ttl_minutes):
        raise ConfigurationError(
            f"ttl_minutes must be None or a positive number up to {MAX_TTL_MINUTES}, "
            f"got {shown(ttl_minutes)}"
        )
    for name, flag in (("refresh_on_read", refresh_on_read), ("owns_client", owns_client)):
        if not isinstance(flag, bool):
            raise ConfigurationError(f"{name} must be a bool, got {shown(flag)}")
    problem = id_problem(key_prefix, max_length=128)
    if problem is None and ("{" in key_prefix or "}" in key_prefix):
        problem = "must not contain { or } (they would move keys out of their hash slot)"
    if problem is not None:
        raise ConfigurationError(f"key_prefix {problem}")


def _text(value: bytes, key: str) -> str:
    """A stored id as text; :class:`CheckpointCorruptedError` if it is not UTF-8."""
    return stored_text(value, key, error=CheckpointCorruptedError)
