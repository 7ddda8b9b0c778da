"""Where trials run: one embedded redis-server per eval run, one Redis database per trial slot.

Every trial gets a database of its own, emptied before the trial starts, so trials never see
each other's streams, registry, plans or timers, and concurrent trials run side by side. A
server per trial isolates the same way but costs about 125 ms to start and stop, more than a
whole scripted trial (about 75 ms), against under 2 ms to empty a database
(``benchmarks/eval_isolation.py``). Chroma (the event index of large registries) lives in the
run's data folder; its collections are per tenant, and every scenario runs as a tenant of its
own, so the trials of one scenario share its index.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from soorma_lc.backends.embedded_redis import embedded_redis, shutdown_embedded_redis
from soorma_lc.backends.redis_clients import async_client
from soorma_lc.config import Settings
from soorma_lc.errors import ConfigurationError

MAX_SLOTS = 16
"""redis-server's default number of databases."""
EVAL_USER = "eval-user"


@dataclass(frozen=True)
class TrialSpace:
    """The Redis database and data folder one trial runs in."""

    redis_url: str
    data_dir: Path

    def settings(self, scenario_id: str) -> Settings:
        """Settings for a trial of ``scenario_id`` (its own tenant: its own Chroma index)."""
        tenant = "eval-" + hashlib.sha256(scenario_id.encode()).hexdigest()[:12]
        return Settings(
            redis_url=self.redis_url, data_dir=self.data_dir, tenant_id=tenant, user_id=EVAL_USER
        )


class EvalBackends:
    """An embedded redis-server and data folder for one run, shared out in ``slots``."""

    def __init__(self, slots: int = 4, *, workdir: Path | None = None) -> None:
        if not 1 <= slots <= MAX_SLOTS:
            raise ConfigurationError(f"concurrency must be between 1 and {MAX_SLOTS} (got {slots})")
        self.slots = slots
        self._owned = workdir is None
        self.workdir = (
            Path(tempfile.mkdtemp(prefix="soorma-evals-")) if workdir is None else workdir
        )
        self._redis_dir = self.workdir / "redis"
        self.server_url = embedded_redis(self._redis_dir).url
        self._free = list(range(slots))
        self._available: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        """The slot semaphore of the running loop (pytest runs each case in a loop of its own)."""
        loop = asyncio.get_running_loop()
        if self._available is None or self._loop is not loop:
            self._available, self._loop = asyncio.Semaphore(len(self._free)), loop
        return self._available

    @contextlib.asynccontextmanager
    async def lease(self) -> AsyncIterator[TrialSpace]:
        """A free, empty database for one trial (waits while every slot is busy)."""
        async with self._semaphore():
            slot = self._free.pop()
            try:
                url = f"{self.server_url}?db={slot}"
                client = async_client(url)
                try:
                    await client.flushdb()
                finally:
                    await client.aclose()
                yield TrialSpace(redis_url=url, data_dir=self.workdir / "data")
            finally:
                self._free.append(slot)

    def close(self) -> None:
        """Stop the server; remove the folder if this object made it."""
        shutdown_embedded_redis(self._redis_dir, force=True)
        if self._owned:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
