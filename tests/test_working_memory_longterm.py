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
    await memory.set_plan_state("p1", "k", 1, tenant_id=T, user_id=U)
    await memory.create_plan("p1", "g", tenant_id=T, user_id=U)
    assert not (settings.data_dir / "chroma").exists()


async def test_episodic_memory_through_the_client(memory: MemoryClient) -> None:
    await memory.log_interaction(
        "chatbot", "user", "How do I rotate TLS certificates?", tenant_id=T, user_id=U
    )
    await memory.log_interaction(
        "chatbot",
        "assistant",
        "Use cert-manager renewals.",
        tenant_id=T,
        user_id=U,
        metadata={"plan_id": "p1"},
    )
    await memory.log_interaction(
        "chatbot", "user", "What about my sourdough starter?", tenant_id=T, user_id=U
    )
    history = await memory.get_recent_history("chatbot", tenant_id=T, user_id=U, limit=2)
    assert [i.content for i in history] == [
        "Use cert-manager renewals.",
        "What about my sourdough starter?",
    ]
    found = await memory.search_interactions(
        "chatbot", "TLS certificates rotation", tenant_id=T, user_id=U, limit=1
    )
    assert [i.content for i in found] == ["How do I rotate TLS certificates?"]
    filtered = await memory.search_interactions(
        "chatbot", "certificates", tenant_id=T, user_id=U, limit=5, filters={"plan_id": "p1"}
    )
    assert [i.content for i in filtered] == ["Use cert-manager renewals."]
    assert await memory.get_recent_history("chatbot", tenant_id="tenant-b", user_id=U) == []
    assert await memory.search_interactions("chatbot", "TLS", tenant_id=T, user_id="user-2") == []


async def test_semantic_memory_through_the_client(memory: MemoryClient) -> None:
    private = await memory.store_knowledge(
        "Redis streams keep consumer groups", tenant_id=T, user_id=U
    )
    await memory.store_knowledge(
        "Kubernetes pods restart on failure",
        tenant_id=T,
        user_id=U,
        metadata={"topic": "k8s"},
        external_id="doc-k8s",
        is_public=True,
    )
    mine = await memory.search_knowledge("redis consumer groups", tenant_id=T, user_id=U, limit=1)
    assert mine[0].knowledge_id == private and mine[0].content.startswith("Redis streams")
    others = await memory.search_knowledge(
        "redis consumer groups", tenant_id=T, user_id="user-2", limit=5
    )
    assert [k.content for k in others] == ["Kubernetes pods restart on failure"]
    assert (
        await memory.search_knowledge(
            "pods", tenant_id=T, user_id="user-2", limit=5, include_public=False
        )
        == []
    )
    assert await memory.search_knowledge("redis", tenant_id="tenant-b", user_id=U) == []


async def test_scope_errors_come_from_the_composed_memories(memory: MemoryClient) -> None:
    with pytest.raises(ScopeError):
        await memory.log_interaction("chatbot", "user", "hi", tenant_id=T, user_id="")
    with pytest.raises(ScopeError):
        await memory.store_knowledge("fact", tenant_id="", user_id=U)


async def test_given_memories_are_used_as_is(redis_url: str, tmp_path: Path) -> None:
    chroma = chroma_client(Settings(data_dir=tmp_path / "elsewhere"))
    episodic, semantic = EpisodicMemory(chroma, "offline"), SemanticMemory(chroma, "offline")
    async with MemoryClient.from_url(redis_url, episodic=episodic, semantic=semantic) as memory:
        assert memory.episodic is episodic and memory.semantic is semantic
        await memory.log_interaction("a", "user", "hello there", tenant_id=T, user_id=U)
        assert [
            i.content for i in await episodic.get_recent_history("a", tenant_id=T, user_id=U)
        ] == ["hello there"]
