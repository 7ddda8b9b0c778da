"""EpisodicMemory on a real embedded Chroma: logging, recency, search, filters, errors."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from longterm_helpers import (
    AGENT,
    OTHER_AGENT,
    OTHER_TENANT,
    OTHER_USER,
    TENANT,
    USER,
    new_chroma,
    thread_recording,
)

from soorma_lc.backends.embeddings import HashingEmbeddings
from soorma_lc.config import Settings
from soorma_lc.errors import (
    EmbeddingModelMismatchError,
    InvalidFilterError,
    InvalidMemoryInputError,
    InvalidMetadataError,
    ScopeError,
)
from soorma_lc.memory.episodic import EpisodicMemory

DAY_NS = 86_400 * 10**9


@pytest.fixture
def memory(tmp_path: Path) -> EpisodicMemory:
    return EpisodicMemory(new_chroma(tmp_path / "chroma"))


def _count(memory: EpisodicMemory, tenant: str = TENANT) -> int:
    return memory._collection(tenant).count()


async def test_recent_history_is_exact_recency_order_oldest_first(memory: EpisodicMemory) -> None:
    for n in range(25):
        role = "user" if n % 2 == 0 else "assistant"
        await memory.log_interaction(
            AGENT, role, f"message {n}", tenant_id=TENANT, user_id=USER, metadata={"n": n}
        )
    recent = await memory.get_recent_history(AGENT, tenant_id=TENANT, user_id=USER, limit=10)
    assert [i.content for i in recent] == [f"message {n}" for n in range(15, 25)]
    assert [i.metadata["n"] for i in recent] == list(range(15, 25))
    assert [i.role for i in recent][:2] == ["assistant", "user"]
    assert all(a.created_at_ns < b.created_at_ns for a, b in itertools.pairwise(recent))
    everything = await memory.get_recent_history(AGENT, tenant_id=TENANT, user_id=USER, limit=1000)
    assert len(everything) == 25


async def test_recent_history_reaches_back_past_every_window(
    memory: EpisodicMemory, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = time.time_ns()
    # One interaction two years ago, one 30 days ago, one now: the lookup must widen its window.
    for age_days, text in ((730, "ancient"), (30, "last month"), (0, "today")):
        monkeypatch.setattr(time, "time_ns", lambda age=age_days: now - age * DAY_NS)
        await memory.log_interaction(AGENT, "user", text, tenant_id=TENANT, user_id=USER)
    monkeypatch.setattr(time, "time_ns", lambda: now)
    recent = await memory.get_recent_history(AGENT, tenant_id=TENANT, user_id=USER, limit=3)
    assert [i.content for i in recent] == ["ancient", "last month", "today"]
    assert [
        i.content
        for i in await memory.get_recent_history(AGENT, tenant_id=TENANT, user_id=USER, limit=2)
    ] == [
        "last month",
        "today",
    ]


async def test_search_ranks_by_meaning_with_scores(memory: EpisodicMemory) -> None:
    texts = [
        "I want to buy a new car next month.",
        "Our database server crashed last night.",
        "The meeting with the client moved to Thursday.",
        "Send the invoice to the finance team by Friday.",
    ]
    for text in texts:
        await memory.log_interaction(AGENT, "user", text, tenant_id=TENANT, user_id=USER)
    hits = await memory.search_interactions(
        AGENT, "planning to purchase a vehicle", tenant_id=TENANT, user_id=USER, limit=4
    )
    assert hits[0].content == texts[0]
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(score is not None and -1.0 <= score <= 1.0 for score in scores)
    assert (
        len(await memory.search_interactions(AGENT, "car", tenant_id=TENANT, user_id=USER, limit=2))
        == 2
    )


async def test_search_filters_on_role_plan_and_boolean_combinations(
    memory: EpisodicMemory,
) -> None:
    rows = [
        ("user", "book a flight to Rome", {"plan_id": "p1", "session_id": "s1"}),
        ("assistant", "flight to Rome booked", {"plan_id": "p1", "session_id": "s1"}),
        ("user", "book a flight to Oslo", {"plan_id": "p2", "session_id": "s2", "tags": ["x"]}),
        ("assistant", "flight to Oslo booked", {"plan_id": "p2"}),
    ]
    for role, text, meta in rows:
        await memory.log_interaction(
            AGENT, role, text, tenant_id=TENANT, user_id=USER, metadata=meta
        )

    async def contents(filters: dict) -> set[str]:
        hits = await memory.search_interactions(
            AGENT, "flight", tenant_id=TENANT, user_id=USER, limit=10, filters=filters
        )
        return {hit.content for hit in hits}

    assert await contents({"role": "user"}) == {"book a flight to Rome", "book a flight to Oslo"}
    assert await contents({"plan_id": "p2", "role": "assistant"}) == {"flight to Oslo booked"}
    assert await contents({"$or": [{"session_id": "s1"}, {"role": {"$eq": "assistant"}}]}) == {
        "book a flight to Rome",
        "flight to Rome booked",
        "flight to Oslo booked",
    }
    assert await contents({"plan_id": {"$in": ["p1"]}, "role": {"$ne": "user"}}) == {
        "flight to Rome booked"
    }
    assert await contents({"tags": {"$contains": "x"}}) == {"book a flight to Oslo"}


async def test_scopes_are_separate(memory: EpisodicMemory) -> None:
    await memory.log_interaction(
        AGENT, "user", "secret of tenant a", tenant_id=TENANT, user_id=USER
    )
    await memory.log_interaction(OTHER_AGENT, "user", "other agent", tenant_id=TENANT, user_id=USER)
    await memory.log_interaction(AGENT, "user", "other user", tenant_id=TENANT, user_id=OTHER_USER)
    await memory.log_interaction(
        AGENT, "user", "other tenant", tenant_id=OTHER_TENANT, user_id=USER
    )
    for agent, user, tenant, expected in (
        (AGENT, USER, TENANT, "secret of tenant a"),
        (OTHER_AGENT, USER, TENANT, "other agent"),
        (AGENT, OTHER_USER, TENANT, "other user"),
        (AGENT, USER, OTHER_TENANT, "other tenant"),
    ):
        history = await memory.get_recent_history(agent, tenant_id=tenant, user_id=user, limit=10)
        assert [i.content for i in history] == [expected]
        hits = await memory.search_interactions(
            agent, "secret other", tenant_id=tenant, user_id=user, limit=10
        )
        assert [h.content for h in hits] == [expected]
        assert (hits[0].tenant_id, hits[0].agent_id, hits[0].user_id) == (tenant, agent, user)


def test_sync_variants_match_async_behaviour(memory: EpisodicMemory) -> None:
    logged = memory.log_interaction_sync(
        AGENT, "user", "water the plants", tenant_id=TENANT, user_id=USER
    )
    memory.log_interaction_sync(
        AGENT, "assistant", "plants watered", tenant_id=TENANT, user_id=USER
    )
    history = memory.get_recent_history_sync(AGENT, tenant_id=TENANT, user_id=USER, limit=5)
    assert [i.content for i in history] == ["water the plants", "plants watered"]
    assert history[0] == logged
    hits = memory.search_interactions_sync(
        AGENT, "watering plants", tenant_id=TENANT, user_id=USER, limit=1
    )
    assert len(hits) == 1 and hits[0].score is not None


async def test_delete_interactions_by_user_and_agent(memory: EpisodicMemory) -> None:
    await memory.log_interaction(AGENT, "user", "a1", tenant_id=TENANT, user_id=USER)
    await memory.log_interaction(OTHER_AGENT, "user", "a2", tenant_id=TENANT, user_id=USER)
    await memory.log_interaction(AGENT, "user", "b1", tenant_id=TENANT, user_id=OTHER_USER)
    assert await memory.delete_interactions(tenant_id=TENANT, user_id=USER, agent_id=AGENT) == 1
    assert [
        i.content
        for i in await memory.get_recent_history(OTHER_AGENT, tenant_id=TENANT, user_id=USER)
    ] == ["a2"]
    assert await memory.delete_interactions(tenant_id=TENANT, user_id=USER) == 1
    assert await memory.delete_interactions(tenant_id=TENANT, user_id=USER) == 0
    assert [
        i.content
        for i in await memory.get_recent_history(AGENT, tenant_id=TENANT, user_id=OTHER_USER)
    ] == ["b1"]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"content": ""}, InvalidMemoryInputError),
        ({"content": "   \n"}, InvalidMemoryInputError),
        ({"content": None}, InvalidMemoryInputError),
        ({"agent_id": ""}, InvalidMemoryInputError),
        ({"role": ""}, InvalidMemoryInputError),
        ({"tenant_id": ""}, ScopeError),
        ({"user_id": None}, ScopeError),
        ({"metadata": {"nested": {"a": 1}}}, InvalidMetadataError),
        ({"metadata": {"ratio": float("nan")}}, InvalidMetadataError),
        ({"metadata": {"tenant_id": TENANT}}, InvalidMetadataError),
        ({"metadata": {"role": "system"}}, InvalidMetadataError),
        ({"metadata": {"$where": "x"}}, InvalidMetadataError),
        ({"metadata": {"mixed": [1, "a"]}}, InvalidMetadataError),
        ({"metadata": {"empty": []}}, InvalidMetadataError),
        ({"metadata": {"big": 2**70}}, InvalidMetadataError),
        ({"metadata": ["not", "a", "mapping"]}, InvalidMetadataError),
    ],
)
async def test_bad_log_input_is_typed_and_stores_nothing(
    memory: EpisodicMemory, kwargs: dict, error: type[Exception]
) -> None:
    await memory.log_interaction(AGENT, "user", "kept", tenant_id=TENANT, user_id=USER)
    call = {
        "agent_id": AGENT,
        "role": "user",
        "content": "hello",
        "user_id": USER,
        "tenant_id": TENANT,
    }
    with pytest.raises(error):
        await memory.log_interaction(**{**call, **kwargs})
    assert [
        i.content for i in await memory.get_recent_history(AGENT, tenant_id=TENANT, user_id=USER)
    ] == ["kept"]


async def test_metadata_errors_list_every_problem(memory: EpisodicMemory) -> None:
    with pytest.raises(InvalidMetadataError) as raised:
        await memory.log_interaction(
            AGENT,
            "user",
            "x",
            tenant_id=TENANT,
            user_id=USER,
            metadata={"a": {}, "user_id": "u", "ok": 1, "b": object()},
        )
    assert len(raised.value.errors) == 3
    # None values are dropped, tuples stored as lists.
    stored = await memory.log_interaction(
        AGENT,
        "user",
        "x",
        tenant_id=TENANT,
        user_id=USER,
        metadata={"gone": None, "tags": ("a", "b")},
    )
    assert stored.metadata == {"tags": ["a", "b"]}
    assert (await memory.get_recent_history(AGENT, tenant_id=TENANT, user_id=USER))[0].metadata == {
        "tags": ["a", "b"]
    }


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"role": {"$regex": ".*"}}, "unknown operator"),
        ({"$not": {"role": "user"}}, "unknown logical operator"),
        ({"$or": []}, "non-empty list"),
        ({"$and": {"role": "user"}}, "non-empty list"),
        ({"tenant_id": OTHER_TENANT}, "scope field"),
        ({"$or": [{"user_id": OTHER_USER}, {"role": "user"}]}, "scope field"),
        ({"role": {"$in": []}}, "empty list"),
        ({"role": {"$in": "user"}}, "non-empty list"),
        ({"n": {"$gt": "3"}}, "needs a number"),
        ({"role": {"$eq": {"$ne": 1}}}, "unsupported type"),
        ({}, "non-empty mapping"),
        ({"role": {}}, "empty condition"),
    ],
)
async def test_bad_filters_are_typed(memory: EpisodicMemory, filters: dict, message: str) -> None:
    await memory.log_interaction(AGENT, "user", "hello", tenant_id=TENANT, user_id=USER)
    with pytest.raises(InvalidFilterError, match=message):
        await memory.search_interactions(
            AGENT, "hello", tenant_id=TENANT, user_id=USER, limit=5, filters=filters
        )


@pytest.mark.parametrize("limit", [0, -1, 1001, True, 2.5, "3"])
async def test_bad_limits_and_queries_are_typed(memory: EpisodicMemory, limit: object) -> None:
    with pytest.raises(InvalidMemoryInputError):
        await memory.get_recent_history(AGENT, tenant_id=TENANT, user_id=USER, limit=limit)  # type: ignore[arg-type]
    with pytest.raises(InvalidMemoryInputError):
        await memory.search_interactions(AGENT, "x", tenant_id=TENANT, user_id=USER, limit=limit)  # type: ignore[arg-type]


async def test_empty_query_is_typed(memory: EpisodicMemory) -> None:
    with pytest.raises(InvalidMemoryInputError):
        await memory.search_interactions(AGENT, " ", tenant_id=TENANT, user_id=USER)


async def test_other_embedding_model_is_refused_without_losing_data(tmp_path: Path) -> None:
    client = new_chroma(tmp_path / "chroma")
    first = EpisodicMemory(client, HashingEmbeddings())
    await first.log_interaction(AGENT, "user", "remember me", tenant_id=TENANT, user_id=USER)
    second = EpisodicMemory(client, DeterministicFakeEmbedding(size=512))
    with pytest.raises(EmbeddingModelMismatchError):
        await second.log_interaction(AGENT, "user", "other vectors", tenant_id=TENANT, user_id=USER)
    with pytest.raises(EmbeddingModelMismatchError):
        await second.search_interactions(AGENT, "remember", tenant_id=TENANT, user_id=USER)
    again = EpisodicMemory(client)
    assert [
        i.content for i in await again.get_recent_history(AGENT, tenant_id=TENANT, user_id=USER)
    ] == ["remember me"]


async def test_from_settings_uses_data_dir_and_embedding_model(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", embedding_model="offline")
    memory = EpisodicMemory.from_settings(settings)
    await memory.log_interaction(AGENT, "user", "configured", tenant_id=TENANT, user_id=USER)
    assert (tmp_path / "data" / "chroma").is_dir()
    reopened = EpisodicMemory.from_settings(settings)
    assert [
        i.content for i in await reopened.get_recent_history(AGENT, tenant_id=TENANT, user_id=USER)
    ] == ["configured"]
    assert _count(reopened) == 1


async def test_log_interactions_batch_keeps_order_and_is_all_or_nothing(
    memory: EpisodicMemory,
) -> None:
    turns = [
        ("user", f"question {n}", {"n": n}) if n % 2 == 0 else ("assistant", f"answer {n}")
        for n in range(30)
    ]
    logged = await memory.log_interactions(AGENT, turns, tenant_id=TENANT, user_id=USER)
    assert [i.content for i in logged] == [t[1] for t in turns]
    recent = await memory.get_recent_history(AGENT, tenant_id=TENANT, user_id=USER, limit=30)
    assert [i.id for i in recent] == [i.id for i in logged]
    assert recent[0].metadata == {"n": 0} and recent[1].metadata == {}

    for bad in ([("user", "fine"), ("user", "")], [("user", "ok"), ("only-role",)], [], "user"):
        with pytest.raises(InvalidMemoryInputError):
            await memory.log_interactions(AGENT, bad, tenant_id=TENANT, user_id=USER)  # type: ignore[arg-type]
    with pytest.raises(InvalidMetadataError):
        memory.log_interactions_sync(
            AGENT, [("user", "x"), ("user", "y", {"d": {}})], tenant_id=TENANT, user_id=USER
        )
    assert _count(memory) == 30


async def test_reads_of_unknown_tenants_create_nothing(memory: EpisodicMemory) -> None:
    assert await memory.get_recent_history(AGENT, tenant_id="never-wrote", user_id=USER) == []
    assert (
        await memory.search_interactions(AGENT, "anything", tenant_id="never-wrote", user_id=USER)
        == []
    )
    assert await memory.delete_interactions(tenant_id="never-wrote", user_id=USER) == 0
    assert memory.client.list_collections() == []


async def test_async_methods_run_chroma_off_the_event_loop(tmp_path: Path) -> None:
    loop_thread = threading.get_ident()
    seen: list[int] = []

    memory = thread_recording(EpisodicMemory, new_chroma(tmp_path / "chroma"), seen)
    await memory.log_interactions(
        AGENT, [("user", "a"), ("assistant", "b")], tenant_id=TENANT, user_id=USER
    )
    await memory.get_recent_history(AGENT, tenant_id=TENANT, user_id=USER)
    await memory.search_interactions(AGENT, "a", tenant_id=TENANT, user_id=USER)
    await memory.delete_interactions(tenant_id=TENANT, user_id=USER)
    assert len(seen) >= 4 and loop_thread not in seen
