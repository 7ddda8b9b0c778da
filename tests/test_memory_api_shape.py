"""The memory API's shape: keyword-only scope everywhere, generated twins, a delegating facade."""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from longterm_helpers import AGENT, TENANT, USER, new_chroma

from soorma_lc.memory.client import MemoryClient
from soorma_lc.memory.episodic import EpisodicMemory
from soorma_lc.memory.plans import PlanStore
from soorma_lc.memory.retrievers import (
    EpisodicRetriever,
    SemanticRetriever,
    episodic_retriever,
    semantic_retriever,
)
from soorma_lc.memory.semantic import SemanticMemory
from soorma_lc.memory.twins import async_twin
from soorma_lc.memory.workflow_state import WorkflowState
from soorma_lc.memory.working import WorkingMemory

WORKING = {
    "set_plan_state",
    "get_plan_state",
    "get_all_plan_state",
    "delete_plan_state",
    "cleanup_plan",
    "increment_plan_state",
    "extend_plan_state",
    "merge_plan_state",
}
PLANS = {
    "create_plan",
    "get_plan",
    "update_plan_status",
    "list_plans",
    "delete_plan",
    "create_session",
    "get_session",
    "list_sessions",
    "delete_session",
}
EPISODIC = {
    "log_interaction",
    "log_interactions",
    "get_recent_history",
    "search_interactions",
    "delete_interactions",
}
SEMANTIC = {"store_knowledge", "search_knowledge", "delete_knowledge", "delete_user_knowledge"}
CLIENT_EPISODIC = {"log_interaction", "get_recent_history", "search_interactions"}
CLIENT_SEMANTIC = {"store_knowledge", "search_knowledge"}


def _with_sync(names: set[str]) -> set[str]:
    return names | {f"{name}_sync" for name in names}


SCOPED_METHODS: dict[type, set[str]] = {
    WorkingMemory: WORKING | {"plan_key", "plan_tag"},
    PlanStore: PLANS,
    MemoryClient: WORKING | PLANS | CLIENT_EPISODIC | CLIENT_SEMANTIC,
    EpisodicMemory: _with_sync(EPISODIC) | {"collection_name"},
    SemanticMemory: _with_sync(SEMANTIC) | {"collection_name"},
}
TENANT_ONLY = {"collection_name", "plan_tag"}


def _scoped_public_methods(cls: type) -> dict[str, Callable[..., Any]]:
    """Public methods of ``cls`` that take a tenant_id."""
    found = {}
    for name in dir(cls):
        value = getattr(cls, name)
        public = not name.startswith("_") and callable(value)
        if public and "tenant_id" in inspect.signature(value).parameters:
            found[name] = value
    return found


def _assert_keyword_only_scope(function: Callable[..., Any], scope: int = 2) -> None:
    """``tenant_id`` then ``user_id`` (``scope=1``: the tenant alone), the first keyword-only
    parameters, required."""
    params = list(inspect.signature(function).parameters.values())
    keyword_only = [p for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert [p.name for p in keyword_only[:scope]] == ["tenant_id", "user_id"][:scope], function
    assert all(p.default is inspect.Parameter.empty for p in keyword_only[:scope]), function


@pytest.mark.parametrize("cls", list(SCOPED_METHODS), ids=lambda cls: cls.__name__)
def test_every_scoped_method_takes_tenant_then_user_keyword_only(cls: type) -> None:
    methods = _scoped_public_methods(cls)
    assert set(methods) == SCOPED_METHODS[cls]
    for name, method in methods.items():
        _assert_keyword_only_scope(method, 1 if name in TENANT_ONLY else 2)


@pytest.mark.parametrize(
    "function",
    [WorkflowState, episodic_retriever, semantic_retriever],
    ids=lambda f: f.__name__,
)
def test_constructors_and_factories_take_tenant_then_user_keyword_only(
    function: Callable[..., Any],
) -> None:
    _assert_keyword_only_scope(function)


def _required_positional(method: Callable[..., Any]) -> list[str]:
    """Placeholder values for the method's required positional parameters (self excluded)."""
    params = inspect.signature(method).parameters.values()
    return [
        "x"
        for p in params
        if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        and p.default is inspect.Parameter.empty
    ]


async def _refuses_positional_scope(instance: object, names: set[str]) -> None:
    """Each method, called with its required arguments and then tenant and user positionally,
    raises TypeError."""
    for name in sorted(names):
        method = getattr(instance, name)
        with pytest.raises(TypeError):
            result = method(*_required_positional(method), TENANT, USER)
            if inspect.isawaitable(result):
                await result
            pytest.fail(f"{type(instance).__name__}.{name} accepted a positional scope")


async def test_redis_memories_refuse_positional_scope(
    memory: MemoryClient, redis_client: redis.Redis
) -> None:
    await _refuses_positional_scope(memory.working, WORKING)
    await _refuses_positional_scope(memory.plans, PLANS)
    await _refuses_positional_scope(memory, WORKING | PLANS)
    with pytest.raises(TypeError):
        WorkflowState(memory, "plan-1", TENANT, USER)  # type: ignore[misc]
    assert redis_client.keys("*") == []


async def test_chroma_memories_and_retrievers_refuse_positional_scope(
    tmp_path: Path, redis_url: str
) -> None:
    client = new_chroma(tmp_path / "chroma")
    episodic, semantic = EpisodicMemory(client), SemanticMemory(client)
    await _refuses_positional_scope(episodic, _with_sync(EPISODIC))
    await _refuses_positional_scope(semantic, _with_sync(SEMANTIC))
    with pytest.raises(TypeError):
        episodic.collection_name(TENANT)  # type: ignore[misc]
    async with MemoryClient.from_url(redis_url, episodic=episodic, semantic=semantic) as facade:
        await _refuses_positional_scope(facade, CLIENT_EPISODIC | CLIENT_SEMANTIC)
    with pytest.raises(TypeError):
        episodic_retriever(AGENT, episodic, TENANT, USER)  # type: ignore[misc]
    with pytest.raises(TypeError):
        semantic_retriever(semantic, TENANT, USER)  # type: ignore[misc]
    with pytest.raises(TypeError):
        EpisodicRetriever(episodic, AGENT, TENANT, USER)  # type: ignore[misc]
    with pytest.raises(TypeError):
        SemanticRetriever(semantic, TENANT, USER)  # type: ignore[misc]
    assert client.list_collections() == []


# -- twins ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [EpisodicMemory, SemanticMemory], ids=lambda c: c.__name__)
def test_every_async_method_has_a_generated_sync_twin(cls: type) -> None:
    public = {name: getattr(cls, name) for name in dir(cls) if not name.startswith("_")}
    coroutines = {name for name, value in public.items() if inspect.iscoroutinefunction(value)}
    blocking = {name for name in public if name.endswith("_sync")}
    assert coroutines == SCOPED_METHODS[cls] - blocking - TENANT_ONLY
    assert blocking == {f"{name}_sync" for name in coroutines}
    for name in coroutines:
        twin = public[f"{name}_sync"]
        assert inspect.signature(public[name]) == inspect.signature(twin)
        assert public[name].__wrapped__ is twin  # generated from the blocking method
        assert public[name].__name__ == name
        assert public[name].__doc__.startswith(twin.__doc__.split("\n")[0])


def test_async_twin_needs_a_sync_name() -> None:
    def search(query: str) -> str:
        return query

    with pytest.raises(TypeError, match="_sync"):
        async_twin(search)


async def test_async_twin_runs_the_blocking_method_with_its_arguments() -> None:
    def echo_sync(value: str, *, suffix: str = "") -> str:
        """Echo."""
        return value + suffix

    echo = async_twin(echo_sync)
    assert await echo("a", suffix="b") == "ab"
    assert echo.__name__ == "echo" and echo.__doc__.startswith("Echo.")


def test_sync_deletes(tmp_path: Path) -> None:
    client = new_chroma(tmp_path / "chroma")
    episodic, semantic = EpisodicMemory(client), SemanticMemory(client)
    episodic.log_interaction_sync(AGENT, "user", "hello", tenant_id=TENANT, user_id=USER)
    assert episodic.delete_interactions_sync(tenant_id=TENANT, user_id=USER, agent_id=AGENT) == 1
    assert episodic.get_recent_history_sync(AGENT, tenant_id=TENANT, user_id=USER) == []
    first = semantic.store_knowledge_sync("one fact", tenant_id=TENANT, user_id=USER)
    semantic.store_knowledge_sync("another fact", tenant_id=TENANT, user_id=USER)
    assert semantic.delete_knowledge_sync(first, tenant_id=TENANT, user_id=USER) is True
    assert semantic.delete_knowledge_sync(first, tenant_id=TENANT, user_id=USER) is False
    assert semantic.delete_user_knowledge_sync(tenant_id=TENANT, user_id=USER) == 1
    assert semantic.search_knowledge_sync("fact", tenant_id=TENANT, user_id=USER) == []


# -- the facade ----------------------------------------------------------------------------


def _store_of(client: MemoryClient, name: str) -> object:
    if name in WORKING:
        return client.working
    if name in PLANS:
        return client.plans
    return client.episodic if name in CLIENT_EPISODIC else client.semantic


async def test_client_methods_are_the_stores_own(tmp_path: Path, redis_url: str) -> None:
    chroma = new_chroma(tmp_path / "chroma")
    async with MemoryClient.from_url(
        redis_url, episodic=EpisodicMemory(chroma), semantic=SemanticMemory(chroma)
    ) as client:
        for name in SCOPED_METHODS[MemoryClient] - {"delete_plan"}:
            store = _store_of(client, name)
            bound = getattr(client, name)
            assert bound.__self__ is store, name
            assert bound.__func__ is getattr(type(store), name), name
            # help() and inspect see the store's function, docs and signature included.
            assert getattr(MemoryClient, name) is getattr(type(store), name), name


async def test_delete_plan_reads_the_plan_once(
    memory: MemoryClient, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    scope = {"tenant_id": TENANT, "user_id": USER}
    await memory.create_plan("p1", "goal", session_id="s1", **scope)
    await memory.set_plan_state("p1", "k", 1, **scope)
    reads = 0
    get_plan = memory.plans.get_plan

    async def counting_get_plan(*args: Any, **kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        return await get_plan(*args, **kwargs)

    monkeypatch.setattr(memory.plans, "get_plan", counting_get_plan)
    assert await memory.delete_plan("p1", **scope) is True
    assert reads == 1
    assert await memory.delete_plan("p1", **scope) is False
    assert await memory.get_all_plan_state("p1", **scope) == {}
    assert await memory.list_plans(session_id="s1", **scope) == []
    assert not [key for key in redis_client.keys("*") if b":plan:" in key or b"soorma:wm:" in key]


def test_client_loads_no_chroma_until_long_term_memory_is_used() -> None:
    code = (
        "import sys\n"
        "from soorma_lc.memory.client import MemoryClient\n"
        "client = MemoryClient.from_url('redis://localhost:1')\n"
        "assert client.set_plan_state.__self__ is client.working\n"
        "print('chromadb' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
