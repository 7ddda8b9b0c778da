"""Verbs for long-term memory: search a user's knowledge (semantic memory), or what an agent
and the user said (episodic memory, with ``--agent``)."""

from __future__ import annotations

import argparse
import asyncio

from soorma_lc.cli import Verbs, add_group, add_verb, out
from soorma_lc.cli.settings import add_scope, positive_int, scope, verb_settings


def cmd_search(args: argparse.Namespace) -> int:
    """Search semantic memory (the user's knowledge and the tenant's public knowledge) by
    meaning; with --agent, the interactions of that agent and the user instead."""
    from soorma_lc.memory import EpisodicMemory, SemanticMemory
    from soorma_lc.timeline.entries import brief

    settings = verb_settings(("chroma",))
    who = scope(args, settings)
    if args.agent:
        episodic = EpisodicMemory.from_settings(settings)
        turns = asyncio.run(
            episodic.search_interactions(args.agent, args.query, **who, limit=args.limit)
        )
        if not turns:
            out(f"no interactions of {args.agent} with user {who['user_id']}")
        for turn in turns:
            out(f"{turn.score or 0:.2f}  {turn.role}: {brief(turn.content, 200)}")
        return 0
    semantic = SemanticMemory.from_settings(settings)
    hits = asyncio.run(semantic.search_knowledge(args.query, **who, limit=args.limit))
    if not hits:
        out(f"no knowledge for user {who['user_id']} of tenant {who['tenant_id']}")
    for hit in hits:
        source = hit.metadata.get("source") or hit.external_id or hit.knowledge_id
        out(f"{hit.score or 0:.2f}  {source}: {brief(hit.content, 200)}")
    return 0


def register(verbs: Verbs) -> None:
    """Add memory search."""
    memory = add_group(verbs, "memory", "Long-term memory: semantic knowledge and interactions.")
    search = add_verb(memory, "search", cmd_search)
    search.add_argument("query", help="what to look for, in your own words")
    search.add_argument("--agent", help="search this agent's interactions (episodic memory)")
    search.add_argument(
        "--limit", type=positive_int, default=5, help="at most this many (default 5)"
    )
    add_scope(search)
