"""The Soorma bus verbs (request, respond, announce) on top of one abstract ``publish``.

:class:`BusPublisher` builds envelopes the same way for the bus itself and for the publisher a
handler gets as ``context.bus``; subclasses only say where envelopes go (``publish``) and which
fields every envelope they build carries by default (``carried_fields``).
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from soorma_lc.errors import InvalidEventError
from soorma_lc.events import EventEnvelope, EventTopic
from soorma_lc.jsonvalues import check_json_value

_ENVELOPE_FIELDS = frozenset(EventEnvelope.model_fields) - {"type", "topic", "data"}


class BusPublisher(ABC):
    """Publishes envelopes; the Soorma verbs build them and call :meth:`publish`."""

    @abstractmethod
    async def publish(self, envelope: EventEnvelope) -> str:
        """Send ``envelope`` (``topic`` required) and return its event id."""

    def carried_fields(self) -> Mapping[str, Any]:
        """Envelope fields every verb fills in unless the caller gives them."""
        return {}

    def build(
        self,
        event_type: str,
        data: Mapping[str, Any] | None,
        topic: EventTopic | str,
        fields: Mapping[str, Any],
    ) -> EventEnvelope:
        """An envelope of ``event_type`` on ``topic`` with the carried fields, then ``fields``.

        ``data`` must be a mapping of plain JSON; ``fields`` must name envelope fields (a
        misspelt one is an error, not silently dropped).
        """
        if data is not None:
            if not isinstance(data, Mapping):
                raise InvalidEventError(f"event data must be a mapping, not {type(data).__name__}")
            data = dict(data)
            check_json_value(data, "data")
        unknown = sorted(set(fields) - _ENVELOPE_FIELDS)
        if unknown:
            raise InvalidEventError(f"unknown envelope field(s): {', '.join(unknown)}")
        values = {**self.carried_fields(), **fields, "type": event_type, "topic": topic}
        return EventEnvelope(**values, data=data)

    async def request(
        self,
        event_type: str,
        data: Mapping[str, Any] | None,
        *,
        response_event: str,
        topic: EventTopic | str = EventTopic.ACTION_REQUESTS,
        **envelope_fields: Any,
    ) -> str:
        """Ask for work: publish on ``topic`` (action-requests) expecting ``response_event``.

        The correlation id is the one given, else the carried one (a handler's context), else
        new; ``correlation_id=None`` always starts a new correlation.
        """
        if not response_event:
            raise InvalidEventError("request() needs a response_event")
        fields = {**envelope_fields, "response_event": response_event}
        inherited = self.carried_fields().get("correlation_id")
        if fields.get("correlation_id") is None and ("correlation_id" in fields or not inherited):
            fields["correlation_id"] = str(uuid.uuid4())
        return await self.publish(self.build(event_type, data, topic, fields))

    async def respond(
        self,
        request: EventEnvelope,
        event_type: str | None = None,
        data: Mapping[str, Any] | None = None,
        **envelope_fields: Any,
    ) -> str:
        """Answer ``request`` on action-results (or its ``response_topic``).

        The response keeps the request's correlation (its id when it had none), plan, tenant,
        user, session, goal and trace, and points back to it with ``parent_event_id``.
        ``event_type`` defaults to the request's ``response_event``.
        """
        if not isinstance(request, EventEnvelope):
            raise InvalidEventError(
                f"respond() answers an EventEnvelope, not {type(request).__name__}"
            )
        event_type = event_type or request.response_event
        if not event_type:
            raise InvalidEventError(
                f"request {request.id} names no response_event; pass the event_type to respond()"
            )
        fields: dict[str, Any] = request.routing()
        fields.setdefault("correlation_id", request.id)
        fields["parent_event_id"] = request.id
        fields.update(envelope_fields)
        topic = fields.pop("topic", None) or request.response_topic or EventTopic.ACTION_RESULTS
        return await self.publish(self.build(event_type, data, topic, fields))

    async def announce(
        self, event_type: str, data: Mapping[str, Any] | None = None, **envelope_fields: Any
    ) -> str:
        """State a fact on business-facts (or the ``topic`` given)."""
        topic = envelope_fields.pop("topic", None) or EventTopic.BUSINESS_FACTS
        return await self.publish(self.build(event_type, data, topic, envelope_fields))
