"""Supervision of a consumer's background loops, and the health report it gives.

A consumer runs a few long-lived tasks (read, acknowledge, reclaim, handler pool). None of them
may die silently: a loop that raises is logged, restarted after an exponential backoff, and the
failure shows in :meth:`Subscription.health` until the loop succeeds again. A key overwritten
with another type (``WRONGTYPE``) thus leaves the consumer retrying and reporting the error,
and it resumes once the key is repaired.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

logger = logging.getLogger(__name__)

FIRST_BACKOFF = 0.1
MAX_BACKOFF = 5.0
_RECANCEL_AFTER = 0.2


@dataclass(frozen=True)
class SubscriptionHealth:
    """One consumer as :meth:`Subscription.health` reports it.

    ``healthy`` is True while the consumer runs and none of its loops is failing; ``problems``
    names each failing loop with its last error; ``restarts`` counts loop failures since start;
    ``last_read_at`` is when the consumer last read from Redis successfully.
    """

    consumer: str
    group: str
    running: bool
    healthy: bool
    problems: dict[str, str]
    restarts: int
    last_error: str | None
    last_error_at: datetime | None
    last_read_at: datetime | None
    in_flight: int


class LoopSupervisor:
    """Runs named loops, restarting them with backoff when they raise; records their state."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.problems: dict[str, str] = {}
        self.restarts = 0
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self._failures: dict[str, int] = {}

    def failed(self, loop: str, error: BaseException) -> float:
        """Record that ``loop`` failed with ``error``; returns the seconds to wait before the
        next attempt (doubling with each failure in a row, at most :data:`MAX_BACKOFF`)."""
        failures = self._failures.get(loop, 0) + 1
        self._failures[loop] = failures
        text = f"{type(error).__name__}: {error}"
        self.problems[loop] = text
        self.last_error, self.last_error_at = text, time.time()
        return min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** min(failures - 1, 16))

    def succeeded(self, loop: str) -> None:
        """``loop`` works again: its problem and backoff are cleared."""
        if loop in self.problems:
            logger.info("%s: %s loop recovered", self.owner, loop)
            del self.problems[loop]
        self._failures.pop(loop, None)

    async def run(self, loop: str, body: Callable[[], Awaitable[None]]) -> None:
        """Run ``body`` until cancelled, restarting it after each exception (logged)."""
        while True:
            try:
                await body()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.restarts += 1
                delay = self.failed(loop, exc)
                logger.error(
                    "%s: %s loop failed (%s: %s); restarting in %.1f s",
                    self.owner,
                    loop,
                    type(exc).__name__,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)


async def cancel_and_wait(*tasks: asyncio.Task[None]) -> None:
    """Cancel ``tasks`` and wait until every one has ended.

    A cancellation can be lost inside a library (on Python 3.11, ``asyncio.wait_for`` swallows
    one that arrives as the awaited operation completes; our Redis clients avoid it, code in a
    handler may not), so a task still running after a short wait is cancelled again.
    """
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=_RECANCEL_AFTER)
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            logger.debug("task %s ended with %r", task.get_name(), task.exception())


def timestamp(seconds: float | None) -> datetime | None:
    """``time.time()`` seconds as an aware UTC datetime (None stays None)."""
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)
