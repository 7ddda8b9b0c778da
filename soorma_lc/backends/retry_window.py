"""Backoff while a backend is briefly unavailable (a failover, a restarting server)."""

from __future__ import annotations

import time


class RetryWindow:
    """Delays between attempts: doubling from ``first`` up to ``cap`` seconds, until
    ``timeout`` seconds after the first failure; then :meth:`next_delay` says give up."""

    def __init__(self, timeout: float, *, first: float = 0.05, cap: float = 1.0) -> None:
        self.timeout = timeout
        self._deadline: float | None = None
        self._delay = first
        self._cap = cap

    def next_delay(self) -> float | None:
        """Seconds to wait before the next attempt, or None when the window has closed."""
        now = time.monotonic()
        if self._deadline is None:
            self._deadline = now + self.timeout
        remaining = self._deadline - now
        if remaining <= 0:
            return None
        delay, self._delay = min(self._delay, remaining), min(self._delay * 2, self._cap)
        return delay
