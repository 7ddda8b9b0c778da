"""SemanticMemory on a real embedded Chroma: upserts, chunking, sharing, deletion, errors."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest
from longterm_helpers import (
    OTHER_TENANT,
    OTHER_USER,
    TENANT,
    USER,
    CountingEmbeddings,
    new_chroma,
    thread_recording,
)

from soorma_lc.errors import (
    EmbeddingError,
    InvalidFilterError,
    InvalidMemoryInputError,
    InvalidMetadataError,
    ScopeError,
)
from soorma_lc.memory.chunking import chunk_text
from soorma_lc.memory.semantic import SemanticMemory

LONG_TEXT = "\n\n".join(
    f"Section {n}. " + " ".join(f"Filler sentence {n}-{m} about routine matters." for m in range(8))
    for n in range(12)
).replace("Section 7.", "Section 7. The vault access code rotates every Tuesday at noon.")


@pytest.fixture
def embeddings() -> CountingEmbeddings:
    return CountingEmbeddings()


@pytest.fixture
def memory(tmp_path: Path, embeddings: CountingEmbeddings) -> SemanticMemory:
    return SemanticMemory(new_chroma(tmp_path / "chroma"), embeddings)


def _count(memory: SemanticMemory, tenant: str = TENANT) -> int:
    return memory._collection(tenant).count()


async def test_store_and_search_with_scores(memory: SemanticMemory) -> None:
    facts = [
        "Paris is the capital of France.",
        "The company refund policy allows returns within 30 days.",
        "Our office wifi password is changed every month.",
    ]
    for fact in facts:
        await memory.store_knowledge(
            fact, tenant_id=TENANT, user_id=USER, metadata={"source": "handbook"}
        )
    hits = await memory.search_knowledge(
        "how many days to get a refund", tenant_id=TENANT, user_id=USER, limit=3
    )
    assert hits[0].content == facts[1]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].metadata == {"source": "handbook"}
    assert hits[0].user_id == USER and not hits[0].is_public
    assert (hits[0].chunk_index, hits[0].chunk_count) == (0, 1)


async def test_same_content_is_stored_once_and_restore_replaces_metadata(
    memory: SemanticMemory, embeddings: CountingEmbeddings
) -> None:
    first = await memory.store_knowledge(
        "Water boils at 100 C.", tenant_id=TENANT, user_id=USER, metadata={"a": 1, "b": 2}
    )
    embedded = embeddings.embedded
    second = await memory.store_knowledge(
        "Water boils at 100 C.", tenant_id=TENANT, user_id=USER, metadata={"a": 3}
    )
    assert first == second
    assert embeddings.embedded == embedded  # unchanged content: no new embedding
    assert _count(memory) == 1
    [hit] = await memory.search_knowledge("boiling water", tenant_id=TENANT, user_id=USER)
    assert hit.metadata == {"a": 3}
    assert hit.knowledge_id == first


async def test_external_id_upsert_replaces_content_and_drops_stale_chunks(
    memory: SemanticMemory,
) -> None:
    long_id = await memory.store_knowledge(
        LONG_TEXT, tenant_id=TENANT, user_id=USER, external_id="doc-1"
    )
    chunk_count = _count(memory)
    assert chunk_count > 3
    short_id = await memory.store_knowledge(
        "The vault is closed for renovation.", tenant_id=TENANT, user_id=USER, external_id="doc-1"
    )
    assert short_id == long_id
    assert _count(memory) == 1
    hits = await memory.search_knowledge(
        "vault access code", tenant_id=TENANT, user_id=USER, limit=5
    )
    assert [h.content for h in hits] == ["The vault is closed for renovation."]
    assert hits[0].external_id == "doc-1"


async def test_long_text_is_chunked_and_the_right_chunk_is_found(memory: SemanticMemory) -> None:
    knowledge_id = await memory.store_knowledge(LONG_TEXT, tenant_id=TENANT, user_id=USER)
    hits = await memory.search_knowledge(
        "when does the vault access code rotate", tenant_id=TENANT, user_id=USER
    )
    best = hits[0]
    assert "vault access code rotates every Tuesday" in best.content
    assert best.knowledge_id == knowledge_id
    assert best.chunk_count == _count(memory) and 0 < best.chunk_index < best.chunk_count
    assert len(best.content) <= memory.chunk_chars


async def test_public_knowledge_is_shared_within_the_tenant_only(memory: SemanticMemory) -> None:
    await memory.store_knowledge(
        "Public holiday schedule for 2027.", tenant_id=TENANT, user_id=USER, is_public=True
    )
    await memory.store_knowledge("My private holiday plans.", tenant_id=TENANT, user_id=USER)
    await memory.store_knowledge(
        "Other tenant public holidays.", tenant_id=OTHER_TENANT, user_id=USER, is_public=True
    )

    async def seen(user: str, tenant: str, include_public: bool = True) -> set[str]:
        hits = await memory.search_knowledge(
            "holiday", tenant_id=tenant, user_id=user, limit=10, include_public=include_public
        )
        return {h.content for h in hits}

    assert await seen(USER, TENANT) == {
        "Public holiday schedule for 2027.",
        "My private holiday plans.",
    }
    assert await seen(OTHER_USER, TENANT) == {"Public holiday schedule for 2027."}
    assert await seen(OTHER_USER, TENANT, include_public=False) == set()
    assert await seen(USER, OTHER_TENANT) == {"Other tenant public holidays."}
    assert await seen(OTHER_USER, "tenant-c") == set()


async def test_visibility_change_by_restore(memory: SemanticMemory) -> None:
    kid = await memory.store_knowledge(
        "Team lunch on Friday.", tenant_id=TENANT, user_id=USER, is_public=True
    )
    assert len(await memory.search_knowledge("lunch", tenant_id=TENANT, user_id=OTHER_USER)) == 1
    assert (
        await memory.store_knowledge("Team lunch on Friday.", tenant_id=TENANT, user_id=USER) == kid
    )
    assert await memory.search_knowledge("lunch", tenant_id=TENANT, user_id=OTHER_USER) == []


async def test_same_content_from_two_users_is_two_items(memory: SemanticMemory) -> None:
    mine = await memory.store_knowledge("Shared fact.", tenant_id=TENANT, user_id=USER)
    theirs = await memory.store_knowledge("Shared fact.", tenant_id=TENANT, user_id=OTHER_USER)
    assert mine != theirs
    assert [
        h.user_id for h in await memory.search_knowledge("fact", tenant_id=TENANT, user_id=USER)
    ] == [USER]


async def test_search_filters_on_user_metadata(memory: SemanticMemory) -> None:
    await memory.store_knowledge(
        "Python style guide.", tenant_id=TENANT, user_id=USER, metadata={"lang": "en", "v": 2}
    )
    await memory.store_knowledge(
        "Guide de style Python.", tenant_id=TENANT, user_id=USER, metadata={"lang": "fr", "v": 1}
    )
    hits = await memory.search_knowledge(
        "style guide", tenant_id=TENANT, user_id=USER, limit=5, filters={"lang": "fr"}
    )
    assert [h.content for h in hits] == ["Guide de style Python."]
    hits = await memory.search_knowledge(
        "style", tenant_id=TENANT, user_id=USER, limit=5, filters={"v": {"$gte": 2}}
    )
    assert [h.content for h in hits] == ["Python style guide."]


async def test_delete_by_id_only_by_owner(memory: SemanticMemory) -> None:
    kid = await memory.store_knowledge(LONG_TEXT, tenant_id=TENANT, user_id=USER, is_public=True)
    other = await memory.store_knowledge("Keep me.", tenant_id=TENANT, user_id=USER)
    assert await memory.delete_knowledge(kid, tenant_id=TENANT, user_id=OTHER_USER) is False
    assert await memory.delete_knowledge(kid, tenant_id=OTHER_TENANT, user_id=USER) is False
    assert await memory.delete_knowledge(kid, tenant_id=TENANT, user_id=USER) is True
    assert await memory.delete_knowledge(kid, tenant_id=TENANT, user_id=USER) is False
    assert _count(memory) == 1
    assert [
        h.knowledge_id
        for h in await memory.search_knowledge("keep", tenant_id=TENANT, user_id=USER)
    ] == [other]


async def test_delete_everything_of_a_user(memory: SemanticMemory) -> None:
    await memory.store_knowledge(LONG_TEXT, tenant_id=TENANT, user_id=USER)
    await memory.store_knowledge("second", tenant_id=TENANT, user_id=USER, is_public=True)
    await memory.store_knowledge("someone else", tenant_id=TENANT, user_id=OTHER_USER)
    await memory.store_knowledge("other tenant", tenant_id=OTHER_TENANT, user_id=USER)
    assert await memory.delete_user_knowledge(tenant_id=TENANT, user_id=USER) == 2
    assert await memory.delete_user_knowledge(tenant_id=TENANT, user_id=USER) == 0
    assert _count(memory) == 1
    assert _count(memory, OTHER_TENANT) == 1


def test_sync_variants(memory: SemanticMemory) -> None:
    kid = memory.store_knowledge_sync(
        "Mount Everest is 8849 metres high.", tenant_id=TENANT, user_id=USER
    )
    [hit] = memory.search_knowledge_sync(
        "height of everest", tenant_id=TENANT, user_id=USER, limit=3
    )
    assert hit.knowledge_id == kid and hit.score is not None


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"content": ""}, InvalidMemoryInputError),
        ({"content": " \t"}, InvalidMemoryInputError),
        ({"user_id": ""}, ScopeError),
        ({"tenant_id": None}, ScopeError),
        ({"external_id": ""}, InvalidMemoryInputError),
        ({"external_id": "x" * 600}, InvalidMemoryInputError),
        ({"is_public": "yes"}, InvalidMemoryInputError),
        ({"metadata": {"knowledge_id": "forged"}}, InvalidMetadataError),
        ({"metadata": {"is_public": True}}, InvalidMetadataError),
        ({"metadata": {"when": object()}}, InvalidMetadataError),
    ],
)
async def test_bad_store_input_is_typed_and_changes_nothing(
    memory: SemanticMemory, kwargs: dict, error: type[Exception]
) -> None:
    await memory.store_knowledge("kept", tenant_id=TENANT, user_id=USER)
    call = {"content": "new", "user_id": USER, "tenant_id": TENANT}
    with pytest.raises(error):
        await memory.store_knowledge(**{**call, **kwargs})
    assert [
        h.content for h in await memory.search_knowledge("kept new", tenant_id=TENANT, user_id=USER)
    ] == ["kept"]


@pytest.mark.parametrize(
    "filters",
    [
        {"user_id": OTHER_USER},
        {"is_public": True},
        {"$or": [{"is_public": True}, {"lang": "en"}]},
        {"tenant_id": OTHER_TENANT},
        {"lang": {"$like": "%"}},
    ],
)
async def test_filters_cannot_touch_access_fields(memory: SemanticMemory, filters: dict) -> None:
    with pytest.raises(InvalidFilterError):
        await memory.search_knowledge("x", tenant_id=TENANT, user_id=USER, filters=filters)


def test_bad_chunk_settings_are_typed(tmp_path: Path) -> None:
    with pytest.raises(InvalidMemoryInputError):
        SemanticMemory(new_chroma(tmp_path), chunk_chars=50)
    with pytest.raises(InvalidMemoryInputError):
        SemanticMemory(new_chroma(tmp_path), chunk_chars=200, chunk_overlap=150)


class FailingEmbeddings(CountingEmbeddings):
    """Same model id as the offline default, but the provider is down."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise EmbeddingError("provider overloaded")

    def embed_query(self, text: str) -> list[float]:
        raise EmbeddingError("provider overloaded")


async def test_embedding_failure_keeps_the_previous_version(tmp_path: Path) -> None:
    client = new_chroma(tmp_path / "chroma")
    working = SemanticMemory(client, CountingEmbeddings())
    await working.store_knowledge(
        "Version one of the policy.", tenant_id=TENANT, user_id=USER, external_id="policy"
    )
    broken = SemanticMemory(client, FailingEmbeddings())
    with pytest.raises(EmbeddingError):
        await broken.store_knowledge(
            "Version two.", tenant_id=TENANT, user_id=USER, external_id="policy"
        )
    with pytest.raises(EmbeddingError):
        broken.store_knowledge_sync(
            "Version two.", tenant_id=TENANT, user_id=USER, external_id="policy"
        )
    [hit] = await working.search_knowledge("policy version", tenant_id=TENANT, user_id=USER)
    assert hit.content == "Version one of the policy."


def test_chunk_text_respects_size_and_overlap() -> None:
    text = " ".join(f"word{n}" for n in range(2000))
    chunks = chunk_text(text, max_chars=300, overlap=60)
    assert all(len(chunk) <= 300 for chunk in chunks)
    assert len(chunks) > 30
    for previous, current in itertools.pairwise(chunks):
        assert current.split()[0] in previous.split()  # consecutive chunks overlap
    plain = chunk_text(text, max_chars=300, overlap=0)
    assert "".join(plain) == text
    assert chunk_text("short", 300, 60) == ["short"]
    unbroken = "x" * 1000
    assert "".join(chunk_text(unbroken, 300, 0)) == unbroken
    with pytest.raises(InvalidMemoryInputError):
        chunk_text(text, max_chars=100, overlap=100)
    for bad in ({"max_chars": "300"}, {"overlap": -1}, {"max_chars": True}):
        with pytest.raises(InvalidMemoryInputError):
            chunk_text(text, **bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidMemoryInputError):
        chunk_text(["a list"])  # type: ignore[arg-type]


async def test_reads_of_unknown_tenants_create_nothing(memory: SemanticMemory) -> None:
    assert await memory.search_knowledge("anything", tenant_id="never-wrote", user_id=USER) == []
    assert await memory.delete_knowledge("0" * 32, tenant_id="never-wrote", user_id=USER) is False
    assert await memory.delete_user_knowledge(tenant_id="never-wrote", user_id=USER) == 0
    assert memory.client.list_collections() == []


async def test_async_methods_run_chroma_off_the_event_loop(tmp_path: Path) -> None:
    loop_thread = threading.get_ident()
    seen: list[int] = []

    memory = thread_recording(SemanticMemory, new_chroma(tmp_path / "chroma"), seen)
    kid = await memory.store_knowledge("a fact", tenant_id=TENANT, user_id=USER)
    await memory.search_knowledge("fact", tenant_id=TENANT, user_id=USER)
    await memory.delete_knowledge(kid, tenant_id=TENANT, user_id=USER)
    await memory.delete_user_knowledge(tenant_id=TENANT, user_id=USER)
    assert len(seen) >= 5 and loop_thread not in seen
