"""Verbs for the registry: the registered events and the live agents of a tenant."""

from __future__ import annotations

import argparse
import asyncio

from soorma_lc.cli import Verbs, add_group, add_verb, out
from soorma_lc.cli.settings import verb_settings
from soorma_lc.events import AgentDefinition, EventDefinition


async def _read(tenant: str | None) -> tuple[list[EventDefinition], list[AgentDefinition]]:
    from soorma_lc.registry import registry_from_settings

    settings = verb_settings()
    if tenant:
        settings = settings.model_copy(update={"tenant_id": tenant})
    registry = registry_from_settings(settings)
    try:
        return await registry.list_events(), await registry.list_agents()
    finally:
        await registry.aclose()


def cmd_events(args: argparse.Namespace) -> int:
    """Registered events by name, with their topic and the live agents consuming them."""
    events, agents = asyncio.run(_read(args.tenant))
    if not events:
        out("no events registered")
    for event in events:
        consumers = sorted(
            agent.name
            for agent in agents
            if any(c.consumed_event.event_name == event.event_name for c in agent.capabilities)
        )
        who = f"consumed by {', '.join(consumers)}" if consumers else "no live consumer"
        out(f"{event.event_name}  [{event.topic}]  {who}")
        if event.description:
            out(f"  {event.description}")
    return 0


def cmd_agents(args: argparse.Namespace) -> int:
    """Live agents (registered, heartbeat not expired) and the events each consumes."""
    _, agents = asyncio.run(_read(args.tenant))
    if not agents:
        out("no live agents")
    for agent in agents:
        about = f"  {agent.description}" if agent.description else ""
        out(f"{agent.agent_id}  ({agent.name}){about}")
        for capability in agent.capabilities:
            produced = ", ".join(e.event_name for e in capability.produced_events)
            out(
                f"  consumes {capability.consumed_event.event_name}"
                f"{f' -> produces {produced}' if produced else ''}"
            )
    return 0


def register(verbs: Verbs) -> None:
    """Add registry events|agents."""
    registry = add_group(verbs, "registry", "The registry: events and live agents of a tenant.")
    for name, func in (("events", cmd_events), ("agents", cmd_agents)):
        verb = add_verb(registry, name, func)
        verb.add_argument("--tenant", help="tenant id (default: SOORMA_TENANT_ID)")
