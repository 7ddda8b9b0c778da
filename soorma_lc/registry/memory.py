"""InMemoryRegistry: the Registry semantics in one process, for tests and single-process apps."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, Self

from soorma_lc.config import Settings
from soorma_lc.errors import RegistryConflictError, UnknownAgentError
from soorma_lc.events import (
    AgentDefinition,
    EventDefinition,
    EventTopic,
    PayloadSchema,
    validate_event_name,
)
from soorma_lc.registry.common import (
    DEFAULT_AGENT_TTL,
    DEFAULT_PURGE_AFTER,
    agent_events,
    check_agent,
    check_agent_id,
    check_event,
    check_lifetimes,
    check_schema,
    check_topic,
    decode,
    encode,
    select_agents,
    select_events,
)
from soorma_lc.registry.schemas import check_schema_key, resolve_schemas


class InMemoryRegistry:
    """A :class:`~soorma_lc.registry.base.Registry` held in this process's memory.

    Behaves exactly like :class:`~soorma_lc.registry.redis.RedisRegistry` (TTL, revival by
    heartbeat, versioning). Entries are stored as JSON text, so callers never share mutable
    objects with the registry. No method awaits between reading and writing, which makes every
    call atomic with respect to other tasks on the event loop. ``clock`` (seconds) is
    injectable so TTL behaviour can be tested without sleeping.
    """

    def __init__(
        self,
        *,
        agent_ttl: float = DEFAULT_AGENT_TTL,
        purge_after: float = DEFAULT_PURGE_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        check_lifetimes(agent_ttl, purge_after)
        self.agent_ttl = agent_ttl
        self.purge_after = purge_after
        self._clock = clock
        self._events: dict[str, str] = {}
        self._agents: dict[str, str] = {}
        self._expiry: dict[str, float] = {}
        self._schemas: dict[tuple[str, str], str] = {}
        self._latest_schema: dict[str, str] = {}
        self._counter = 0

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **options: Any) -> Self:
        """A new empty registry (``settings`` is accepted for a uniform construction API)."""
        return cls(**options)

    def _is_live(self, agent_id: str, now: float) -> bool:
        return self._expiry.get(agent_id, float("-inf")) > now

    def _store_events(self, events: list[EventDefinition]) -> bool:
        changed = False
        for event in events:
            text = encode(event)
            if self._events.get(event.event_name) != text:
                self._events[event.event_name] = text
                changed = True
        return changed

    def _purge(self, now: float) -> None:
        stale = [a for a, expiry in self._expiry.items() if expiry < now - self.purge_after]
        for agent_id in stale:
            del self._agents[agent_id], self._expiry[agent_id]

    async def register_event(self, event: EventDefinition) -> None:
        """Create or replace ``event``; the version changes only if its definition did."""
        if self._store_events([check_event(event)]):
            self._counter += 1

    async def get_event(self, event_name: str) -> EventDefinition | None:
        """The definition of ``event_name`` (named schemas filled in), or None."""
        raw = self._events.get(validate_event_name(event_name))
        event = None if raw is None else decode(EventDefinition, raw, event_name)
        return None if event is None else (await resolve_schemas([event], self._latest))[0]

    async def list_events(self, topic: EventTopic | str | None = None) -> list[EventDefinition]:
        """Registered events (named schemas filled in), optionally only those on ``topic``,
        sorted by name."""
        wanted = check_topic(topic)
        events = (decode(EventDefinition, raw, name) for name, raw in self._events.items())
        chosen = select_events((e for e in events if e is not None), wanted)
        return await resolve_schemas(chosen, self._latest)

    async def register_schema(self, schema: PayloadSchema) -> None:
        """Register one version of a named schema (identical again: no-op; different:
        :class:`RegistryConflictError`); it becomes the name's latest version."""
        schema = check_schema(schema)
        key = (schema.schema_name, schema.version)
        text = encode(schema)
        known = self._schemas.get(key)
        if known == text:
            return
        if known is not None:
            raise RegistryConflictError(
                f"schema {schema.schema_name!r} version {schema.version!r} is registered with "
                "other contents; a version is immutable, register a new one"
            )
        self._schemas[key] = text
        self._latest_schema[schema.schema_name] = text
        self._counter += 1

    async def get_schema(
        self, schema_name: str, version: str | None = None
    ) -> PayloadSchema | None:
        """That version of ``schema_name``, or its latest; None when unknown."""
        check_schema_key(schema_name, version)
        if version is None:
            raw = self._latest_schema.get(schema_name)
        else:
            raw = self._schemas.get((schema_name, version))
        return None if raw is None else decode(PayloadSchema, raw, schema_name)

    async def _latest(self, names: Iterable[str]) -> dict[str, PayloadSchema]:
        found = {name: await self.get_schema(name) for name in names}
        return {name: schema for name, schema in found.items() if schema is not None}

    async def register_agent(self, agent: AgentDefinition) -> None:
        """Create or replace ``agent`` with its capabilities' events, and start its TTL."""
        agent = check_agent(agent)
        events = agent_events(agent)
        now = self._clock()
        text = encode(agent)
        changed = self._store_events(events)
        if not self._is_live(agent.agent_id, now) or self._agents.get(agent.agent_id) != text:
            changed = True
        self._agents[agent.agent_id] = text
        self._expiry[agent.agent_id] = now + self.agent_ttl
        self._purge(now)
        if changed:
            self._counter += 1

    async def get_agent(self, agent_id: str) -> AgentDefinition | None:
        """The live agent ``agent_id``, or None when unknown or expired."""
        check_agent_id(agent_id)
        if not self._is_live(agent_id, self._clock()):
            return None
        return decode(AgentDefinition, self._agents[agent_id], agent_id)

    async def list_agents(self, consumed_event: str | None = None) -> list[AgentDefinition]:
        """Live agents, optionally only those consuming ``consumed_event``, sorted by id."""
        if consumed_event is not None:
            validate_event_name(consumed_event)
        now = self._clock()
        agents = (
            decode(AgentDefinition, raw, agent_id)
            for agent_id, raw in self._agents.items()
            if self._is_live(agent_id, now)
        )
        return select_agents((a for a in agents if a is not None), consumed_event)

    async def heartbeat(self, agent_id: str) -> None:
        """Extend ``agent_id``'s TTL (reviving it if it had expired)."""
        check_agent_id(agent_id)
        if agent_id not in self._agents:
            raise UnknownAgentError(agent_id)
        now = self._clock()
        if not self._is_live(agent_id, now):
            self._counter += 1
        self._expiry[agent_id] = now + self.agent_ttl

    async def deregister_agent(self, agent_id: str) -> bool:
        """Remove ``agent_id``; True if it was stored (live or expired)."""
        check_agent_id(agent_id)
        if self._agents.pop(agent_id, None) is None:
            return False
        del self._expiry[agent_id]
        self._counter += 1
        return True

    async def version(self) -> str:
        """``"<changes>.<live agents>"``: differs whenever anything a reader sees changed.

        The change counter moves on every visible write; within one counter value the set of
        live agents can only shrink (expiry), so the live count pins it down.
        """
        now = self._clock()
        live = sum(1 for expiry in self._expiry.values() if expiry > now)
        return f"{self._counter}.{live}"

    async def aclose(self) -> None:
        """Nothing to release."""
