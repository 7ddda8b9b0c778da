"""Agent processes for the multi-process tests and benchmarks/scale_out.py: each one
``soorma-lc run TARGET`` (``file.py:factory``), pointed at the given Redis and Chroma, logging
to a file of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from soorma_lc import Settings
from tests.bus_helpers import reap

ROOT = Path(__file__).resolve().parent.parent


class Processes:
    """The agent processes of the test, each logging to a file of its own."""

    def __init__(self, settings: Settings, logs: Path) -> None:
        self.settings = settings
        self.logs = logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.generation: dict[str, int] = defaultdict(int)

    def start(self, name: str, target: str, **env: str) -> None:
        self.generation[name] += 1
        log = open(self.logs / f"{name}-{self.generation[name]}.log", "wb")  # noqa: SIM115
        child_env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SOORMA_REDIS_URL": self.settings.redis_url or "",
            "SOORMA_CHROMA_URL": self.settings.chroma_url or "",
            "SOORMA_DATA_DIR": str(self.settings.data_dir),
            **env,
        }
        self.running[name] = subprocess.Popen(
            [sys.executable, "-m", "soorma_lc.cli", "run", target],
            cwd=ROOT,
            env=child_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.running[name].log = log  # type: ignore[attr-defined]

    def kill_and_restart(self, name: str, target: str, **env: str) -> None:
        process = self.running[name]
        os.kill(process.pid, signal.SIGKILL)
        assert reap(process) == -signal.SIGKILL
        self.start(name, target, **env)

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.kill()
            reap(process)
            process.log.close()  # type: ignore[attr-defined]

    def tails(self) -> str:
        return "\n".join(
            f"--- {path.name}\n" + path.read_text(errors="replace")[-3000:]
            for path in sorted(self.logs.glob("*.log"))
        )
