"""A greeter worker: consumes greeting.requested, responds with greeting.completed.

Serve it on its own with ``soorma-lc run examples/hello_worker/worker.py:make_worker``.
"""

from __future__ import annotations

from soorma_lc import AgentContext, EventDefinition, EventEnvelope, EventTopic, Settings, Worker

GREETING_REQUESTED = EventDefinition(
    event_name="greeting.requested",
    topic=EventTopic.ACTION_REQUESTS,
    description="Greet a person by name",
    payload_schema={
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
    },
)
GREETING_COMPLETED = EventDefinition(
    event_name="greeting.completed",
    topic=EventTopic.ACTION_RESULTS,
    description="The greeting text",
    payload_schema={"type": "object", "properties": {"text": {"type": "string"}}},
)


def make_worker(settings: Settings | None = None) -> Worker:
    worker = Worker(
        "greeter",
        capabilities=["greeting"],
        produces=[GREETING_COMPLETED],
        settings=settings,
    )

    @worker.on_event(GREETING_REQUESTED)
    async def greet(event: EventEnvelope, context: AgentContext) -> None:
        name = (event.data or {}).get("name", "stranger")
        await context.bus.respond(event, "greeting.completed", {"text": f"Hello, {name}!"})

    return worker
