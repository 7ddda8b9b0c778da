"""Redis Cluster clients, chosen by the URL scheme, that ride out a failover.

``redis+cluster://host:port`` (``rediss+cluster://`` for TLS) names a Redis Cluster; several
seed nodes may be listed, ``redis+cluster://h1:7000,h2:7001,h3:7002``, so that a process
starting while one node is down still finds the cluster. The client discovers every other node
itself (``CLUSTER SLOTS``); query parameters are redis-py's, as for ``redis://``.

redis-py's cluster client follows MOVED and ASK redirections and refreshes its slot map. What
it does not do is wait out a failover: while a dead master's replica is being promoted (the
cluster's node timeout plus an election, seconds), every command on its slots fails at once
with a lost connection, and once the master is flagged as failing the whole cluster answers
CLUSTERDOWN. These clients retry such commands (and whole pipelines) with backoff for up to
``failover_timeout`` seconds (``SOORMA_REDIS_FAILOVER_TIMEOUT``) before giving up, so a
failover costs latency, not errors. Timeouts are not retried: a command that timed out may
still be running. Transactions (``MULTI``/``WATCH``) and the synchronous client's pipelines are
not retried here; their callers see :class:`~soorma_lc.errors.BackendUnavailableError` and
retry at their own level (the bus redelivers the event).

Lua scripts are cached per node, and a promoted replica has not seen the ``SCRIPT LOAD`` its
master got: scripts of these clients fall back from ``EVALSHA`` to ``EVAL`` with the source,
sent to the node that serves the keys (which caches it), instead of loading the script on the
nodes the client believes to be masters. In a pipeline they always send the source.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
import redis.asyncio
import redis.asyncio.cluster
from redis.commands.core import AsyncScript
from redis.exceptions import (
    AuthenticationError,
    AuthorizationError,
    ClusterDownError,
    MaxConnectionsError,
    NoScriptError,
    RedisClusterException,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError

from soorma_lc.backends.retry_window import RetryWindow
from soorma_lc.errors import ConfigurationError

logger = logging.getLogger(__name__)

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
"""URL schemes naming a Redis Cluster, and the scheme of one node's URL."""

DEFAULT_FAILOVER_TIMEOUT = 30.0
_MAX_DELAY = 1.0


def is_cluster_url(url: object) -> bool:
    """True when ``url`` names a Redis Cluster (``redis+cluster://``, ``rediss+cluster://``)."""
    return isinstance(url, str) and url.split("://", 1)[0] in CLUSTER_SCHEMES


def is_cluster_client(client: object) -> bool:
    """True for redis-py cluster clients (sync or async), whose keys live in hash slots."""
    return isinstance(client, redis.RedisCluster | redis.asyncio.RedisCluster)


def cluster_seeds(url: str) -> tuple[str, list[tuple[str, int]]]:
    """Split a cluster URL into one node's ``redis://`` URL (credentials, database and query
    kept) and the other seed nodes; :class:`ConfigurationError` when it lists no usable node."""
    parts = urlsplit(url)
    credentials, _, hosts = parts.netloc.rpartition("@")
    nodes = [_host_port(host, url) for host in hosts.split(",")]
    netloc = f"{credentials}@" if credentials else ""
    host, port = nodes[0]
    netloc += f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    first = urlunsplit((CLUSTER_SCHEMES[parts.scheme], netloc, parts.path, parts.query, ""))
    return first, nodes[1:]


def _host_port(text: str, url: str) -> tuple[str, int]:
    host, _, port = text.strip().rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigurationError(
            f"unusable Redis Cluster URL {url!r}: list nodes as host:port[,host:port...]"
        )
    return host, int(port)


def is_failover_error(exc: BaseException) -> bool:
    """Errors a failover produces and that waiting cures: a node that went away, a cluster
    that is down or reconfiguring. Not timeouts, refused credentials or a full pool."""
    if isinstance(exc, AuthenticationError | AuthorizationError | MaxConnectionsError):
        return False
    if isinstance(exc, RedisConnectionError | ClusterDownError | TryAgainError):
        return True
    if isinstance(exc, SlotNotCoveredError):
        return True
    # "Redis Cluster cannot be connected": every seed was unreachable (the cause says how).
    return isinstance(exc, RedisClusterException) and isinstance(
        exc.__cause__, RedisConnectionError
    )


class FailoverWait:
    """Delays between attempts while a failover lasts: doubling from 50 ms up to one second,
    until ``timeout`` seconds after the first failure."""

    def __init__(self, timeout: float) -> None:
        self._window = RetryWindow(timeout, first=0.05, cap=_MAX_DELAY)

    def next_delay(self, exc: BaseException) -> float | None:
        """Seconds to wait before trying again after ``exc``; None to give up (raise it)."""
        if not is_failover_error(exc):
            return None
        delay = self._window.next_delay()
        if delay is not None:
            logger.debug("Redis Cluster unavailable (%s); retrying in %.2fs", exc, delay)
        return delay


class AsyncClusterClient(redis.asyncio.RedisCluster):
    """``redis.asyncio.RedisCluster`` retrying commands and pipelines through a failover."""

    def __init__(self, *args: Any, failover_timeout: float = DEFAULT_FAILOVER_TIMEOUT, **kwargs):
        self.failover_timeout = failover_timeout  # first: the sync client connects in __init__
        super().__init__(*args, **kwargs)

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        wait = FailoverWait(self.failover_timeout)
        while True:
            try:
                return await super().execute_command(*args, **kwargs)
            except (redis.RedisError, RedisClusterException) as exc:
                delay = wait.next_delay(exc)
                if delay is None:
                    raise
                await asyncio.sleep(delay)

    def pipeline(self, transaction: Any = None, shard_hint: Any = None) -> Any:
        if transaction or shard_hint:
            return super().pipeline(transaction, shard_hint)
        return _AsyncRetryingPipeline(self, transaction)

    def register_script(self, script: str | bytes) -> AsyncScript:
        return _ClusterScript(self, script)


class _ClusterScript(AsyncScript):
    """A script that runs on whichever node serves its keys, cached there or not."""

    async def __call__(
        self, keys: Sequence[Any] | None = None, args: Iterable[Any] | None = None, client=None
    ) -> Any:
        keys, args = list(keys or []), list(args or [])
        target = self.registered_client if client is None else client
        if isinstance(target, redis.asyncio.cluster.ClusterPipeline):
            return target.eval(self.script, len(keys), *keys, *args)
        try:
            return await target.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await target.eval(self.script, len(keys), *keys, *args)


class _AsyncRetryingPipeline(redis.asyncio.cluster.ClusterPipeline):
    """A non-transactional cluster pipeline whose unfinished commands (those of a node that
    went away) are sent again while a failover lasts; finished ones are not repeated.

    redis-py keeps the queued commands, results included, in its pipeline strategy's
    ``_command_queue`` (redis >= 6.2) and empties it after each attempt: they are put back.
    """

    cluster_client: AsyncClusterClient

    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True) -> Any:
        strategy = self._execution_strategy
        commands = list(strategy._command_queue)
        wait = FailoverWait(self.cluster_client.failover_timeout)
        while True:
            try:
                await super().execute(raise_on_error, allow_redirections)
                return [command.result for command in commands]
            except (redis.RedisError, RedisClusterException) as exc:
                delay = wait.next_delay(exc)
                if delay is None:
                    raise
                await asyncio.sleep(delay)
                strategy._command_queue = [
                    command
                    for command in commands
                    if command.result is None or isinstance(command.result, Exception)
                ]


class SyncClusterClient(redis.RedisCluster):
    """``redis.RedisCluster`` retrying commands through a failover (pipelines: redis-py's
    own retries only)."""

    def __init__(self, *args: Any, failover_timeout: float = DEFAULT_FAILOVER_TIMEOUT, **kwargs):
        self.failover_timeout = failover_timeout  # first: the sync client connects in __init__
        super().__init__(*args, **kwargs)

    def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        wait = FailoverWait(self.failover_timeout)
        while True:
            try:
                return super().execute_command(*args, **kwargs)
            except (redis.RedisError, RedisClusterException) as exc:
                delay = wait.next_delay(exc)
                if delay is None:
                    raise
                time.sleep(delay)
