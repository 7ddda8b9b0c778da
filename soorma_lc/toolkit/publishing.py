"""Turning a validated payload into one envelope on the bus, and telling the LLM what happened."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from soorma_lc.bus.publisher import BusPublisher
from soorma_lc.events import EventDefinition, EventEnvelope, EventTopic
from soorma_lc.toolkit.context import ToolContext

RESPONSE_EVENT_METADATA_KEY = "response_event"


@runtime_checkable
class SupportsPublish(Protocol):
    """What the toolkit needs from a bus: ``publish`` one envelope (e.g. RedisStreamsBus)."""

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
    return declared_response_event(event)


def declared_response_event(event: EventDefinition) -> str:
    """The result event of ``event``: ``metadata["response_event"]`` or Soorma's naming
    convention (``x.requested`` -> ``x.completed``, ``x.request`` -> ``x.response``, otherwise
    ``x.completed``)."""
    declared = event.metadata.get(RESPONSE_EVENT_METADATA_KEY)
    if isinstance(declared, str) and declared:
        return declared
    name = event.event_name
    for suffix, replacement in ((".requested", ".completed"), (".request", ".response")):
        if name.endswith(suffix):
            return name[: -len(suffix)] + replacement
    return f"{name}.completed"


def build_envelope(
    event: EventDefinition,
    payload: dict[str, Any],
    context: ToolContext,
    bus: object | None = None,
) -> EventEnvelope:
    """The envelope for ``payload`` (already validated) carrying the context's metadata.

    When ``bus`` is one of our publishers (a bus, or a handler's ``context.bus``), its
    ``build`` is used so that the fields it carries (plan, tenant, correlation of the event
    being handled) apply, with the context's fields on top. Without a correlation id the
    envelope correlates with itself.
    """
    fields: dict[str, Any] = context.model_dump(exclude_none=True, exclude={"response_event"})
    fields["payload_schema_name"] = event.payload_schema_name
    response_event = response_event_name(event, context)
    if response_event is not None:
        fields.update(
            response_event=response_event,
            response_topic=EventTopic.ACTION_RESULTS,
            response_schema_name=event.response_schema_name,
        )
    fields = {name: value for name, value in fields.items() if value is not None}
    if isinstance(bus, BusPublisher):
        envelope = bus.build(event.event_name, payload, event.topic, fields)
    else:
        envelope = EventEnvelope(type=event.event_name, topic=event.topic, data=payload, **fields)
    if envelope.correlation_id is None:
        envelope = envelope.model_copy(update={"correlation_id": envelope.id})
    return envelope


class PublishReceipt(BaseModel):
    """What a tool call published (the tool message's artifact)."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    event_name: str
    topic: str
    correlation_id: str | None
    response_event: str | None

    @classmethod
    def of(cls, envelope: EventEnvelope) -> PublishReceipt:
        return cls(
            event_id=envelope.id,
            event_name=envelope.type,
            topic=str(envelope.topic),
            correlation_id=envelope.correlation_id,
            response_event=envelope.response_event,
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
