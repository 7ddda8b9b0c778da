"""Retries with backoff and ordered fallbacks: which model to call next, and how long to wait.

Why not litellm's own ``num_retries``/``fallbacks``: measured on litellm 1.110,
``num_retries`` also retries 401s and context-window 400s (three identical failing calls),
waits nothing between 5xx retries and resets the global ``litellm.num_retries``; the
``fallbacks`` argument turns the last failure into a bare ``Exception`` (the error class, and so
our typed errors, are lost) and does not say which model answered. The Router keeps the types
but falls back on authentication and bad-request errors too, keeps cooldown state between calls,
and its backoff cannot be set per model. So litellm makes each single attempt (its provider
adapters, timeouts and error classes) and this module decides what follows a failure.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from soorma_lc.errors import ModelError
from soorma_lc.llm.failures import is_provider_error, is_transient, model_error, retry_after_seconds

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: ``base * 2**retry`` seconds, at most ``cap``.

    A provider's ``Retry-After`` wins over the computed wait (still at most ``cap``).
    """

    base: float = 0.5
    cap: float = 8.0

    def delay(self, retry: int, error: BaseException) -> float:
        asked = retry_after_seconds(error)
        if asked is not None:
            return min(asked, self.cap)
        computed = min(self.cap, self.base * 2**retry)
        return computed * (0.5 + random.random() / 2)  # spread replicas that failed together


@dataclass(frozen=True)
class Attempt:
    """One call to make: ``models[position]`` for the ``retry``-th time (0 = first try)."""

    position: int
    model: str
    retry: int


@dataclass
class AttemptPlan:
    """Calls ``models`` in order, each up to ``1 + max_retries`` times while failures are
    transient, and returns the first answer with the model that gave it.

    A failure that is not transient raises its typed :class:`ModelError` at once; when every
    model has used up its retries, the last failure's type is raised with all of them in the
    message. Errors that are not the provider's (bugs) propagate unchanged.
    """

    models: Sequence[str]
    max_retries: int
    backoff: Backoff = field(default_factory=Backoff)
    _failures: list[ModelError] = field(default_factory=list)

    def call(self, send: Callable[[str], T]) -> tuple[T, str]:
        """``send(model)`` until one answers; waits with ``time.sleep`` (sync callers)."""
        attempt = Attempt(0, self.models[0], 0)
        while True:
            try:
                return send(attempt.model), attempt.model
            except Exception as error:
                wait, attempt = self._after(attempt, error)
            time.sleep(wait)

    async def acall(self, send: Callable[[str], Awaitable[T]]) -> tuple[T, str]:
        """``await send(model)`` until one answers; waits with ``asyncio.sleep``."""
        attempt = Attempt(0, self.models[0], 0)
        while True:
            try:
                return await send(attempt.model), attempt.model
            except Exception as error:
                wait, attempt = self._after(attempt, error)
            await asyncio.sleep(wait)

    def _after(self, attempt: Attempt, error: Exception) -> tuple[float, Attempt]:
        """The wait and the attempt that follow ``error``, or the typed error to raise."""
        if not is_provider_error(error):
            raise error
        typed = model_error(error, attempt.model)
        if not is_transient(error):
            raise typed from error
        if attempt.retry < self.max_retries:
            logger.info("%s; retry %d of %d", typed, attempt.retry + 1, self.max_retries)
            following = Attempt(attempt.position, attempt.model, attempt.retry + 1)
            return self.backoff.delay(attempt.retry, error), following
        self._failures.append(typed)
        position = attempt.position + 1
        if position < len(self.models):
            logger.warning("%s; falling back to %s", typed, self.models[position])
            return 0.0, Attempt(position, self.models[position], 0)
        raise self._exhausted(typed) from error

    def _exhausted(self, last: ModelError) -> ModelError:
        tries = 1 + self.max_retries
        summary = "; ".join(str(failure) for failure in self._failures)
        message = f"every model failed after {tries} attempt(s) each: {summary}"
        return type(last)(message, model=last.model, status_code=last.status_code)
