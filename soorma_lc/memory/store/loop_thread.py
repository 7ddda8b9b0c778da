"""A process-wide event loop on a daemon thread, where the store does all of its I/O.

One async implementation serves both APIs: ``abatch`` awaits work scheduled here (the caller's
loop never blocks), and ``batch`` waits for it from any thread, even one whose own event loop
is running (LangGraph calls sync store methods from such threads). The Redis client of each
store is bound to this loop, so it is never shared between loops. Restarted after a fork.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_pid: int | None = None


def store_loop() -> asyncio.AbstractEventLoop:
    """The store loop, started on first use (and again in a forked child)."""
    global _loop, _pid
    with _lock:
        if _loop is None or _pid != os.getpid():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="soorma-store-io", daemon=True)
            thread.start()
            _loop, _pid = loop, os.getpid()
        return _loop


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the store loop and wait for its result (blocks the calling thread)."""
    loop = store_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        coro.close()
        raise RuntimeError("sync SoormaStore methods cannot run on the store's own I/O loop")
    return asyncio.run_coroutine_threadsafe(coro, loop).result()


async def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Await ``coro`` running on the store loop, without blocking the caller's loop."""
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, store_loop()))
