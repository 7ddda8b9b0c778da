"""Sync over async: run every coroutine of one async resource on one event loop, its *home*.

Async Redis clients (and anything else holding connections) belong to the loop they connected
on, while LangGraph and LangChain call some APIs synchronously (store methods, tools). A
:class:`LoopBridge` sends each call of a resource to its home loop:

- adopting (the default): the home is the first running loop that calls :meth:`arun`, i.e.
  the application's loop (the event toolkit's bus lives there), or, while no such loop is
  alive, the bridge's private loop on a daemon thread;
- ``adopt_running_loop=False``: the home is always the private loop (the store keeps its Redis
  client there, so its sync methods work from any thread, even one whose own loop is running).

:meth:`run` (sync) waits for the result; called on the home loop itself it would wait forever,
so it raises :class:`ConfigurationError` instead. :meth:`arun` awaits the work directly on the
home loop, or from another loop without blocking that one. A forked child starts its own
private loop (a fork copies no threads) and adopts anew.

The checkpointer needs none of this: its sync and async APIs each talk to Redis natively (see
``soorma_lc.memory.checkpoint.driver``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from soorma_lc.errors import BackendUnavailableError, ConfigurationError

P = ParamSpec("P")
T = TypeVar("T")


class LoopBridge:
    """Keeps every call of one async resource on a single event loop (see the module docstring).

    ``what`` names the resource and ``hint`` says what to do instead of a sync call on its
    loop, for the error message; ``timeout`` (seconds, None = no limit) bounds :meth:`run`.
    """

    def __init__(
        self,
        what: str,
        *,
        hint: str = "use the async API there",
        adopt_running_loop: bool = True,
        timeout: float | None = None,
        thread_name: str = "soorma-lc-loop",
    ) -> None:
        self.what = what
        self.hint = hint
        self.adopt_running_loop = adopt_running_loop
        self.timeout = timeout
        self.thread_name = thread_name
        self._lock = threading.Lock()
        self._home: asyncio.AbstractEventLoop | None = None
        self._own: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def submit(
        self, fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> concurrent.futures.Future[T]:
        """Start ``fn(*args, **kwargs)`` on the home loop without waiting for it."""
        return asyncio.run_coroutine_threadsafe(_call(fn, *args, **kwargs), self._home_loop(None))

    def run(self, fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(*args, **kwargs)`` on the home loop and return its result (blocking)."""
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        home = self._home_loop(None)
        if home is current:
            raise ConfigurationError(
                f"a synchronous call to {self.what} was made on the event loop {self.what} "
                f"lives on, which it would block forever; {self.hint}"
            )
        future = asyncio.run_coroutine_threadsafe(_call(fn, *args, **kwargs), home)
        try:
            return future.result(self.timeout)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise BackendUnavailableError(
                f"{self.what} did not answer within {self.timeout} s"
            ) from exc

    async def arun(self, fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Await ``fn(*args, **kwargs)`` on the home loop without blocking the caller's loop."""
        current = asyncio.get_running_loop()
        home = self._home_loop(current)
        if home is current:
            return await fn(*args, **kwargs)
        future = asyncio.run_coroutine_threadsafe(_call(fn, *args, **kwargs), home)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Stop the private loop thread, if one was started (a later call starts another)."""
        with self._lock:
            loop, thread = self._own, self._thread
            self._own = self._thread = None
            if self._home is loop:
                self._home = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            loop.close()

    def _home_loop(self, caller: asyncio.AbstractEventLoop | None) -> asyncio.AbstractEventLoop:
        """The home loop; ``caller`` (a running loop) becomes it when adopting and none is."""
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's loops and thread are not ours
                self._home = self._own = self._thread = None
                self._pid = os.getpid()
            home = self._home
            if (
                home is None
                or home.is_closed()
                or (home is not self._own and not home.is_running())
            ):
                if self.adopt_running_loop and caller is not None:
                    home = caller
                else:
                    home = self._own_loop()
                self._home = home
            return home

    def _own_loop(self) -> asyncio.AbstractEventLoop:
        if self._own is None or self._own.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name=self.thread_name, daemon=True)
            thread.start()
            self._own, self._thread = loop, thread
        return self._own


async def _call(fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
    return await fn(*args, **kwargs)
