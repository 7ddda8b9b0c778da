"""Runs checkpointer operations against Redis, synchronously or asynchronously.

An operation is written once as a generator ("steps") that yields batches of :class:`Call` and
receives their replies (list operations also yield :class:`Emit` items for the caller). The
driver sends each batch as one pipeline, so both APIs share the logic and stay native.

This is not a sync-over-async bridge (see :mod:`soorma_lc.backends.loop_bridge` for that):
``put`` talks to Redis through a sync client on the caller's thread, ``aput`` through an async
client on the caller's loop, and neither waits on the other's event loop or thread. LangGraph
calls checkpointers both ways, so both stay native.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import redis
import redis.asyncio
from redis.exceptions import NoScriptError

from soorma_lc.backends.redis_clients import async_client
from soorma_lc.backends.redis_errors import redis_errors
from soorma_lc.checks import shown
from soorma_lc.errors import ConfigurationError
from soorma_lc.memory.checkpoint import scripts

T = TypeVar("T")

_WHAT = "RedisCheckpointSaver"


@dataclass(frozen=True, slots=True)
class Call:
    """One Redis command of a batch: a Lua script with keys and args, or a raw command."""

    args: tuple[Any, ...]
    script: scripts.Script | None = None
    keys: tuple[str, ...] = ()

    def add_to(self, pipe: Any, *, inline: bool = False) -> None:
        """Queue the call on ``pipe``; a script by its SHA, or with ``inline`` by its source
        (EVAL, for a node that has not cached it, e.g. a replica promoted by a failover)."""
        if self.script is None:
            pipe.execute_command(*self.args)
        elif inline:
            pipe.execute_command("EVAL", self.script.source, len(self.keys), *self.keys, *self.args)
        else:
            pipe.execute_command("EVALSHA", self.script.sha, len(self.keys), *self.keys, *self.args)


@dataclass(frozen=True, slots=True)
class Emit:
    """An item a list operation hands to its caller."""

    item: Any


Steps = Generator[list[Call] | Emit, Any, T]


class RedisDriver:
    """A sync client and an async client: given, or made per event loop from a URL (see
    :meth:`async_clients_from`; redis.asyncio connections are bound to the loop they were
    made on).

    With ``owns_clients`` :meth:`close` / :meth:`aclose` close the given clients; the per-loop
    clients are the driver's own and always closed by :meth:`aclose`.
    """

    def __init__(
        self,
        client: redis.Redis | None = None,
        aclient: redis.asyncio.Redis | None = None,
        *,
        owns_clients: bool = False,
    ) -> None:
        if client is None and aclient is None:
            raise ConfigurationError("the checkpointer needs a sync client, an async one or both")
        if client is not None and not isinstance(client, redis.Redis | redis.RedisCluster):
            raise ConfigurationError(
                "client must be a sync redis.Redis (aclient= takes the async one), got "
                + shown(client)
            )
        if aclient is not None and not isinstance(
            aclient, redis.asyncio.Redis | redis.asyncio.RedisCluster
        ):
            raise ConfigurationError(
                f"aclient must be a redis.asyncio client, got {shown(aclient)}"
            )
        for given in (client, aclient):
            if given is not None and given.get_connection_kwargs().get("decode_responses"):
                raise ConfigurationError("the checkpointer needs a client without decode_responses")
        self._client = client
        self._fixed_aclient = aclient
        self._owns_clients = owns_clients
        self._url: str | None = None
        self._url_options: dict[str, Any] = {}
        self._aclients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.Redis]
        self._aclients = weakref.WeakKeyDictionary()

    def async_clients_from(self, url: str, **options: Any) -> None:
        """Without a given async client, make one for ``url`` per event loop, on first use,
        with ``options`` (the Redis timeouts in force when the saver was built)."""
        self._url = url
        self._url_options = options

    def run(self, steps: Steps[T]) -> T:
        reply: Any = None
        try:
            while True:
                reply = self.execute(steps.send(reply))  # type: ignore[arg-type]
        except StopIteration as done:
            return done.value

    async def arun(self, steps: Steps[T]) -> T:
        reply: Any = None
        try:
            while True:
                reply = await self.aexecute(steps.send(reply))  # type: ignore[arg-type]
        except StopIteration as done:
            return done.value

    def iterate(self, steps: Steps[None]) -> Iterator[Any]:
        reply: Any = None
        while True:
            try:
                step = steps.send(reply)
            except StopIteration:
                return
            if isinstance(step, Emit):
                reply = None
                yield step.item
            else:
                reply = self.execute(step)

    async def aiterate(self, steps: Steps[None]) -> AsyncIterator[Any]:
        reply: Any = None
        while True:
            try:
                step = steps.send(reply)
            except StopIteration:
                return
            if isinstance(step, Emit):
                reply = None
                yield step.item
            else:
                reply = await self.aexecute(step)

    def execute(self, calls: list[Call]) -> list[Any]:
        if self._client is None:
            raise ConfigurationError("this checkpointer was built with an async client only")
        with redis_errors(_WHAT):
            try:
                return _pipeline(self._client, calls).execute()
            except NoScriptError:  # the scripts travel with the calls (and are cached)
                return _pipeline(self._client, calls, inline=True).execute()

    async def aexecute(self, calls: list[Call]) -> list[Any]:
        client = self._aclient()
        with redis_errors(_WHAT):
            try:
                return await _pipeline(client, calls).execute()
            except NoScriptError:  # the scripts travel with the calls (and are cached)
                return await _pipeline(client, calls, inline=True).execute()

    def close(self) -> None:
        """Close the sync client if the driver owns it."""
        if self._owns_clients and self._client is not None:
            self._client.close()

    async def aclose(self) -> None:
        """Close the async client of the running event loop if the driver owns it."""
        made = self._aclients.pop(asyncio.get_running_loop(), None)
        client = made or (self._fixed_aclient if self._owns_clients else None)
        if client is not None:
            await client.aclose()

    def _aclient(self) -> redis.asyncio.Redis:
        if self._fixed_aclient is not None:
            return self._fixed_aclient
        if self._url is None:
            raise ConfigurationError("this checkpointer was built with a sync client only")
        loop = asyncio.get_running_loop()
        client = self._aclients.get(loop)
        if client is None:
            client = self._aclients[loop] = async_client(self._url, **self._url_options)
        return client


def _pipeline(client: Any, calls: list[Call], *, inline: bool = False) -> Any:
    pipe = client.pipeline(transaction=False)
    for call in calls:
        call.add_to(pipe, inline=inline)
    return pipe
