"""SoormaStore inside LangGraph: create_react_agent(..., store=...) and get_store() in nodes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, TypedDict

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import tool
from langgraph.config import get_store
from langgraph.graph import END, START, StateGraph
from langgraph.prebuilt import create_react_agent
from langgraph.store.base import BaseStore
from pydantic import PrivateAttr

from soorma_lc.config import Settings
from soorma_lc.memory.store import SoormaStore
from tests.store_helpers import index_config

# create_react_agent is the API the issue names; its move to langchain.agents is not our concern.
pytestmark = pytest.mark.filterwarnings("ignore:create_react_agent has been moved")


class ScriptedChatModel(BaseChatModel):
    """Answers with the given messages in order (a stand-in for an LLM provider)."""

    _script: Iterator[AIMessage] = PrivateAttr()

    def __init__(self, messages: list[AIMessage], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._script = iter(messages)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=next(self._script))])

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedChatModel:
        return self


@tool
def remember(fact: str) -> str:
    """Store a fact about the user in long-term memory."""
    get_store().put(
        ("memories", "user-1"), str(uuid.uuid5(uuid.NAMESPACE_URL, fact)), {"text": fact}
    )
    return "stored"


@tool
def recall(question: str) -> str:
    """Look up facts about the user."""
    hits = get_store().search(("memories", "user-1"), query=question, limit=1)
    return hits[0].value["text"] if hits else "nothing"


def agent_script() -> list[AIMessage]:
    return [
        AIMessage(
            "",
            tool_calls=[{"name": "remember", "args": {"fact": "likes golf in india"}, "id": "1"}],
        ),
        AIMessage(
            "", tool_calls=[{"name": "remember", "args": {"fact": "owns a banana farm"}, "id": "2"}]
        ),
        AIMessage("", tool_calls=[{"name": "recall", "args": {"question": "golf"}, "id": "3"}]),
        AIMessage("You like golf in India."),
    ]


@pytest.fixture
def store(settings: Settings) -> Iterator[SoormaStore]:
    store = SoormaStore.from_settings(settings, index=index_config())
    yield store
    store.close()


def test_react_agent_uses_the_store_sync(store: SoormaStore) -> None:
    agent = create_react_agent(ScriptedChatModel(agent_script()), [remember, recall], store=store)
    result = agent.invoke({"messages": [("user", "remember my hobbies, then recall golf")]})
    tool_outputs = [m.content for m in result["messages"] if m.type == "tool"]
    assert tool_outputs == ["stored", "stored", "likes golf in india"]
    stored = store.search(("memories", "user-1"), limit=10)
    assert sorted(item.value["text"] for item in stored) == [
        "likes golf in india",
        "owns a banana farm",
    ]


async def test_react_agent_uses_the_store_async(store: SoormaStore) -> None:
    agent = create_react_agent(ScriptedChatModel(agent_script()), [remember, recall], store=store)
    result = await agent.ainvoke({"messages": [("user", "remember my hobbies, then recall golf")]})
    assert result["messages"][-1].content == "You like golf in India."
    assert [m.content for m in result["messages"] if m.type == "tool"][-1] == "likes golf in india"
    assert await store.alist_namespaces() == [("memories", "user-1")]


class Counter(TypedDict):
    user: str
    visits: int


def count_visit(state: Counter) -> dict[str, int]:
    store = get_store()
    item = store.get(("visits",), state["user"])
    visits = (item.value["count"] if item else 0) + 1
    store.put(("visits",), state["user"], {"count": visits})
    return {"visits": visits}


async def acount_visit(state: Counter, store: BaseStore) -> dict[str, int]:
    item = await store.aget(("visits",), state["user"])
    visits = (item.value["count"] if item else 0) + 1
    await store.aput(("visits",), state["user"], {"count": visits})
    return {"visits": visits}


@pytest.mark.parametrize("node", [count_visit, acount_visit])
async def test_graph_nodes_share_the_store_across_runs(store: SoormaStore, node: Any) -> None:
    builder = StateGraph(Counter)
    builder.add_node("count", node)
    builder.add_edge(START, "count")
    builder.add_edge("count", END)
    graph = builder.compile(store=store)
    for expected in (1, 2, 3):
        assert (await graph.ainvoke({"user": "ada", "visits": 0}))["visits"] == expected
    assert (await graph.ainvoke({"user": "bob", "visits": 0}))["visits"] == 1
    assert store.get(("visits",), "ada").value == {"count": 3}
