"""Both memories on a real Chroma server (``chroma_url``), shared by two clients; a call that
waits for a restarting server; the typed error when that server goes away, and after
``chroma_timeout`` when a server accepts connections but does not answer."""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from longterm_helpers import AGENT, TENANT, USER

from soorma_lc.backends.chroma import http_chroma_client
from soorma_lc.config import Settings
from soorma_lc.errors import BackendUnavailableError
from soorma_lc.memory.episodic import EpisodicMemory
from soorma_lc.memory.retrievers import semantic_retriever
from soorma_lc.memory.semantic import SemanticMemory
from tests.chroma_server import running_chroma, start_chroma, stop_chroma


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """A Chroma server in a child process on a free loopback port; always stopped."""
    with running_chroma(tmp_path / "server") as server:
        yield server


@pytest.mark.slow
async def test_memories_on_a_shared_chroma_server(
    chroma_server: tuple[str, subprocess.Popen], tmp_path: Path
) -> None:
    url, process = chroma_server
    settings = Settings(chroma_url=url, data_dir=tmp_path / "unused", chroma_retry_timeout=0.3)
    writer_episodic = EpisodicMemory.from_settings(settings)
    writer_semantic = SemanticMemory.from_settings(settings)
    await writer_episodic.log_interaction(
        AGENT, "user", "ship the order to Oslo", tenant_id=TENANT, user_id=USER
    )
    await writer_semantic.store_knowledge(
        "Oslo orders ship from Bergen.", tenant_id=TENANT, user_id=USER
    )

    # A second, independent client (as on another machine) sees the same memories.
    reader = EpisodicMemory.from_settings(settings)
    assert reader.client is not writer_episodic.client
    [hit] = await reader.search_interactions(
        AGENT, "order shipping Oslo", tenant_id=TENANT, user_id=USER
    )
    assert hit.content == "ship the order to Oslo"
    docs = await semantic_retriever(
        SemanticMemory.from_settings(settings), tenant_id=TENANT, user_id=USER
    ).ainvoke("where do Oslo orders ship from")
    assert docs[0].page_content == "Oslo orders ship from Bergen."
    assert not (tmp_path / "unused").exists()  # nothing embedded locally

    process.terminate()
    process.wait(timeout=20)
    with pytest.raises(BackendUnavailableError):
        await reader.get_recent_history(AGENT, tenant_id=TENANT, user_id=USER)
    with pytest.raises(BackendUnavailableError):
        await writer_semantic.store_knowledge("lost?", tenant_id=TENANT, user_id=USER)
    with pytest.raises(BackendUnavailableError):
        await EpisodicMemory(reader.client).log_interaction(
            AGENT, "user", "x", tenant_id=TENANT, user_id=USER
        )
    with pytest.raises(BackendUnavailableError, match="cannot reach the Chroma server"):
        SemanticMemory.from_settings(settings)


@pytest.mark.slow
async def test_a_call_waits_for_a_restarting_chroma_server(
    chroma_server: tuple[str, subprocess.Popen], tmp_path: Path
) -> None:
    """Requests that cannot connect are sent again until the server is back (nothing was
    sent, so nothing is applied twice); its data is still there."""
    url, process = chroma_server
    settings = Settings(chroma_url=url, data_dir=tmp_path / "unused", chroma_retry_timeout=90)
    memory = EpisodicMemory.from_settings(settings)
    await memory.log_interaction(
        AGENT, "user", "before the restart", tenant_id=TENANT, user_id=USER
    )
    stop_chroma(process)
    restarted = start_chroma(int(url.rsplit(":", 1)[1]), tmp_path / "server")
    try:
        written = await memory.log_interaction(
            AGENT, "user", "during the restart", tenant_id=TENANT, user_id=USER
        )
        history = await memory.get_recent_history(AGENT, tenant_id=TENANT, user_id=USER)
        assert [i.content for i in history] == ["before the restart", "during the restart"]
        assert [i.id for i in history][-1] == written.id
    finally:
        stop_chroma(restarted)


def test_http_and_embedded_clients_coexist_in_one_process(
    chroma_server: tuple[str, subprocess.Popen], tmp_path: Path
) -> None:
    """chromadb writes into the settings object it is given: each client needs its own."""
    url, _ = chroma_server
    remote = EpisodicMemory.from_settings(Settings(chroma_url=url))
    remote.log_interaction_sync(AGENT, "user", "on the server", tenant_id=TENANT, user_id=USER)
    local = EpisodicMemory.from_settings(Settings(data_dir=tmp_path / "local"))
    local.log_interaction_sync(AGENT, "user", "on disk", tenant_id=TENANT, user_id=USER)
    again = EpisodicMemory.from_settings(Settings(chroma_url=url.replace("127.0.0.1", "localhost")))
    assert [
        i.content for i in again.get_recent_history_sync(AGENT, tenant_id=TENANT, user_id=USER)
    ] == ["on the server"]
    assert [
        i.content for i in local.get_recent_history_sync(AGENT, tenant_id=TENANT, user_id=USER)
    ] == ["on disk"]
    assert (tmp_path / "local" / "chroma").is_dir()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A URL whose TCP connections are accepted (by the kernel's backlog) but never answered:
    a hung server, or one behind a stuck proxy."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_a_client_of_a_silent_server_fails_after_the_timeout(silent_server: str) -> None:
    """chromadb's constructor waits for its first answers without a timeout: ours does not."""
    with pytest.raises(BackendUnavailableError, match="ReadTimeout"):
        http_chroma_client(silent_server, retry_timeout=0, timeout=0.3)
    settings = Settings(chroma_url=silent_server, chroma_retry_timeout=0, chroma_timeout=0.3)
    with pytest.raises(BackendUnavailableError, match="cannot reach the Chroma server"):
        EpisodicMemory.from_settings(settings)


@pytest.mark.slow
async def test_calls_to_a_server_that_stops_answering_fail_after_the_timeout(
    chroma_server: tuple[str, subprocess.Popen], tmp_path: Path
) -> None:
    """A server that is alive but frozen (SIGSTOP) costs a call ``chroma_timeout`` seconds and
    a typed error, not a hang; once it answers again, so does the client, its data intact."""
    url, process = chroma_server
    settings = Settings(chroma_url=url, data_dir=tmp_path / "unused", chroma_timeout=0.5)
    memory = EpisodicMemory.from_settings(settings)
    await memory.log_interaction(AGENT, "user", "before", tenant_id=TENANT, user_id=USER)
    process.send_signal(signal.SIGSTOP)
    try:
        with pytest.raises(BackendUnavailableError, match="Chroma is unreachable"):
            await memory.get_recent_history(AGENT, tenant_id=TENANT, user_id=USER)
    finally:
        process.send_signal(signal.SIGCONT)
    history = await memory.get_recent_history(AGENT, tenant_id=TENANT, user_id=USER)
    assert [i.content for i in history] == ["before"]
