"""EventToolkit demo: registry events become LLM tools that validate and publish.

Runs offline on the embedded Redis and Chroma, with their data in ./.soorma/toolkit (or
SOORMA_DATA_DIR; ``rm -rf .soorma/toolkit`` resets it), or on SOORMA_REDIS_URL /
SOORMA_CHROMA_URL. The "LLM" here is a list of tool calls such as a model would emit, so the
demo needs no API key; any LangChain chat model takes the same tools via ``bind_tools``.

    python examples/toolkit/toolkit_demo.py
"""

from __future__ import annotations

import asyncio
import json
import logging
import os

from langchain_core.messages import ToolMessage
from langchain_core.utils.function_calling import convert_to_openai_tool

from soorma_lc import (
    AgentCapability,
    AgentDefinition,
    EventDefinition,
    EventEnvelope,
    EventToolkit,
    RedisStreamsBus,
    Settings,
)

RESEARCH = EventDefinition(
    event_name="research.requested",
    topic="action-requests",
    description="Research a topic on the web and collect sources",
    payload_schema={
        "type": "object",
        "properties": {
            "topic": {"type": "string", "description": "What to research"},
            "depth": {"type": "string", "enum": ["quick", "thorough"], "default": "quick"},
            "sources": {
                "type": "array",
                "items": {"$ref": "#/$defs/source"},
                "description": "Sources to start from",
            },
        },
        "required": ["topic"],
        "$defs": {
            "source": {
                "type": "object",
                "properties": {"url": {"type": "string"}, "trust": {"type": "integer"}},
                "required": ["url"],
            }
        },
    },
    response_schema={"type": "object", "properties": {"findings": {"type": "string"}}},
)
OTHER_TASKS = {
    "summary.requested": "Summarize a long document into a few bullet points",
    "email.send.requested": "Send an email message to a colleague",
    "invoice.create.requested": "Create an invoice for a customer purchase",
    "meeting.schedule.requested": "Schedule a meeting on the team calendar",
    "translation.requested": "Translate a text into another language",
    "weather.forecast.requested": "Get the weather forecast for a city",
}


async def main() -> None:
    settings = Settings(data_dir=os.environ.get("SOORMA_DATA_DIR", ".soorma/toolkit"))
    toolkit = EventToolkit.from_settings(settings, embeddings="offline")
    bus = toolkit.bus
    assert isinstance(bus, RedisStreamsBus)
    others = [
        EventDefinition(event_name=name, topic="action-requests", description=text)
        for name, text in OTHER_TASKS.items()
    ]
    await toolkit.registry.register_agent(
        AgentDefinition(
            agent_id="demo-worker",
            name="demo-worker",
            capabilities=[
                AgentCapability(task_name=e.event_name, consumed_event=e)
                for e in [RESEARCH, *others]
            ],
        )
    )

    # 1. Discovery and Soorma's prompt formats.
    events = await toolkit.discover_actionable_events()
    print(f"{len(events)} actionable events:")
    print(toolkit.format_as_prompt_text(toolkit.format_for_llm(events), include_fields=True))

    # 2. Retrieval: only the tools that matter for this goal go to the LLM.
    goal = "research solid-state batteries on the web"
    tools = await toolkit.select_tools(goal, k=2)
    print(f"\nTools selected for {goal!r}: {[t.name for t in tools]}")
    research_tool = next(t for t in tools if t.event.event_name == "research.requested")
    print("What bind_tools sends for it:")
    print(json.dumps(convert_to_openai_tool(research_tool)))

    # 3. A worker consumes the requests (its own consumer group on the bus).
    received: asyncio.Queue[EventEnvelope] = asyncio.Queue()

    async def worker(envelope: EventEnvelope) -> None:
        await received.put(envelope)

    subscription = await bus.subscribe(
        "toolkit-demo-worker",
        ["action-requests"],
        worker,
        accepts=lambda envelope: envelope.type == "research.requested",
    )

    # 4. Tool calls as an LLM would make them; the context carries plan and session ids.
    [tool] = toolkit.as_tools([RESEARCH], handle_errors=True)
    config = {"configurable": {"soorma_context": {"plan_id": "plan-42", "session_id": "s-1"}}}
    for call_id, arguments in [
        ("call-1", {"topic": 42, "depth": "forever", "sources": [{"trust": 5}]}),
        ("call-2", {"topic": "solid-state batteries", "sources": [{"url": "https://example.org"}]}),
    ]:
        message: ToolMessage = await tool.ainvoke(
            {"name": tool.name, "args": arguments, "id": call_id, "type": "tool_call"}, config
        )
        print(f"\n{call_id} -> [{message.status}] {message.content}")

    envelope = await asyncio.wait_for(received.get(), timeout=30)
    print(
        f"\nWorker received {envelope.type} {envelope.id}\n"
        f"  data={envelope.data}\n  plan_id={envelope.plan_id} tenant_id={envelope.tenant_id} "
        f"correlation_id={envelope.correlation_id}\n  respond with {envelope.response_event} "
        f"on {envelope.response_topic}"
    )
    await subscription.stop()
    await toolkit.aclose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main())
