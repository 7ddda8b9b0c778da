"""The Registry protocol: where agents publish the events they consume and produce."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from soorma_lc.events import AgentDefinition, EventDefinition, EventTopic, PayloadSchema


@runtime_checkable
class Registry(Protocol):
    """Async registry of event definitions and live agents.

    Implementations behave identically: unknown names give ``None`` (or ``False`` for
    ``deregister_agent``), ``heartbeat`` on an unknown agent raises ``UnknownAgentError``, and
    ``list_agents`` returns only agents whose heartbeat has not expired. Events handed out
    carry the schemas they only name (``payload_schema_name``), filled in from the latest
    registered version. A Soorma Registry service lists one instance per agent name
    (``SoormaRegistryClient``); the others list every instance.
    """

    async def register_event(self, event: EventDefinition) -> None:
        """Create or replace the definition of ``event.event_name``."""
        ...

    async def get_event(self, event_name: str) -> EventDefinition | None:
        """The definition of ``event_name`` (named schemas filled in), or None."""
        ...

    async def list_events(self, topic: EventTopic | str | None = None) -> list[EventDefinition]:
        """Every registered event (named schemas filled in), optionally only those on
        ``topic`` (a standard or custom topic), sorted by name."""
        ...

    async def register_schema(self, schema: PayloadSchema) -> None:
        """Register one version of a named schema. A version is immutable: registering it
        again is a no-op when identical and a ``RegistryConflictError`` otherwise."""
        ...

    async def get_schema(
        self, schema_name: str, version: str | None = None
    ) -> PayloadSchema | None:
        """That ``version`` of ``schema_name``, or (no version) the one registered last;
        None when unknown."""
        ...

    async def register_agent(self, agent: AgentDefinition) -> None:
        """Create or replace ``agent`` (its events are registered too) and start its TTL."""
        ...

    async def get_agent(self, agent_id: str) -> AgentDefinition | None:
        """The live agent ``agent_id``, or None when unknown or expired."""
        ...

    async def list_agents(self, consumed_event: str | None = None) -> list[AgentDefinition]:
        """Live agents, optionally only those consuming ``consumed_event``, sorted by id."""
        ...

    async def heartbeat(self, agent_id: str) -> None:
        """Refresh the TTL of ``agent_id``; raises ``UnknownAgentError`` if it is unknown."""
        ...

    async def deregister_agent(self, agent_id: str) -> bool:
        """Remove ``agent_id``; True if it was registered."""
        ...

    async def version(self) -> str | None:
        """A token that changes whenever events or agents are (de)registered.

        Readers cache discovery results and revalidate with this single cheap call; None means
        the backend cannot tell, so callers must refetch (or rely on a short cache TTL).
        """
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
