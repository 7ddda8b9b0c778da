"""Drop-in: an existing LangGraph app moves onto soorma-lc without a change to its code.

``build_app`` is the app, a small help-desk graph written against LangGraph and LangChain
interfaces only: a checkpointer, a store, two retrievers and a tool. ``before()`` wires it the
way it was (LangGraph's in-memory saver and store, in-memory vector stores, a local function
tool); ``after()`` wires the same app to soorma-lc (RedisCheckpointSaver, SoormaStore, the
semantic and episodic retrievers, an event tool that hands the ticket to another agent).

    python examples/drop_in/helpdesk.py --before   # the app as it was: forgets everything
    python examples/drop_in/helpdesk.py            # the same app on soorma-lc
    python examples/drop_in/helpdesk.py            # again: the thread and memories are still there

Data lives in ./.soorma/drop_in (or SOORMA_DATA_DIR); ``rm -rf .soorma/drop_in`` resets it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import BaseTool, tool
from langchain_core.vectorstores import InMemoryVectorStore
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore

from soorma_lc import (
    AgentContext,
    EpisodicMemory,
    EventDefinition,
    EventEnvelope,
    EventToolkit,
    EventTopic,
    RedisCheckpointSaver,
    SemanticMemory,
    Settings,
    SoormaStore,
    Worker,
    episodic_retriever,
    resolve_embeddings,
    semantic_retriever,
)

# -- the existing app: nothing below changes when it moves onto soorma-lc --------------------


class Ask(TypedDict, total=False):
    user: str
    question: str
    messages: Annotated[list[AnyMessage], add_messages]
    notes: list[str]
    ticket: str
    answer: str


def build_app(
    *,
    checkpointer: BaseCheckpointSaver,
    store: BaseStore,
    knowledge: BaseRetriever,
    history: BaseRetriever,
    ticket_tool: BaseTool,
) -> CompiledStateGraph:
    """A help desk: look the question up, open a ticket when asked, answer, remember."""

    async def recall(state: Ask, store: BaseStore) -> dict[str, Any]:
        question = state["question"]
        notes = [doc.page_content for doc in await knowledge.ainvoke(question)]
        notes += [f'you told us: "{doc.page_content}"' for doc in await history.ainvoke(question)]
        last = await store.aget(("helpdesk", state["user"]), "last_question")
        if last is not None:
            notes.append(f'last time you asked: "{last.value["text"]}"')
        return {"notes": notes}

    async def act(state: Ask) -> dict[str, Any]:
        if "ticket" not in state["question"].lower():
            return {"ticket": ""}
        args = {"summary": state["question"], "priority": "high"}
        return {"ticket": str(await ticket_tool.ainvoke(args))}

    async def answer(state: Ask, store: BaseStore) -> dict[str, Any]:
        text = " / ".join(state["notes"]) or "Sorry, I found nothing on that."
        await store.aput(("helpdesk", state["user"]), "last_question", {"text": state["question"]})
        return {
            "answer": text,
            "messages": [HumanMessage(state["question"]), AIMessage(text)],
        }

    builder = StateGraph(Ask)
    builder.add_node("recall", recall)
    builder.add_node("act", act)
    builder.add_node("answer", answer)
    builder.add_edge(START, "recall")
    builder.add_edge("recall", "act")
    builder.add_edge("act", "answer")
    builder.add_edge("answer", END)
    return builder.compile(checkpointer=checkpointer, store=store)


# -- its data and its ticket event ----------------------------------------------------------

FAQ = {
    "faq-password": "Reset a password at id.example.com with 'Forgot password'.",
    "faq-vpn": "The VPN client is GlobalConnect; use the 'Home office' profile.",
    "faq-hardware": "Broken laptops are swapped at the IT desk, floor 2, within a day.",
}
SAID_BEFORE = ["My laptop is a ThinkPad X1 from 2021.", "I work from home most days."]
QUESTIONS = [
    "How do I reset my password?",
    "My laptop screen is broken, please open a ticket.",
]
TICKET = EventDefinition(
    event_name="ticket.requested",
    topic=EventTopic.ACTION_REQUESTS,
    description="Open a support ticket",
    payload_schema={
        "type": "object",
        "properties": {
            "summary": {"type": "string"},
            "priority": {"type": "string", "enum": ["low", "high"]},
        },
        "required": ["summary", "priority"],
    },
)
THREAD = {"configurable": {"thread_id": "helpdesk-alice"}}
AGENT = "helpdesk"


# -- wiring: before and after ----------------------------------------------------------------


@asynccontextmanager
async def before(settings: Settings) -> AsyncIterator[dict[str, Any]]:
    """The app as it was: in-process memory, gone when the process ends."""
    embeddings = resolve_embeddings()  # any LangChain Embeddings (the offline default here)

    @tool
    def open_ticket(summary: str, priority: str) -> str:
        """Open a support ticket."""
        return f"ticket T-1001 opened ({priority}): {summary}"

    yield {
        "checkpointer": InMemorySaver(),
        "store": InMemoryStore(),
        "knowledge": InMemoryVectorStore.from_texts(list(FAQ.values()), embeddings).as_retriever(
            search_kwargs={"k": 1}
        ),
        "history": InMemoryVectorStore.from_texts(SAID_BEFORE, embeddings).as_retriever(
            search_kwargs={"k": 1}
        ),
        "ticket_tool": open_ticket,
    }


@asynccontextmanager
async def after(settings: Settings) -> AsyncIterator[dict[str, Any]]:
    """The same parts on soorma-lc: Redis and Chroma, shared by every process pointed at them;
    the ticket is an event another agent (here ``ticket-desk``) picks up."""
    scope = {"tenant_id": settings.tenant_id, "user_id": settings.user_id}
    semantic = SemanticMemory.from_settings(settings)
    for key, text in FAQ.items():  # upserted by external_id: no duplicates on the next run
        await semantic.store_knowledge(text, external_id=key, is_public=True, **scope)
    episodic = EpisodicMemory.from_settings(settings)
    if not await episodic.get_recent_history(AGENT, limit=1, **scope):
        await episodic.log_interactions(AGENT, [("user", text) for text in SAID_BEFORE], **scope)

    async with AsyncExitStack() as stack:
        desk = ticket_desk(settings)
        await desk.start()  # registers ticket.requested and consumes it
        stack.push_async_callback(desk.stop)
        toolkit = EventToolkit.from_settings(settings)  # registry + bus, tenant and user
        stack.push_async_callback(toolkit.aclose)
        checkpointer = RedisCheckpointSaver.from_settings(settings)
        stack.callback(checkpointer.close)
        stack.push_async_callback(checkpointer.aclose)
        store = await stack.enter_async_context(SoormaStore.from_settings(settings))
        [ticket_tool] = toolkit.as_tools([TICKET])
        yield {
            "checkpointer": checkpointer,
            "store": store,
            "knowledge": semantic_retriever(semantic, k=1, **scope),
            "history": episodic_retriever(AGENT, episodic, k=1, **scope),
            "ticket_tool": ticket_tool,
        }


TICKETS: asyncio.Queue[EventEnvelope] = asyncio.Queue()


def ticket_desk(settings: Settings) -> Worker:
    """The agent that takes tickets now that opening one is an event."""
    desk = Worker("ticket-desk", consumes=[TICKET], settings=settings)

    @desk.on_event(TICKET.event_name)
    async def open_ticket(event: EventEnvelope, context: AgentContext) -> None:
        await TICKETS.put(event)

    return desk


async def main(wiring: str, settings: Settings) -> None:
    parts = before if wiring == "before" else after
    async with parts(settings) as wired:
        app = build_app(**wired)
        for question in QUESTIONS:
            result = await app.ainvoke({"user": "alice", "question": question}, THREAD)
            print(f"Q: {question}\nA: {result['answer']}")
            if result["ticket"]:
                print(f"   ticket tool: {result['ticket']}")
        messages = (await app.aget_state(THREAD)).values["messages"]
        print(f"\nthread {THREAD['configurable']['thread_id']}: {len(messages)} messages")
        if wiring == "after":
            envelope = await asyncio.wait_for(TICKETS.get(), timeout=30)
            print(f"ticket-desk received {envelope.type}: {envelope.data}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", action="store_true", help="the app as it was (in memory)")
    args = parser.parse_args()
    data_dir = os.environ.get("SOORMA_DATA_DIR", ".soorma/drop_in")
    settings = Settings(data_dir=data_dir, tenant_id="acme", user_id="alice")
    asyncio.run(main("before" if args.before else "after", settings))
