"""What a handler gets besides the event: a publisher that carries the event's context, memory,
the registry and an EventToolkit, all bound to the worker that runs it."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from soorma_lc.bus.publisher import BusPublisher
from soorma_lc.errors import InvalidEventError
from soorma_lc.events import EventEnvelope

if TYPE_CHECKING:
    from soorma_lc.agents.worker import Worker
    from soorma_lc.memory.client import MemoryClient
    from soorma_lc.registry.base import Registry
    from soorma_lc.toolkit import EventToolkit


class ContextPublisher(BusPublisher):
    """Publishes on ``bus`` with tenant, user, session, plan, correlation (and goal, trace)
    carried over from ``event``, ``parent_event_id`` = the event and ``source`` = the agent,
    wherever the caller does not give them."""

    def __init__(self, bus: BusPublisher, event: EventEnvelope, source: str) -> None:
        self.bus = bus
        self.event = event
        carried: dict[str, Any] = event.routing()
        carried["parent_event_id"] = event.id
        carried["source"] = source
        self._carried = carried

    def carried_fields(self) -> Mapping[str, Any]:
        return self._carried

    async def publish(self, envelope: EventEnvelope) -> str:
        """Publish ``envelope`` with the carried fields filling its unset ones."""
        if not isinstance(envelope, EventEnvelope):
            raise InvalidEventError(
                f"publish() takes an EventEnvelope, not {type(envelope).__name__}"
            )
        missing = {
            name: value
            for name, value in self._carried.items()
            if name != "source" and getattr(envelope, name) is None
        }
        if missing:
            envelope = envelope.model_copy(update=missing)
        return await self.bus.publish(envelope)


class AgentContext:
    """Handed to every handler with the event it handles."""

    def __init__(self, worker: Worker, event: EventEnvelope) -> None:
        self.worker = worker
        self.event = event
        self.bus = ContextPublisher(worker.bus, event, worker.name)

    @property
    def agent_id(self) -> str:
        """The registry id of the worker instance running the handler."""
        return self.worker.agent_id

    @property
    def registry(self) -> Registry:
        """The registry the worker registered in."""
        return self.worker.registry

    @property
    def memory(self) -> MemoryClient:
        """Working memory, plans and sessions (the worker's MemoryClient, made on first use)."""
        return self.worker.memory

    @cached_property
    def toolkit(self) -> EventToolkit:
        """Registry events as tools; what they publish carries this event's context.

        A view of the worker's one toolkit, so the registry cache and event index are shared
        across events instead of rebuilt for each.
        """
        from soorma_lc.toolkit import ToolContext

        context = ToolContext(
            **self.event.routing(), parent_event_id=self.event.id, source=self.worker.name
        )
        return self.worker.toolkit.bound(context=context, bus=self.bus)
