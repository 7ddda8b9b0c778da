"""Turning a validated payload into one envelope on the bus, and telling the LLM what happened."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from soorma_lc.events import EventDefinition, EventEnvelope, EventTopic
from soorma_lc.toolkit.context import ToolContext

RESPONSE_EVENT_METADATA_KEY = "response_event"


@runtime_checkable
class EventPublisher(Protocol):
    """What the toolkit needs from a bus: publish one envelope, get its bus id back."""

    async def publish(self, envelope: EventEnvelope) -> str: ...


def response_event_name(event: EventDefinition, context: ToolContext) -> str | None:
    """The result event a request asks for; None when the event declares no response schema.

    Precedence: the call's context, the definition's ``metadata["response_event"]``, then
    Soorma's naming convention (``x.requested`` -> ``x.completed``, ``x.request`` ->
    ``x.response``, otherwise ``x.completed``).
    """
    if event.response_schema is None:
        return None
    if context.response_event:
        return context.response_event
    declared = event.metadata.get(RESPONSE_EVENT_METADATA_KEY)
    if isinstance(declared, str) and declared:
        return declared
    name = event.event_name
    for suffix, replacement in ((".requested", ".completed"), (".request", ".response")):
        if name.endswith(suffix):
            return name[: -len(suffix)] + replacement
    return f"{name}.completed"


def build_envelope(
    event: EventDefinition, payload: dict[str, Any], context: ToolContext
) -> EventEnvelope:
    """The envelope for ``payload`` (already validated) carrying the context's metadata."""
    fields: dict[str, Any] = context.model_dump(exclude_none=True, exclude={"response_event"})
    envelope = EventEnvelope(
        type=event.event_name,
        topic=event.topic,
        data=payload,
        payload_schema_name=event.payload_schema_name,
        **fields,
    )
    updates: dict[str, Any] = {}
    if envelope.correlation_id is None:
        updates["correlation_id"] = envelope.id
    response_event = response_event_name(event, context)
    if response_event is not None:
        updates.update(
            response_event=response_event,
            response_topic=EventTopic.ACTION_RESULTS,
            response_schema_name=event.response_schema_name,
        )
    return envelope.model_copy(update=updates) if updates else envelope


class PublishReceipt(BaseModel):
    """What a tool call published (the tool message's artifact)."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    event_name: str
    topic: str
    correlation_id: str | None
    response_event: str | None
    bus_id: str | None

    @classmethod
    def of(cls, envelope: EventEnvelope, bus_id: Any) -> PublishReceipt:
        return cls(
            event_id=envelope.id,
            event_name=envelope.type,
            topic=str(envelope.topic),
            correlation_id=envelope.correlation_id,
            response_event=envelope.response_event,
            bus_id=None if bus_id is None else str(bus_id),
        )

    def acknowledgement(self) -> str:
        """A short message for the LLM: what was published and what to expect next."""
        text = (
            f"Published {self.event_name} on {self.topic} "
            f"(event id {self.event_id}, correlation id {self.correlation_id})."
        )
        if self.response_event:
            return text + f" The result will arrive as {self.response_event}; wait for it."
        return text + " No result event is expected."
