"""Serving an agent until SIGINT/SIGTERM or a stop request: shared by Worker and planners."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable


async def serve_until_stopped(
    start: Callable[[], Awaitable[None]],
    stop: Callable[[], Awaitable[None]],
    stop_requested: asyncio.Event,
) -> None:
    """``start()``, wait for SIGINT/SIGTERM or ``stop_requested``, then ``stop()`` gracefully."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop_requested.set)
            installed.append(signum)
    try:
        await start()
        await stop_requested.wait()
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
        await stop()
