"""Adversarial tenant isolation: no filter, id or retriever option reaches another scope."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from longterm_helpers import AGENT, OTHER_AGENT, OTHER_TENANT, OTHER_USER, TENANT, USER, new_chroma

from soorma_lc.errors import InvalidFilterError, InvalidMemoryInputError, ScopeError
from soorma_lc.memory.episodic import EpisodicMemory
from soorma_lc.memory.retrievers import episodic_retriever, semantic_retriever
from soorma_lc.memory.semantic import SemanticMemory

TENANTS = (TENANT, OTHER_TENANT, TENANT.replace("-", "\u2010"), '{"$ne": ""}')
"""Look-alikes included: a Unicode hyphen, and an id shaped like a filter operator."""
USERS = (USER, OTHER_USER)
AGENTS = (AGENT, OTHER_AGENT)
EPISODIC_SCOPE = ("tenant_id", "user_id", "agent_id")
SEMANTIC_SCOPE = ("tenant_id", "user_id", "is_public")
SCOPE_FIELDS = (*EPISODIC_SCOPE, "is_public")
DATA_FIELDS = ("role", "plan_id", "n")
VALUES = ("user", "assistant", "p1", "p2", *TENANTS, *USERS, *AGENTS, 0, 1, 2, True)


@pytest.fixture(scope="module")
def memories(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """Every tenant/user/agent combination writes look-alike data with the same metadata."""
    client = new_chroma(tmp_path_factory.mktemp("isolation") / "chroma")
    episodic, semantic = EpisodicMemory(client), SemanticMemory(client)
    for tenant in TENANTS:
        for user in USERS:
            for n, agent in enumerate(AGENTS):
                text = f"shared secret plan note {n}"
                for role in ("user", "assistant"):
                    episodic.log_interaction_sync(
                        agent,
                        role,
                        text,
                        tenant_id=tenant,
                        user_id=user,
                        metadata={"plan_id": f"p{n + 1}", "n": n},
                    )
                semantic.store_knowledge_sync(
                    text,
                    tenant_id=tenant,
                    user_id=user,
                    metadata={"plan_id": f"p{n + 1}", "n": n},
                    is_public=n == 0,
                )
    yield episodic, semantic


def _leaf(field: str, value: Any) -> dict[str, Any]:
    return {field: value}


def _filters() -> st.SearchStrategy[dict[str, Any]]:
    fields = st.sampled_from(DATA_FIELDS + SCOPE_FIELDS)
    values = st.sampled_from(VALUES)
    condition = st.one_of(
        values,
        st.fixed_dictionaries({"$eq": values}),
        st.fixed_dictionaries({"$ne": values}),
        st.fixed_dictionaries({"$in": st.lists(st.sampled_from(("p1", "p2", "user")), min_size=1)}),
        st.fixed_dictionaries({"$nin": st.lists(st.sampled_from(TENANTS), min_size=1)}),
        st.fixed_dictionaries({"$gte": st.integers(-1, 3)}),
    )
    leaves = st.builds(_leaf, fields, condition)
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.builds(lambda xs: {"$or": xs}, st.lists(children, min_size=1, max_size=3)),
            st.builds(lambda xs: {"$and": xs}, st.lists(children, min_size=1, max_size=3)),
        ),
        max_leaves=6,
    )


def _names(node: Any, fields: tuple[str, ...]) -> bool:
    """Whether a filter names one of ``fields`` anywhere (such filters must be refused)."""
    if isinstance(node, dict):
        return any(
            key in fields or (key in ("$or", "$and") and _names(value, fields))
            for key, value in node.items()
        )
    if isinstance(node, list):
        return any(_names(item, fields) for item in node)
    return False


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(filters=_filters(), scope=st.tuples(st.sampled_from(TENANTS), st.sampled_from(USERS)))
def test_random_filters_never_leave_the_scope(
    memories: tuple[EpisodicMemory, SemanticMemory],
    filters: dict[str, Any],
    scope: tuple[str, str],
) -> None:
    episodic, semantic = memories
    tenant, user = scope
    if _names(filters, EPISODIC_SCOPE):
        with pytest.raises(InvalidFilterError):
            episodic.search_interactions_sync(
                AGENT, "secret", tenant_id=tenant, user_id=user, limit=50, filters=filters
            )
    else:
        for hit in episodic.search_interactions_sync(
            AGENT, "secret", tenant_id=tenant, user_id=user, limit=50, filters=filters
        ):
            assert (hit.tenant_id, hit.user_id, hit.agent_id) == (tenant, user, AGENT)
    if _names(filters, SEMANTIC_SCOPE):
        with pytest.raises(InvalidFilterError):
            semantic.search_knowledge_sync(
                "secret",
                tenant_id=tenant,
                user_id=user,
                limit=50,
                include_public=True,
                filters=filters,
            )
    else:
        for hit in semantic.search_knowledge_sync(
            "secret", tenant_id=tenant, user_id=user, limit=50, include_public=True, filters=filters
        ):
            assert hit.tenant_id == tenant
            assert hit.user_id == user or hit.is_public


def test_tautological_or_filters_stay_in_scope(
    memories: tuple[EpisodicMemory, SemanticMemory],
) -> None:
    episodic, semantic = memories
    everything = {"$or": [{"role": "user"}, {"role": {"$ne": "user"}}]}
    retriever = episodic_retriever(
        AGENT, episodic, tenant_id=TENANT, user_id=USER, k=50, filters=everything
    )
    docs = retriever.invoke("shared secret plan note")
    assert len(docs) == 2  # the two roles of this one scope, nothing else
    assert {(d.metadata["agent_id"], d.metadata["user_id"]) for d in docs} == {(AGENT, USER)}
    knowledge = semantic_retriever(
        semantic,
        tenant_id=TENANT,
        user_id=USER,
        k=50,
        filters={"$or": [{"n": 0}, {"n": {"$ne": 0}}]},
    )
    found = {(d.metadata["user_id"], d.metadata["is_public"]) for d in knowledge.invoke("secret")}
    # own items (public and private) plus the other user's public item, all in this tenant
    assert found == {(USER, True), (USER, False), (OTHER_USER, True)}


def test_look_alike_tenant_ids_are_distinct(memories: tuple[EpisodicMemory, Any]) -> None:
    episodic, _ = memories
    for tenant in TENANTS:
        history = episodic.get_recent_history_sync(AGENT, tenant_id=tenant, user_id=USER, limit=100)
        assert len(history) == 2 and {i.tenant_id for i in history} == {tenant}
    assert len({episodic.collection_name(tenant_id=t) for t in TENANTS}) == len(TENANTS)
    assert (
        episodic.get_recent_history_sync(AGENT, tenant_id="tenant-unknown", user_id=USER, limit=100)
        == []
    )


@pytest.mark.parametrize("bad", [{"$ne": ""}, ["a"], 7, None, "", f"{TENANT} ", "a\u200bb"])
def test_operator_shaped_ids_are_refused(
    memories: tuple[EpisodicMemory, SemanticMemory], bad: Any
) -> None:
    episodic, semantic = memories
    with pytest.raises(ScopeError):
        episodic.search_interactions_sync(AGENT, "secret", tenant_id=bad, user_id=USER)
    with pytest.raises(ScopeError):
        episodic.get_recent_history_sync(AGENT, tenant_id=TENANT, user_id=bad)
    with pytest.raises(ScopeError):
        semantic.search_knowledge_sync("secret", tenant_id=TENANT, user_id=bad)
    if bad is not None:
        with pytest.raises(InvalidMemoryInputError):
            episodic.search_interactions_sync(bad, "secret", tenant_id=TENANT, user_id=USER)


async def test_deletes_cannot_cross_scopes(tmp_path: Path) -> None:
    client = new_chroma(tmp_path / "chroma")
    episodic, semantic = EpisodicMemory(client), SemanticMemory(client)
    await episodic.log_interaction(AGENT, "user", "victim history", tenant_id=TENANT, user_id=USER)
    victim = await semantic.store_knowledge(
        "victim public fact", tenant_id=TENANT, user_id=USER, is_public=True
    )
    assert await episodic.delete_interactions(tenant_id=OTHER_TENANT, user_id=USER) == 0
    assert await semantic.delete_knowledge(victim, tenant_id=TENANT, user_id=OTHER_USER) is False
    assert await semantic.delete_knowledge(victim, tenant_id=OTHER_TENANT, user_id=USER) is False
    assert await semantic.delete_user_knowledge(tenant_id=OTHER_TENANT, user_id=USER) == 0
    assert len(await episodic.get_recent_history(AGENT, tenant_id=TENANT, user_id=USER)) == 1
    assert len(await semantic.search_knowledge("victim", tenant_id=TENANT, user_id=OTHER_USER)) == 1
