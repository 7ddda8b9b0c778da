"""A Chroma server (``chroma run``) in a child process on a loopback port, for the tests that
need a real one."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings

SERVER = "import sys; from chromadb.cli.cli import app; sys.argv = ['chroma', *sys.argv[1:]]; app()"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_chroma(port: int, path: Path) -> subprocess.Popen[bytes]:
    """``chroma run`` on ``127.0.0.1:port`` with its data under ``path`` (not waited for)."""
    command = [sys.executable, "-c", SERVER, "run", "--path", str(path)]
    return subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_until_up(port: int, process: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    """Until the server answers its heartbeat (raises if it exits or takes too long)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            chromadb.HttpClient(
                host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False)
            ).heartbeat()
            return
        except Exception:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def stop_chroma(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=20)


@contextlib.contextmanager
def running_chroma(path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A Chroma server on a free port with its data under ``path``, up until the block ends:
    its URL and process."""
    port = free_port()
    process = start_chroma(port, path)
    try:
        wait_until_up(port, process)
        yield f"http://127.0.0.1:{port}", process
    finally:
        stop_chroma(process)
