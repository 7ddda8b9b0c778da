"""Hostile inputs against episodic and semantic memory, their retrievers, the embeddings and
the Chroma client helpers (issue 15).

Every public entry point is driven by hypothesis against a real embedded Chroma seeded with
interactions and knowledge of two users. Each call must succeed or raise a ``SoormaError``
within the hang guard, and leave every Chroma collection as it was when it fails (see
``hostile_helpers``).
"""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from longterm_helpers import new_chroma

from soorma_lc.backends.chroma import http_chroma_client
from soorma_lc.backends.embeddings import (
    HashingEmbeddings,
    LiteLLMEmbeddings,
    embedding_model_id,
    resolve_embeddings,
)
from soorma_lc.memory.episodic import EpisodicMemory
from soorma_lc.memory.retrievers import (
    EpisodicRetriever,
    SemanticRetriever,
    episodic_retriever,
    semantic_retriever,
)
from soorma_lc.memory.semantic import SemanticMemory
from tests.hostile_helpers import (
    EntryPoint,
    Slot,
    anything,
    chroma_state,
    counts,
    entry,
    hostile_scalars,
    hostile_settings,
    ids,
    mappings,
    optional,
    probe_entry_point,
    sequences,
)

AGENTS = ("a1", "a2")
TENANTS = ("t1", "t2")
USERS = ("u1", "u2")
ROLES = ("user", "assistant")
WORDS = ("budget", "hotel", "flight", "meeting", "price")


@dataclass
class World:
    chroma: Any
    episodic: EpisodicMemory
    semantic: SemanticMemory
    loop: asyncio.AbstractEventLoop

    def memory(self, choice: Any) -> Any:
        if choice == "<episodic>":
            return self.episodic
        return self.semantic if choice == "<semantic>" else choice

    def client(self, choice: Any) -> Any:
        return self.chroma if choice == "<chroma>" else choice


@pytest.fixture
def world(tmp_path: Path, loop: asyncio.AbstractEventLoop) -> World:
    chroma = new_chroma(tmp_path / "chroma")
    episodic, semantic = EpisodicMemory(chroma), SemanticMemory(chroma)
    for user in USERS:
        scope = {"tenant_id": "t1", "user_id": user}
        episodic.log_interactions_sync(
            "a1",
            [("user", f"my {word} question", {"n": n}) for n, word in enumerate(WORDS)],
            **scope,
        )
        semantic.store_knowledge_sync("Hotels cost up to 180 EUR a night", **scope)
        semantic.store_knowledge_sync(
            "Flights are booked in economy", external_id="policy", is_public=True, **scope
        )
    return World(chroma, episodic, semantic, loop)


def _nest(depth: int) -> dict[str, Any]:
    where: dict[str, Any] = {"role": "user"}
    for _ in range(depth):
        where = {"$and": [where, {"role": "user"}]}
    return where


SCOPE = {"tenant": ids(*TENANTS), "user": ids(*USERS)}
TEXT = Slot(st.builds(" ".join, st.lists(st.sampled_from(WORDS), min_size=1, max_size=4)), anything)
METADATA = optional(
    mappings(
        Slot(
            st.one_of(
                st.text(max_size=8),
                st.integers(-5, 5),
                st.booleans(),
                st.lists(st.integers(), min_size=1, max_size=3),
            ),
            st.one_of(anything, st.lists(anything, min_size=1, max_size=2)),
        )
    )
)
FILTERS = optional(
    Slot(
        st.one_of(
            st.builds(lambda role: {"role": role}, st.sampled_from(ROLES)),
            st.builds(lambda n: {"n": {"$gte": n}}, st.integers(0, 4)),
            st.just({"$or": [{"role": "user"}, {"n": {"$in": [1, 2]}}]}),
        ),
        st.one_of(
            anything,
            st.dictionaries(st.text(max_size=6), anything, min_size=1, max_size=2),
            st.builds(
                lambda op, v: {"n": {op: v}}, st.sampled_from(["$in", "$gt", "$regex"]), anything
            ),
            st.builds(lambda key: {key: "x"}, st.sampled_from(["tenant_id", "user_id", "$not"])),
            st.integers(17, 5000).map(lambda depth: _nest(depth)),
        ),
    )
)
LIMIT = counts(1, 5, 1000)
TURN = Slot(
    st.tuples(st.sampled_from(ROLES), TEXT.valid),
    st.one_of(
        anything,
        st.tuples(anything, TEXT.valid),
        st.tuples(st.sampled_from(ROLES), anything),
        st.tuples(st.sampled_from(ROLES), TEXT.valid, METADATA.hostile),
    ),
)


def _scope(tenant: Any, user: Any) -> dict[str, Any]:
    return {"tenant_id": tenant, "user_id": user}


EMBEDDINGS = Slot(
    st.one_of(st.none(), st.just("offline"), st.builds(HashingEmbeddings, st.just(64))),
    st.one_of(hostile_scalars, st.just("local-typo/model ")),
)
RETRIEVER_OPTIONS = Slot(
    st.fixed_dictionaries(
        {},
        optional={
            "k": st.integers(1, 10),
            "score_threshold": st.floats(-1, 1),
            "filters": FILTERS.valid,
        },
    ),
    st.one_of(
        st.dictionaries(
            st.sampled_from(["k", "score_threshold", "filters", "recency_weight", "bogus"]),
            anything,
            min_size=1,
            max_size=2,
        ),
    ),
)


def _episodic_retriever(w: World, agent: Any, tenant: Any, user: Any, options: Any) -> Any:
    return episodic_retriever(agent, w.episodic, **_scope(tenant, user), **options)


def _semantic_retriever(w: World, tenant: Any, user: Any, options: Any) -> Any:
    return semantic_retriever(w.semantic, **_scope(tenant, user), **options)


ENTRY_POINTS: list[EntryPoint] = [
    entry(
        "EpisodicMemory()",
        lambda w, client, embeddings: EpisodicMemory(w.client(client), embeddings),
        client=Slot(st.just("<chroma>"), anything),
        embeddings=EMBEDDINGS,
    ),
    entry(
        "SemanticMemory()",
        lambda w, client, chunk, overlap: SemanticMemory(
            w.client(client), "offline", chunk_chars=chunk, chunk_overlap=overlap
        ),
        client=Slot(st.just("<chroma>"), anything),
        chunk=counts(100, 1000),
        overlap=counts(0, 40),
    ),
    entry(
        "EpisodicMemory.collection_name",
        lambda w, tenant: w.episodic.collection_name(tenant_id=tenant),
        tenant=ids(*TENANTS),
    ),
    entry(
        "EpisodicMemory.check_filters",
        lambda w, filters: w.episodic.check_filters(filters),
        filters=FILTERS,
    ),
    entry(
        "EpisodicMemory.log_interaction_sync",
        lambda w, agent, role, content, tenant, user, metadata, key: (
            w.episodic.log_interaction_sync(
                agent, role, content, **_scope(tenant, user), metadata=metadata, key=key
            )
        ),
        agent=ids(*AGENTS),
        role=ids(*ROLES),
        content=TEXT,
        metadata=METADATA,
        key=optional(ids("m-1", "m-2")),
        **SCOPE,
    ),
    entry(
        "EpisodicMemory.log_interaction",
        lambda w, agent, role, content, tenant, user: w.episodic.log_interaction(
            agent, role, content, **_scope(tenant, user)
        ),
        agent=ids(*AGENTS),
        role=ids(*ROLES),
        content=TEXT,
        **SCOPE,
    ),
    entry(
        "EpisodicMemory.log_interactions_sync",
        lambda w, agent, turns, tenant, user, keys: w.episodic.log_interactions_sync(
            agent, turns, **_scope(tenant, user), keys=keys
        ),
        agent=ids(*AGENTS),
        turns=sequences(TURN),
        keys=Slot(
            st.none(), sequences(optional(ids("m-1", "m-2"))).valid | sequences(ids("m-1")).hostile
        ),
        **SCOPE,
    ),
    entry(
        "EpisodicMemory.log_interactions",
        lambda w, agent, turns, tenant, user: w.episodic.log_interactions(
            agent, turns, **_scope(tenant, user)
        ),
        agent=ids(*AGENTS),
        turns=sequences(TURN),
        **SCOPE,
    ),
    entry(
        "EpisodicMemory.get_recent_history_sync",
        lambda w, agent, tenant, user, limit: w.episodic.get_recent_history_sync(
            agent, **_scope(tenant, user), limit=limit
        ),
        agent=ids(*AGENTS),
        limit=LIMIT,
        **SCOPE,
    ),
    entry(
        "EpisodicMemory.get_recent_history",
        lambda w, agent, tenant, user, limit: w.episodic.get_recent_history(
            agent, **_scope(tenant, user), limit=limit
        ),
        agent=ids(*AGENTS),
        limit=LIMIT,
        **SCOPE,
    ),
    entry(
        "EpisodicMemory.search_interactions_sync",
        lambda w, agent, query, tenant, user, limit, filters: w.episodic.search_interactions_sync(
            agent, query, **_scope(tenant, user), limit=limit, filters=filters
        ),
        agent=ids(*AGENTS),
        query=TEXT,
        limit=LIMIT,
        filters=FILTERS,
        **SCOPE,
    ),
    entry(
        "EpisodicMemory.search_interactions",
        lambda w, agent, query, tenant, user, filters: w.episodic.search_interactions(
            agent, query, **_scope(tenant, user), filters=filters
        ),
        agent=ids(*AGENTS),
        query=TEXT,
        filters=FILTERS,
        **SCOPE,
    ),
    entry(
        "EpisodicMemory.delete_interactions_sync",
        lambda w, tenant, user, agent: w.episodic.delete_interactions_sync(
            **_scope(tenant, user), agent_id=agent
        ),
        agent=optional(ids("a2")),
        tenant=ids("t2"),
        user=ids(*USERS),
    ),
    entry(
        "EpisodicMemory.delete_interactions",
        lambda w, tenant, user, agent: w.episodic.delete_interactions(
            **_scope(tenant, user), agent_id=agent
        ),
        agent=optional(ids("a2")),
        tenant=ids("t2"),
        user=ids(*USERS),
    ),
    entry(
        "SemanticMemory.check_filters",
        lambda w, filters: w.semantic.check_filters(filters),
        filters=FILTERS,
    ),
    entry(
        "SemanticMemory.collection_name",
        lambda w, tenant: w.semantic.collection_name(tenant_id=tenant),
        tenant=ids(*TENANTS),
    ),
    entry(
        "SemanticMemory.store_knowledge_sync",
        lambda w, content, tenant, user, metadata, external, public: (
            w.semantic.store_knowledge_sync(
                content,
                **_scope(tenant, user),
                metadata=metadata,
                external_id=external,
                is_public=public,
            )
        ),
        content=TEXT,
        metadata=METADATA,
        external=optional(ids("policy", "doc-2")),
        public=Slot(st.booleans(), anything),
        **SCOPE,
    ),
    entry(
        "SemanticMemory.store_knowledge",
        lambda w, content, tenant, user, external: w.semantic.store_knowledge(
            content, **_scope(tenant, user), external_id=external
        ),
        content=TEXT,
        external=optional(ids("policy", "doc-2")),
        **SCOPE,
    ),
    entry(
        "SemanticMemory.search_knowledge_sync",
        lambda w, query, tenant, user, limit, public, filters: w.semantic.search_knowledge_sync(
            query, **_scope(tenant, user), limit=limit, include_public=public, filters=filters
        ),
        query=TEXT,
        limit=LIMIT,
        public=Slot(st.booleans(), anything),
        filters=FILTERS,
        **SCOPE,
    ),
    entry(
        "SemanticMemory.search_knowledge",
        lambda w, query, tenant, user, filters: w.semantic.search_knowledge(
            query, **_scope(tenant, user), filters=filters
        ),
        query=TEXT,
        filters=FILTERS,
        **SCOPE,
    ),
    entry(
        "SemanticMemory.delete_knowledge_sync",
        lambda w, knowledge, tenant, user: w.semantic.delete_knowledge_sync(
            knowledge, **_scope(tenant, user)
        ),
        knowledge=ids("0" * 32, "missing"),
        **SCOPE,
    ),
    entry(
        "SemanticMemory.delete_knowledge",
        lambda w, knowledge, tenant, user: w.semantic.delete_knowledge(
            knowledge, **_scope(tenant, user)
        ),
        knowledge=ids("0" * 32, "missing"),
        **SCOPE,
    ),
    entry(
        "SemanticMemory.delete_user_knowledge_sync",
        lambda w, tenant, user: w.semantic.delete_user_knowledge_sync(**_scope(tenant, user)),
        tenant=ids("t2"),
        user=ids(*USERS),
    ),
    entry(
        "SemanticMemory.delete_user_knowledge",
        lambda w, tenant, user: w.semantic.delete_user_knowledge(**_scope(tenant, user)),
        tenant=ids("t2"),
        user=ids(*USERS),
    ),
    entry(
        "episodic_retriever",
        _episodic_retriever,
        agent=ids(*AGENTS),
        options=RETRIEVER_OPTIONS,
        **SCOPE,
    ),
    entry(
        "semantic_retriever",
        _semantic_retriever,
        options=RETRIEVER_OPTIONS,
        **SCOPE,
    ),
    entry(
        "EpisodicRetriever()",
        lambda w, memory, agent, tenant, user: EpisodicRetriever(
            memory=w.memory(memory), agent_id=agent, **_scope(tenant, user)
        ),
        memory=Slot(st.just("<episodic>"), st.one_of(st.just("<semantic>"), anything)),
        agent=ids(*AGENTS),
        **SCOPE,
    ),
    entry(
        "SemanticRetriever()",
        lambda w, memory, tenant, user, public: SemanticRetriever(
            memory=w.memory(memory), include_public=public, **_scope(tenant, user)
        ),
        memory=Slot(st.just("<semantic>"), st.one_of(st.just("<episodic>"), anything)),
        public=Slot(st.booleans(), anything),
        **SCOPE,
    ),
    entry(
        "EpisodicRetriever.invoke",
        lambda w, query, overrides: _episodic_retriever(w, "a1", "t1", "u1", {}).invoke(
            query, **overrides
        ),
        query=TEXT,
        overrides=RETRIEVER_OPTIONS,
    ),
    entry(
        "EpisodicRetriever.ainvoke",
        lambda w, query, overrides: _episodic_retriever(w, "a1", "t1", "u1", {}).ainvoke(
            query, **overrides
        ),
        query=TEXT,
        overrides=RETRIEVER_OPTIONS,
    ),
    entry(
        "SemanticRetriever.invoke",
        lambda w, query, overrides: _semantic_retriever(w, "t1", "u1", {}).invoke(
            query, **overrides
        ),
        query=TEXT,
        overrides=RETRIEVER_OPTIONS,
    ),
    entry(
        "SemanticRetriever.ainvoke",
        lambda w, query, overrides: _semantic_retriever(w, "t1", "u1", {}).ainvoke(
            query, **overrides
        ),
        query=TEXT,
        overrides=RETRIEVER_OPTIONS,
    ),
    entry(
        "HashingEmbeddings()",
        lambda w, dimensions: HashingEmbeddings(dimensions),
        dimensions=counts(64, 512),
    ),
    entry(
        "HashingEmbeddings.embed_documents",
        lambda w, texts: HashingEmbeddings(64).embed_documents(texts),
        texts=sequences(TEXT),
    ),
    entry(
        "HashingEmbeddings.embed_query",
        lambda w, text: HashingEmbeddings(64).embed_query(text),
        text=TEXT,
    ),
    entry(
        "HashingEmbeddings.aembed_documents",
        lambda w, texts: HashingEmbeddings(64).aembed_documents(texts),
        texts=sequences(TEXT),
    ),
    entry(
        "HashingEmbeddings.aembed_query",
        lambda w, text: HashingEmbeddings(64).aembed_query(text),
        text=TEXT,
    ),
    entry(
        "LiteLLMEmbeddings()",
        lambda w, model, batch: LiteLLMEmbeddings(model, batch_size=batch),
        model=ids("openai/text-embedding-3-small"),
        batch=counts(1, 128),
    ),
    entry(
        "LiteLLMEmbeddings.embed_documents (input checks)",
        lambda w, texts: LiteLLMEmbeddings("openai/x").embed_documents(texts),
        texts=Slot(st.just([]), sequences(TEXT).hostile),
    ),
    entry(
        "resolve_embeddings",
        lambda w, spec: resolve_embeddings(spec),
        spec=EMBEDDINGS,
    ),
    entry(
        "embedding_model_id",
        lambda w, embeddings: embedding_model_id(embeddings),
        embeddings=Slot(st.builds(HashingEmbeddings, st.just(64)), anything),
    ),
    entry(
        "http_chroma_client",
        lambda w, url: http_chroma_client(url, retry_timeout=0),
        url=Slot(st.just("http://127.0.0.1:1"), st.one_of(anything, st.just("http://h:99999"))),
    ),
]


@hostile_settings(10)
@pytest.mark.parametrize("entry_point", ENTRY_POINTS, ids=str)
@given(data=st.data())
def test_hostile_arguments(world: World, entry_point: EntryPoint, data: st.DataObject) -> None:
    probe_entry_point(entry_point, world, data, lambda: chroma_state(world.chroma), world.loop)


def test_every_public_entry_point_is_probed() -> None:
    probed = {e.name.split(" ")[0] for e in ENTRY_POINTS}
    for cls in (EpisodicMemory, SemanticMemory):
        for name, _ in inspect.getmembers(cls, inspect.isfunction):
            if not name.startswith("_") and name != "from_settings":
                assert f"{cls.__name__}.{name}" in probed, f"{cls.__name__}.{name} is not probed"
    for retriever in ("EpisodicRetriever", "SemanticRetriever"):
        assert {f"{retriever}()", f"{retriever}.invoke", f"{retriever}.ainvoke"} <= probed
    embeddings = {"embed_documents", "embed_query", "aembed_documents", "aembed_query"}
    assert {f"HashingEmbeddings.{name}" for name in embeddings} <= probed
    assert {
        "episodic_retriever",
        "semantic_retriever",
        "LiteLLMEmbeddings()",
        "resolve_embeddings",
        "embedding_model_id",
        "http_chroma_client",
    } <= probed
