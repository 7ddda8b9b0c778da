"""Episodic and semantic memory refuse what Chroma would store wrongly or choke on.

The worst of these was silent: one record with a few thousand metadata keys (or list items)
made Chroma's compaction fail for the whole collection, so every later read and write of the
tenant's memory failed too. Each limit is a typed error raised before Chroma is called, and the
tenant's memory keeps working after it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from longterm_helpers import AGENT, TENANT, USER, new_chroma

from soorma_lc.backends.chroma import chroma_call, http_chroma_client
from soorma_lc.errors import (
    BackendResponseError,
    ConfigurationError,
    InvalidFilterError,
    InvalidMemoryInputError,
    InvalidMetadataError,
)
from soorma_lc.memory.chroma_filters import (
    MAX_FILTER_CLAUSES,
    MAX_FILTER_DEPTH,
    MAX_FILTER_VALUES,
    MAX_METADATA_BYTES,
    MAX_METADATA_KEYS,
    MAX_METADATA_LIST,
)
from soorma_lc.memory.chroma_memory import MAX_CONTENT_BYTES
from soorma_lc.memory.episodic import EpisodicMemory
from soorma_lc.memory.retrievers import episodic_retriever, semantic_retriever
from soorma_lc.memory.semantic import SemanticMemory

SCOPE = {"tenant_id": TENANT, "user_id": USER}


@pytest.fixture
def chroma(tmp_path: Path) -> Any:
    return new_chroma(tmp_path / "chroma")


def _nested(depth: int) -> dict[str, Any]:
    where: dict[str, Any] = {"role": "user"}
    for _ in range(depth):
        where = {"$and": [where, {"role": "user"}]}
    return where


BAD_METADATA = {
    "too-many-keys": {f"k{i}": i for i in range(MAX_METADATA_KEYS + 1)},
    "thousands-of-keys": {f"k{i}": i for i in range(8000)},
    "long-list": {"k": list(range(MAX_METADATA_LIST + 1))},
    "huge-list": {"k": list(range(30_000))},
    "too-many-bytes": {"k": "x" * (MAX_METADATA_BYTES + 1)},
    "long-key": {"k" * 129: 1},
    "surrogate-value": {"k": "\ud800"},
    "surrogate-key": {"\udfff": 1},
    "nul-value": {"k": "a\0b"},
    "control-key": {"a\nb": 1},
}


@pytest.mark.parametrize("metadata", BAD_METADATA.values(), ids=BAD_METADATA.keys())
def test_metadata_over_the_limits_is_refused_and_memory_keeps_working(
    chroma: Any, metadata: dict[str, Any]
) -> None:
    episodic, semantic = EpisodicMemory(chroma), SemanticMemory(chroma)
    episodic.log_interaction_sync(AGENT, "user", "before", **SCOPE)
    with pytest.raises(InvalidMetadataError):
        episodic.log_interaction_sync(AGENT, "user", "hello", metadata=metadata, **SCOPE)
    with pytest.raises(InvalidMetadataError):
        semantic.store_knowledge_sync("a fact", metadata=metadata, **SCOPE)
    episodic.log_interaction_sync(AGENT, "user", "after", **SCOPE)
    recent = episodic.get_recent_history_sync(AGENT, **SCOPE)
    assert [i.content for i in recent] == ["before", "after"]
    assert semantic.search_knowledge_sync("fact", **SCOPE) == []


BAD_TEXT = {
    "surrogate": "he\ud800llo",
    "nul": "a\0b",
    "over-limit": "x" * (MAX_CONTENT_BYTES + 1),
    "over-limit-in-bytes": "é" * (MAX_CONTENT_BYTES // 2 + 1),
    "blank": " \n\t",
    "bytes": b"hello",
}


@pytest.mark.parametrize("text", BAD_TEXT.values(), ids=BAD_TEXT.keys())
async def test_bad_text_is_refused_everywhere(chroma: Any, text: Any) -> None:
    episodic, semantic = EpisodicMemory(chroma), SemanticMemory(chroma)
    with pytest.raises(InvalidMemoryInputError):
        await episodic.log_interaction(AGENT, "user", text, **SCOPE)
    with pytest.raises(InvalidMemoryInputError):
        await episodic.search_interactions(AGENT, text, **SCOPE)
    with pytest.raises(InvalidMemoryInputError):
        await semantic.store_knowledge(text, **SCOPE)
    with pytest.raises(InvalidMemoryInputError):
        await semantic.search_knowledge(text, **SCOPE)
    with pytest.raises(InvalidMemoryInputError):
        semantic_retriever(semantic, **SCOPE).invoke(text)
    assert chroma.list_collections() == []


BAD_FILTERS = {
    "deep": _nested(MAX_FILTER_DEPTH + 1),
    "very-deep": _nested(5000),
    "many-clauses": {"$or": [{"n": i} for i in range(MAX_FILTER_CLAUSES + 1)]},
    "many-values": {"n": {"$in": list(range(MAX_FILTER_VALUES + 1))}},
    "many-values-spread": {"$and": [{"n": {"$in": list(range(999))}} for _ in range(40)]},
    "surrogate": {"role": "\ud800"},
    "surrogate-field": {"\ud800": "x"},
    "not-a-mapping": [1],
    "a-string": "role",
}


@pytest.mark.parametrize("filters", BAD_FILTERS.values(), ids=BAD_FILTERS.keys())
def test_filters_over_the_limits_are_refused(chroma: Any, filters: Any) -> None:
    episodic, semantic = EpisodicMemory(chroma), SemanticMemory(chroma)
    episodic.log_interaction_sync(AGENT, "user", "hello", **SCOPE)
    with pytest.raises(InvalidFilterError):
        episodic.search_interactions_sync(AGENT, "hello", filters=filters, **SCOPE)
    with pytest.raises(InvalidFilterError):
        semantic.search_knowledge_sync("hello", filters=filters, **SCOPE)
    with pytest.raises(InvalidFilterError):
        episodic_retriever(AGENT, episodic, filters=filters, **SCOPE)


def test_filters_inside_the_limits_reach_chroma(chroma: Any) -> None:
    episodic = EpisodicMemory(chroma)
    episodic.log_interaction_sync(AGENT, "user", "hello", metadata={"n": 1}, **SCOPE)
    filters = {
        "$and": [
            _nested(MAX_FILTER_DEPTH - 2),
            {"n": {"$in": list(range(MAX_FILTER_VALUES - MAX_FILTER_CLAUSES))}},
            {"$or": [{"n": i} for i in range(MAX_FILTER_CLAUSES - MAX_FILTER_DEPTH)]},
        ]
    }
    found = episodic.search_interactions_sync(AGENT, "hello", filters=filters, **SCOPE)
    assert [i.content for i in found] == ["hello"]


def test_long_knowledge_past_the_batch_limit_is_refused_whole(chroma: Any) -> None:
    semantic = SemanticMemory(chroma, chunk_chars=100, chunk_overlap=0)
    text = " ".join(f"word{i}" for i in range(150_000))[: MAX_CONTENT_BYTES - 1]
    with pytest.raises(InvalidMemoryInputError, match="batch limit"):
        semantic.store_knowledge_sync(text, **SCOPE)
    assert chroma.list_collections() == []


@pytest.mark.parametrize(
    ("option", "value"),
    [("is_public", "yes"), ("is_public", 1), ("external_id", "x" * 513), ("external_id", "")],
)
def test_store_options_have_strict_types(chroma: Any, option: str, value: Any) -> None:
    with pytest.raises(InvalidMemoryInputError):
        SemanticMemory(chroma).store_knowledge_sync("fact", **SCOPE, **{option: value})


def test_include_public_must_be_a_bool(chroma: Any) -> None:
    with pytest.raises(InvalidMemoryInputError):
        SemanticMemory(chroma).search_knowledge_sync("fact", include_public="no", **SCOPE)


@pytest.mark.parametrize(
    "options",
    [
        {"k": "3"},
        {"k": 3.0},
        {"score_threshold": "0.5"},
        {"score_threshold": float("nan")},
        {"recency_weight": float("inf")},
        {"agent_id": "a\0"},
    ],
)
def test_retriever_options_are_strict(chroma: Any, options: dict[str, Any]) -> None:
    memory = EpisodicMemory(chroma)
    with pytest.raises(InvalidMemoryInputError):
        episodic_retriever(options.pop("agent_id", AGENT), memory, **SCOPE, **options)


@pytest.mark.parametrize("threshold", ["0.5", float("nan"), 2.0, True])
def test_invoke_overrides_are_strict(chroma: Any, threshold: Any) -> None:
    retriever = semantic_retriever(SemanticMemory(chroma), **SCOPE)
    with pytest.raises(InvalidMemoryInputError):
        retriever.invoke("fact", score_threshold=threshold)


@pytest.mark.parametrize(
    "build",
    [
        lambda: EpisodicMemory("not a client"),  # type: ignore[arg-type]
        lambda: SemanticMemory(None),  # type: ignore[arg-type]
        lambda: http_chroma_client(8000),  # type: ignore[arg-type]
        lambda: http_chroma_client("http://localhost:99999"),
    ],
)
def test_unusable_clients_are_configuration_errors(build: Any) -> None:
    with pytest.raises(ConfigurationError):
        build()


def test_chroma_refusals_are_backend_response_errors(chroma: Any) -> None:
    @chroma_call
    def bad_name() -> Any:
        return chroma.get_or_create_collection("x")  # Chroma wants 3-512 characters

    with pytest.raises(BackendResponseError, match="Chroma refused"):
        bad_name()
