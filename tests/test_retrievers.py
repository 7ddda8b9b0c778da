"""Episodic and semantic retrievers: langchain-tests standard suite and our options."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_tests.integration_tests import RetrieversIntegrationTests
from longterm_helpers import AGENT, OTHER_USER, TENANT, USER, new_chroma

from soorma_lc.config import Settings
from soorma_lc.errors import InvalidFilterError, InvalidMemoryInputError, ScopeError
from soorma_lc.memory.episodic import EpisodicMemory
from soorma_lc.memory.retrievers import (
    EpisodicRetriever,
    SemanticRetriever,
    episodic_retriever,
    semantic_retriever,
)
from soorma_lc.memory.semantic import SemanticMemory

TRIP_NOTES = [
    "Book the train to Vienna for the conference.",
    "The conference hotel in Vienna is near the opera.",
    "Vienna trip budget is 900 euros.",
    "Remember to pack the conference badge for Vienna.",
    "Weekly grocery list: apples, bread, milk.",
]


class TestEpisodicRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _memory(self, tmp_path: Path) -> None:
        self.memory = EpisodicMemory(new_chroma(tmp_path / "chroma"))
        for note in TRIP_NOTES:
            self.memory.log_interaction_sync(AGENT, "user", note, tenant_id=TENANT, user_id=USER)

    @property
    def retriever_constructor(self) -> type[EpisodicRetriever]:
        return EpisodicRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"memory": self.memory, "agent_id": AGENT, "user_id": USER, "tenant_id": TENANT}

    @property
    def retriever_query_example(self) -> str:
        return "Vienna conference"


class TestSemanticRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _memory(self, tmp_path: Path) -> None:
        self.memory = SemanticMemory(new_chroma(tmp_path / "chroma"))
        for note in TRIP_NOTES:
            self.memory.store_knowledge_sync(note, tenant_id=TENANT, user_id=USER)

    @property
    def retriever_constructor(self) -> type[SemanticRetriever]:
        return SemanticRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"memory": self.memory, "user_id": USER, "tenant_id": TENANT}

    @property
    def retriever_query_example(self) -> str:
        return "Vienna conference"


@pytest.fixture
def episodic(tmp_path: Path) -> EpisodicMemory:
    return EpisodicMemory(new_chroma(tmp_path / "episodic"))


@pytest.fixture
def semantic(tmp_path: Path) -> SemanticMemory:
    return SemanticMemory(new_chroma(tmp_path / "semantic"))


async def test_episodic_documents_carry_scores_and_metadata(episodic: EpisodicMemory) -> None:
    await episodic.log_interaction(
        AGENT, "user", "book a table for two", tenant_id=TENANT, user_id=USER, metadata={"p": 1}
    )
    retriever = EpisodicRetriever(memory=episodic, agent_id=AGENT, tenant_id=TENANT, user_id=USER)
    [document] = await retriever.ainvoke("table reservation")
    assert isinstance(document, Document)
    assert document.page_content == "book a table for two"
    assert document.metadata["p"] == 1
    assert document.metadata["role"] == "user"
    assert document.metadata["score"] == document.metadata["similarity"] > 0
    assert document.id == document.metadata["id"]


async def test_episodic_filters_threshold_and_invoke_overrides(episodic: EpisodicMemory) -> None:
    for n, note in enumerate(TRIP_NOTES):
        role = "user" if n % 2 == 0 else "assistant"
        await episodic.log_interaction(
            AGENT, role, note, tenant_id=TENANT, user_id=USER, metadata={"plan_id": f"p{n % 2}"}
        )
    retriever = episodic_retriever(
        AGENT, episodic, tenant_id=TENANT, user_id=USER, k=5, filters={"role": "assistant"}
    )
    docs = await retriever.ainvoke("Vienna")
    assert {d.page_content for d in docs} == {TRIP_NOTES[1], TRIP_NOTES[3]}
    overridden = retriever.invoke("Vienna", filters={"plan_id": "p0"}, k=2)
    assert len(overridden) == 2 and all(d.metadata["plan_id"] == "p0" for d in overridden)

    strict = episodic_retriever(
        AGENT, episodic, tenant_id=TENANT, user_id=USER, k=5, score_threshold=0.3
    )
    strict_docs = strict.invoke("grocery list apples bread milk")
    assert [d.page_content for d in strict_docs] == [TRIP_NOTES[4]]
    assert strict.invoke("grocery list", score_threshold=0.99) == []


async def test_recency_weight_prefers_fresh_interactions(
    episodic: EpisodicMemory, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = time.time_ns()
    monkeypatch.setattr(time, "time_ns", lambda: now - 30 * 86_400 * 10**9)
    await episodic.log_interaction(
        AGENT, "user", "deploy the billing service today", tenant_id=TENANT, user_id=USER
    )
    monkeypatch.setattr(time, "time_ns", lambda: now)
    await episodic.log_interaction(
        AGENT, "user", "deploy the billing service", tenant_id=TENANT, user_id=USER
    )
    await episodic.log_interaction(
        AGENT, "user", "unrelated cooking recipe", tenant_id=TENANT, user_id=USER
    )

    query = "deploy the billing service today"
    plain = episodic_retriever(AGENT, episodic, tenant_id=TENANT, user_id=USER, k=2)
    assert plain.invoke(query)[0].page_content == "deploy the billing service today"
    fresh = episodic_retriever(
        AGENT,
        episodic,
        tenant_id=TENANT,
        user_id=USER,
        k=2,
        recency_weight=0.5,
        recency_half_life=3600.0,
    )
    docs = await fresh.ainvoke(query)
    assert docs[0].page_content == "deploy the billing service"
    assert docs[0].metadata["score"] > docs[1].metadata["score"]
    assert docs[0].metadata["score"] != docs[0].metadata["similarity"]


async def test_semantic_retriever_public_and_private(semantic: SemanticMemory) -> None:
    await semantic.store_knowledge(
        "Public: office closes at 6pm.", tenant_id=TENANT, user_id=OTHER_USER, is_public=True
    )
    await semantic.store_knowledge(
        "Private: my office key is blue.", tenant_id=TENANT, user_id=USER
    )
    await semantic.store_knowledge(
        "Private: their office desk.", tenant_id=TENANT, user_id=OTHER_USER
    )
    everyone = semantic_retriever(semantic, tenant_id=TENANT, user_id=USER, k=5)
    contents = {d.page_content for d in await everyone.ainvoke("office")}
    assert contents == {"Public: office closes at 6pm.", "Private: my office key is blue."}
    own = semantic_retriever(semantic, tenant_id=TENANT, user_id=USER, include_public=False)
    [doc] = own.invoke("office")
    assert doc.page_content == "Private: my office key is blue."
    assert doc.metadata["knowledge_id"] and doc.metadata["is_public"] is False


def test_factories_build_the_memory_from_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    memory = EpisodicMemory.from_settings(settings)
    memory.log_interaction_sync(
        AGENT, "user", "configured via settings", tenant_id="t-set", user_id="u-set"
    )
    retriever = episodic_retriever(AGENT, settings=settings, tenant_id="t-set", user_id="u-set")
    assert (retriever.tenant_id, retriever.user_id) == ("t-set", "u-set")
    assert [d.page_content for d in retriever.invoke("settings")] == ["configured via settings"]
    knowledge = semantic_retriever(settings=settings, tenant_id="t-set", user_id="u-set")
    assert knowledge.invoke("settings") == []


@pytest.mark.parametrize(("tenant", "user"), [("", USER), (TENANT, None), ("  ", USER)])
def test_factories_refuse_a_missing_scope(
    episodic: EpisodicMemory, semantic: SemanticMemory, tenant: Any, user: Any
) -> None:
    with pytest.raises(ScopeError):
        episodic_retriever(AGENT, episodic, tenant_id=tenant, user_id=user)
    with pytest.raises(ScopeError):
        semantic_retriever(semantic, tenant_id=tenant, user_id=user)
    with pytest.raises(ScopeError):
        EpisodicRetriever(memory=episodic, agent_id=AGENT, tenant_id=tenant, user_id=user)


@pytest.mark.parametrize(
    "options",
    [{"k": 0}, {"k": 5000}, {"score_threshold": 2.0}, {"recency_weight": 1.5}, {"unknown": 1}],
)
def test_bad_retriever_options_are_typed(episodic: EpisodicMemory, options: dict) -> None:
    with pytest.raises(InvalidMemoryInputError):
        episodic_retriever(AGENT, episodic, tenant_id=TENANT, user_id=USER, **options)


def test_bad_invoke_overrides_are_typed(episodic: EpisodicMemory, semantic: SemanticMemory) -> None:
    retriever = episodic_retriever(AGENT, episodic, tenant_id=TENANT, user_id=USER)
    with pytest.raises(InvalidMemoryInputError, match="unknown retriever option"):
        retriever.invoke("x", top_k=3)
    with pytest.raises(InvalidMemoryInputError):
        retriever.invoke("x", k=0)
    with pytest.raises(InvalidFilterError):
        retriever.invoke("x", filters={"tenant_id": "other"})
    knowledge = semantic_retriever(semantic, tenant_id=TENANT, user_id=USER)
    with pytest.raises(InvalidFilterError):
        knowledge.invoke("x", filters={"$or": [{"is_public": True}, {"a": 1}]})
