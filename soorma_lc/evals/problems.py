"""Harness problems of one trial: what went wrong outside the planner under test.

A script that references a result the conversation does not hold, a script that ran out, a
replayed request with no recording, a simulated worker whose reply cannot be built. Each is
reported with the trial; a fatal one ends the trial at once instead of letting it run into its
timeout. Reporting is safe from any thread (sync HTTP transports run in worker threads).
"""

from __future__ import annotations

import asyncio


class TrialProblems:
    """The problems of one trial; make it inside the trial's event loop."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.fatal = asyncio.Event()
        self._loop = asyncio.get_running_loop()

    def add(self, message: str, *, fatal: bool = False) -> None:
        """Record ``message``; a fatal problem ends the trial."""
        self.messages.append(message)
        if fatal:
            self._loop.call_soon_threadsafe(self.fatal.set)
