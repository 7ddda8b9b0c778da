"""Helpers for the bus and worker tests: polling with a deadline, and child worker processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

WORKER_SCRIPT = Path(__file__).with_name("bus_helpers_worker.py")


async def eventually(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool], timeout: float = 20.0
) -> None:
    """Poll ``check`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {check}")
        await asyncio.sleep(0.02)


def spawn_worker(redis_url: str, **env: str) -> subprocess.Popen[bytes]:
    """``soorma-lc run tests/bus_helpers_worker.py:make_worker`` as a child process."""
    child_env = {
        **os.environ,
        "SOORMA_REDIS_URL": redis_url,
        **{f"BUS_TEST_{key.upper()}": value for key, value in env.items()},
    }
    return subprocess.Popen(
        [sys.executable, "-m", "soorma_lc.cli", "run", f"{WORKER_SCRIPT}:make_worker"],
        env=child_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def reap(process: subprocess.Popen[bytes], timeout: float = 15.0) -> int:
    """Wait for ``process`` (killing it if it hangs) and return its exit code."""
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(timeout=timeout)
