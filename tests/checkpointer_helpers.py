"""Graphs and a scripted chat model shared by the checkpointer tests.

Run as a script (``python tests/checkpointer_helpers.py URL THREAD TENANT``) it resumes the
approval graph's interrupt from another OS process and prints the final messages as JSON.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Annotated, Any, TypedDict

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, interrupt


class ChatState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def chat_graph(checkpointer: BaseCheckpointSaver) -> CompiledStateGraph:
    """START -> chat -> END; chat answers with the turn number (deterministic)."""

    def chat(state: ChatState) -> dict[str, Any]:
        turn = len(state["messages"]) // 2 + 1
        return {"messages": [AIMessage(content=f"answer {turn}: " + "x" * 600)]}

    builder = StateGraph(ChatState)
    builder.add_node("chat", chat)
    builder.add_edge(START, "chat")
    builder.add_edge("chat", END)
    return builder.compile(checkpointer=checkpointer)


class ApprovalState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    approved: bool


def approval_graph(checkpointer: BaseCheckpointSaver | None) -> CompiledStateGraph:
    """draft -> review (interrupts for a human answer) -> publish."""

    def draft(state: ApprovalState) -> dict[str, Any]:
        return {"messages": [AIMessage(content="draft: the quarterly report")]}

    def review(state: ApprovalState) -> dict[str, Any]:
        answer = interrupt({"question": "publish the draft?"})
        return {"approved": answer == "yes", "messages": [HumanMessage(content=f"{answer}")]}

    def publish(state: ApprovalState) -> dict[str, Any]:
        verdict = "published" if state["approved"] else "discarded"
        return {"messages": [AIMessage(content=verdict)]}

    builder = StateGraph(ApprovalState)
    builder.add_node("draft", draft)
    builder.add_node("review", review)
    builder.add_node("publish", publish)
    builder.add_edge(START, "draft")
    builder.add_edge("draft", "review")
    builder.add_edge("review", "publish")
    builder.add_edge("publish", END)
    return builder.compile(checkpointer=checkpointer)


class ScriptedChatModel(BaseChatModel):
    """Answers with ``script[n]`` where n is the number of AI messages already in the prompt."""

    script: list[AIMessage]

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        turn = sum(isinstance(m, AIMessage) for m in messages)
        return ChatResult(generations=[ChatGeneration(message=self.script[turn])])

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        return self


def _resume_in_this_process(url: str, thread_id: str, tenant_id: str) -> None:
    from soorma_lc.memory.checkpoint import RedisCheckpointSaver

    saver = RedisCheckpointSaver.from_url(url)
    config = {"configurable": {"thread_id": thread_id, "tenant_id": tenant_id}}
    result = approval_graph(saver).invoke(Command(resume="yes"), config)
    print(json.dumps([m.content for m in result["messages"]]))
    saver.close()


if __name__ == "__main__":
    _resume_in_this_process(*sys.argv[1:4])
