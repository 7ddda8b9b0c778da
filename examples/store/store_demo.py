"""Long-term memory for a LangGraph app with SoormaStore, on embedded defaults (no setup).

    python examples/store/store_demo.py          # remember facts, search them, run a graph
    python examples/store/store_demo.py recall   # another process: the memories are still there

Items live in Redis (an embedded redis-server with its data in ./.soorma/store, or
SOORMA_DATA_DIR) and their vectors in Chroma (embedded under the same dir); ``rm -rf
.soorma/store`` resets both. Set SOORMA_REDIS_URL / SOORMA_CHROMA_URL to share real servers
between processes and machines. Embeddings are the offline default unless
SOORMA_EMBEDDING_MODEL names another model.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.store.base import BaseStore

from soorma_lc import Settings, SoormaStore

USER = "ada"
MEMORIES = ("memories", USER)
FACTS = {
    "sport": {"text": "I play golf every weekend", "kind": "hobby", "since": 2015},
    "food": {"text": "My favourite food is sushi", "kind": "taste", "since": 2010},
    "car": {"text": "I drive an electric car to work", "kind": "fact", "since": 2021},
    "pet": {"text": "I have a dog called Turing", "kind": "fact", "since": 2019},
}


class Chat(TypedDict):
    user: str
    question: str
    answer: str


async def answer_from_memory(state: Chat, store: BaseStore) -> dict[str, str]:
    """A graph node: look the question up in the user's memories (LangGraph injects the store)."""
    hits = await store.asearch(("memories", state["user"]), query=state["question"], limit=1)
    return {"answer": hits[0].value["text"] if hits else "I don't know yet."}


async def remember(store: SoormaStore) -> None:
    for key, value in FACTS.items():
        await store.aput(MEMORIES, key, value)
    # A short-lived note: gone 30 minutes after it was last read.
    await store.aput(("scratch", USER), "draft", {"text": "call the vet"}, ttl=30)
    print("stored", len(FACTS), "facts for", USER)


async def explore(store: SoormaStore) -> None:
    print("namespaces:", await store.alist_namespaces())
    for hit in await store.asearch(MEMORIES, query="what is my favourite meal?", limit=2):
        print(f"  {hit.score:.2f}  {hit.key}: {hit.value['text']}")
    recent = await store.asearch(MEMORIES, filter={"since": {"$gte": 2019}, "kind": "fact"})
    print("facts since 2019:", sorted(item.key for item in recent))

    builder = StateGraph(Chat)
    builder.add_node("answer", answer_from_memory)
    builder.add_edge(START, "answer")
    builder.add_edge("answer", END)
    graph = builder.compile(store=store)
    for question in ("Which sport do I play?", "What is my dog's name?"):
        result = await graph.ainvoke({"user": USER, "question": question, "answer": ""})
        print(f"Q: {question}\nA: {result['answer']}")


async def main(mode: str) -> None:
    settings = Settings(data_dir=os.environ.get("SOORMA_DATA_DIR", ".soorma/store"))
    # Embed only the "text" field (with the configured embeddings; offline by default).
    async with SoormaStore.from_settings(settings, index={"fields": ["text"]}) as store:
        print(f"tenant {store.tenant_id}, data under {settings.data_dir.resolve()}")
        if mode != "recall":
            await remember(store)
        await explore(store)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "all"))
