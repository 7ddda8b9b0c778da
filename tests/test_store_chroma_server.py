"""SoormaStore on a real Chroma server (SOORMA_CHROMA_URL), and what happens when it goes away."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import chromadb
import httpx
import pytest
from chromadb.config import Settings as ChromaSettings

from soorma_lc.errors import BackendUnavailableError
from soorma_lc.memory.store import SoormaStore
from tests.store_helpers import index_config

NS = ("memories", "u1")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A `chroma run` server process on a free port, stopped after the test."""
    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    process = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "chroma"), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    process.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{process.url}/api/v2/heartbeat", timeout=1).raise_for_status()  # type: ignore[attr-defined]
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


async def test_store_on_a_chroma_server_and_its_outage(
    chroma_server, redis_url: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # A client of its own: chromadb writes the server address into the Settings object it is
    # given, and soorma_lc.memory.chroma shares one such object between all its clients.
    client = chromadb.HttpClient(
        host="127.0.0.1",
        port=int(chroma_server.url.rsplit(":", 1)[1]),
        settings=ChromaSettings(anonymized_telemetry=False),
    )
    store = SoormaStore(redis_url, index=index_config(), chroma=client)
    try:
        await store.aput(NS, "golf", {"text": "golf weekend"})
        await store.aput(NS, "food", {"text": "banana bread"})
        hits = await store.asearch(NS, query="golf")
        assert [hit.key for hit in hits] == ["golf", "food"] and hits[0].score > hits[1].score

        chroma_server.terminate()
        chroma_server.wait(timeout=20)
        with pytest.raises(BackendUnavailableError):
            await store.aput(NS, "golf", {"text": "changed while Chroma is down"})
        with pytest.raises(BackendUnavailableError):
            store.search(NS, query="golf")
        # Redis-only operations keep working, and the failed put changed nothing.
        assert (await store.aget(NS, "golf")).value == {"text": "golf weekend"}
        await store.aput(NS, "plain", {"text": "unindexed"}, index=False)
        assert [item.key for item in await store.asearch(NS)] == ["food", "golf", "plain"]
    finally:
        await store.aclose()
