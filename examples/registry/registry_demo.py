"""Register events and agents, then discover them, on the embedded Redis (no setup needed).

    python examples/registry/registry_demo.py            # register, discover, heartbeat
    python examples/registry/registry_demo.py discover   # another process: see what is there

Data lives in ./.soorma/registry (or SOORMA_DATA_DIR; ``rm -rf .soorma/registry`` resets it);
set SOORMA_REDIS_URL to use a real Redis, or SOORMA_REGISTRY_URL to talk to a Soorma Registry
service instead.
"""

from __future__ import annotations

import asyncio
import os
import sys

from soorma_lc import (
    AgentCapability,
    AgentDefinition,
    EventDefinition,
    EventTopic,
    Registry,
    Settings,
    registry_from_settings,
)

SEARCH = EventDefinition(
    event_name="web.search.request",
    topic=EventTopic.ACTION_REQUESTS,
    description="Search the web for a query",
    payload_schema={
        "type": "object",
        "properties": {"query": {"type": "string", "minLength": 1}},
        "required": ["query"],
    },
)
SEARCH_DONE = EventDefinition(
    event_name="web.search.completed",
    topic=EventTopic.ACTION_RESULTS,
    description="Search results",
)
SUMMARIZE = EventDefinition(
    event_name="content.summarize.request",
    topic=EventTopic.ACTION_REQUESTS,
    description="Summarize a text",
    payload_schema={"type": "object", "properties": {"text": {"type": "string"}}},
)

AGENTS = [
    AgentDefinition(
        agent_id="web-researcher-1",
        name="web-researcher",
        description="Searches the web",
        capabilities=[
            AgentCapability(
                task_name="search",
                description="Run a web search",
                consumed_event=SEARCH,
                produced_events=[SEARCH_DONE],
            )
        ],
    ),
    AgentDefinition(
        agent_id="summarizer-1",
        name="summarizer",
        description="Summarizes text",
        capabilities=[AgentCapability(task_name="summarize", consumed_event=SUMMARIZE)],
    ),
]


async def discover(registry: Registry) -> None:
    print("events on action-requests:")
    for event in await registry.list_events(EventTopic.ACTION_REQUESTS):
        consumers = [a.agent_id for a in await registry.list_agents(event.event_name)]
        print(f"  {event.event_name:28} {event.description!r:32} consumed by {consumers}")
    print("registry version:", await registry.version())


async def main(command: str) -> None:
    registry = registry_from_settings(
        Settings(data_dir=os.environ.get("SOORMA_DATA_DIR", ".soorma/registry"))
    )
    try:
        if command == "register":
            for agent in AGENTS:  # also registers the events in the agents' capabilities
                await registry.register_agent(agent)
            await discover(registry)
            await registry.register_agent(AGENTS[0])  # identical again: version unchanged
            await registry.heartbeat("summarizer-1")  # workers do this every 30 s
            print("after re-register + heartbeat:", await registry.version())
            print("deregistered summarizer-1:", await registry.deregister_agent("summarizer-1"))
        await discover(registry)
    finally:
        await registry.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "register"))
