"""SoormaStore on a real Chroma server (SOORMA_CHROMA_URL), and what happens when it goes away."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings

from soorma_lc.errors import BackendUnavailableError
from soorma_lc.memory.store import SoormaStore
from soorma_lc.memory.store.vectors import collection_name
from tests.chroma_server import running_chroma
from tests.store_helpers import index_config

NS = ("memories", "u1")


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A `chroma run` server process on a free port (``.port``), stopped after the test."""
    with running_chroma(tmp_path / "chroma") as (url, process):
        process.port = int(url.rsplit(":", 1)[1])  # type: ignore[attr-defined]
        yield process


def http_chroma(port: int) -> chromadb.api.ClientAPI:
    """A client of its own: chromadb writes the server address into the Settings object it is
    given, and soorma_lc.backends.chroma shares one such object between all its clients."""
    return chromadb.HttpClient(
        host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False)
    )


async def test_store_on_a_chroma_server_and_its_outage(
    chroma_server, redis_url: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    store = SoormaStore.from_url(
        redis_url, index=index_config(), chroma=http_chroma(chroma_server.port)
    )
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


WRITER = r"""
import random, sys
import chromadb
from chromadb.config import Settings as ChromaSettings
from soorma_lc.memory.store import SoormaStore
from soorma_lc.memory.store.vectors import collection_name
from tests.chroma_server import running_chroma
from tests.store_helpers import index_config

redis_url, port, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
chroma = chromadb.HttpClient(
    host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False)
)
store = SoormaStore.from_url(redis_url, index=index_config(), chroma=chroma)
rng = random.Random(seed)
words = ["apple", "banana", "cherry", "delta", "echo", "fox"]
for i in range(25):
    key = f"k{rng.randrange(6)}"
    if rng.random() < 0.15:
        store.delete(("shared",), key)
    else:
        text = " ".join(rng.sample(words, 2))
        store.put(("shared",), key, {"text": text, "writer": seed, "i": i})
store.close()
"""


@pytest.mark.slow
def test_concurrent_writer_processes_leave_items_and_vectors_consistent(  # type: ignore[no-untyped-def]
    chroma_server, redis_url: str
) -> None:
    """Processes racing on the same keys: every live item ends with exactly its own vectors."""
    root = Path(__file__).parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, redis_url, str(chroma_server.port), str(seed)],
            cwd=root,
            env=env,
            stderr=subprocess.PIPE,
        )
        for seed in range(3)
    ]
    try:
        for writer in writers:
            _, stderr = writer.communicate(timeout=180)
            assert writer.returncode == 0, stderr.decode()
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
                writer.wait(timeout=20)

    chroma = http_chroma(chroma_server.port)
    store = SoormaStore.from_url(redis_url, index=index_config(), chroma=chroma)
    try:
        live = {item.key: item.value for item in store.search(("shared",), limit=100)}
        assert live, "the writers left no items"
        for word in ("apple", "banana", "fox"):
            hits = store.search(("shared",), query=word, limit=100)
            assert [hit.key for hit in hits if hit.score is None] == []
            assert sorted(hit.key for hit in hits) == sorted(live)
            assert all(hit.value == live[hit.key] for hit in hits)
        collection = chroma.get_collection(collection_name(store.tenant_id))
        assert collection.count() == len(live), "stale or missing vectors"
    finally:
        store.close()
