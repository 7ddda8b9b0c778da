"""Run a bus coroutine from synchronous code without moving the bus to another event loop.

Async Redis clients belong to the loop they first connected on. Event tools are called both
from async code (``ainvoke``, the normal LangGraph path) and sync code (``invoke``), so every
bus call goes through one :class:`LoopBridge`: it remembers the loop the bus lives on and sends
work there; when no loop is alive it starts a private one in a daemon thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from soorma_lc.errors import ConfigurationError

T = TypeVar("T")


class LoopBridge:
    """Keeps every call of one async resource on a single event loop."""

    def __init__(self, *, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self._home: asyncio.AbstractEventLoop | None = None
        self._own: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _alive(self, loop: asyncio.AbstractEventLoop | None) -> bool:
        return loop is not None and not loop.is_closed() and loop.is_running()

    def _own_loop(self) -> asyncio.AbstractEventLoop:
        if self._own is None or self._own.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name="soorma-lc-loop-bridge", daemon=True
            )
            thread.start()
            self._own, self._thread = loop, thread
        return self._own

    async def arun(self, factory: Callable[[], Awaitable[T]]) -> T:
        """Await ``factory()`` on the resource's loop (this loop unless it lives elsewhere)."""
        current = asyncio.get_running_loop()
        with self._lock:
            home = self._home
            if not self._alive(home) or home is current:
                self._home = home = current
        if home is current:
            return await factory()
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_call(factory), home))

    def run(self, factory: Callable[[], Awaitable[T]]) -> T:
        """Run ``factory()`` to completion from synchronous code and return its result."""
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        with self._lock:
            home = self._home
            if not self._alive(home):
                self._home = home = self._own_loop()
        if home is current:
            raise ConfigurationError(
                "a synchronous event-tool call was made on the event loop that owns the bus; "
                "use 'await tool.ainvoke(...)' in async code"
            )
        return asyncio.run_coroutine_threadsafe(_call(factory), home).result(self.timeout)

    def close(self) -> None:
        """Stop the private loop thread, if one was started."""
        with self._lock:
            loop, thread = self._own, self._thread
            self._own = self._thread = None
            if self._home is loop:
                self._home = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            loop.close()


async def _call(factory: Callable[[], Awaitable[T]]) -> T:
    return await factory()
