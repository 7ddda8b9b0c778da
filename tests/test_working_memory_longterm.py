"""MemoryClient composes episodic and semantic memory (real embedded Chroma, offline embeddings)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from soorma_lc.backends.chroma import chroma_client
from soorma_lc.config import Settings
from soorma_lc.errors import ScopeError
from soorma_lc.memory.client import MemoryClient
from soorma_lc.memory.episodic import EpisodicMemory
from soorma_lc.memory.semantic import SemanticMemory

T, U = "tenant-a", "user-1"


@pytest.fixture
async def memory(settings: Settings) -> AsyncIterator[MemoryClient]:
    client = MemoryClient.from_settings(settings)
    yield client
    await client.aclose()


async def test_working_memory_alone_never_opens_chroma(
    memory: MemoryClient, settings: Settings
) -> None:
    await memory.set_plan_state("p1", "k", 1, T, U)
    await memory.create_plan("p1", "g", tenant_id=T, user_id=U)
    assert not (settings.data_dir / "chroma").exists()


async def test_episodic_memory_through_the_client(memory: MemoryClient) -> None:
    await memory.log_interaction("chatbot", "user", "How do I rotate TLS certificates?", U, T)
    await memory.log_interaction(
        "chatbot", "assistant", "Use cert-manager renewals.", U, T, {"plan_id": "p1"}
    )
    await memory.log_interaction("chatbot", "user", "What about my sourdough starter?", U, T)
    history = await memory.get_recent_history("chatbot", U, T, limit=2)
    assert [i.content for i in history] == [
        "Use cert-manager renewals.",
        "What about my sourdough starter?",
    ]
    found = await memory.search_interactions("chatbot", "TLS certificates rotation", U, T, 1)
    assert [i.content for i in found] == ["How do I rotate TLS certificates?"]
    filtered = await memory.search_interactions(
        "chatbot", "certificates", U, T, 5, {"plan_id": "p1"}
    )
    assert [i.content for i in filtered] == ["Use cert-manager renewals."]
    assert await memory.get_recent_history("chatbot", U, "tenant-b") == []
    assert await memory.search_interactions("chatbot", "TLS", "user-2", T) == []


async def test_semantic_memory_through_the_client(memory: MemoryClient) -> None:
    private = await memory.store_knowledge("Redis streams keep consumer groups", U, T)
    await memory.store_knowledge(
        "Kubernetes pods restart on failure", U, T, {"topic": "k8s"}, "doc-k8s", is_public=True
    )
    mine = await memory.search_knowledge("redis consumer groups", U, T, limit=1)
    assert mine[0].knowledge_id == private and mine[0].content.startswith("Redis streams")
    others = await memory.search_knowledge("redis consumer groups", "user-2", T, limit=5)
    assert [k.content for k in others] == ["Kubernetes pods restart on failure"]
    assert await memory.search_knowledge("pods", "user-2", T, 5, include_public=False) == []
    assert await memory.search_knowledge("redis", U, "tenant-b") == []


async def test_scope_errors_come_from_the_composed_memories(memory: MemoryClient) -> None:
    with pytest.raises(ScopeError):
        await memory.log_interaction("chatbot", "user", "hi", "", T)
    with pytest.raises(ScopeError):
        await memory.store_knowledge("fact", U, "")


async def test_given_memories_are_used_as_is(redis_url: str, tmp_path: Path) -> None:
    chroma = chroma_client(Settings(data_dir=tmp_path / "elsewhere"))
    episodic, semantic = EpisodicMemory(chroma, "offline"), SemanticMemory(chroma, "offline")
    async with MemoryClient.from_url(redis_url, episodic=episodic, semantic=semantic) as memory:
        assert memory.episodic is episodic and memory.semantic is semantic
        await memory.log_interaction("a", "user", "hello there", U, T)
        assert [i.content for i in await episodic.get_recent_history("a", U, T)] == ["hello there"]
