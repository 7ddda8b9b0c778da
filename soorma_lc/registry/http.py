"""SoormaRegistryClient: the Registry protocol over a Soorma Registry service's HTTP API.

Speaks the ``/v1`` API of soorma-core 0.9.1 (camelCase bodies, snake_case answers accepted)
through :class:`~soorma_lc.registry.http_transport.RegistryHttp` (bearer token, extra headers,
retries, typed errors). What the service does differently from the other registries, and how
the client makes up for it, is in :mod:`soorma_lc.registry.soorma_wire` and the class
docstring.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from typing import Any, Self

from pydantic import BaseModel, SecretStr

from soorma_lc.config import Settings, resolve_settings
from soorma_lc.errors import (
    ConfigurationError,
    RegistryConflictError,
    RegistryResponseError,
    UnknownAgentError,
)
from soorma_lc.events import (
    AgentDefinition,
    EventDefinition,
    EventTopic,
    PayloadSchema,
    validate_event_name,
)
from soorma_lc.registry.common import (
    agent_events,
    check_agent,
    check_agent_id,
    check_event,
    check_schema,
    check_topic,
    encode,
    select_agents,
    select_events,
)
from soorma_lc.registry.http_transport import RegistryHttp, body_of, failure
from soorma_lc.registry.schemas import check_schema_key, resolve_schemas
from soorma_lc.registry.soorma_wire import (
    kept_as_sent,
    local_agent_name,
    restored_agent,
    routable_agent_id,
    schema_versions,
    service_agent_name,
)

logger = logging.getLogger(__name__)


def _wire(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(by_alias=True, mode="json")


class SoormaRegistryClient:
    """A :class:`~soorma_lc.registry.base.Registry` backed by a Soorma Registry service.

    ``timeout`` (seconds) bounds each whole call, retries and backoff included: a server that
    answers slowly, or drips its answer byte by byte, costs at most that long before
    :class:`RegistryUnavailableError`. ``retries`` is the number of extra attempts (at most
    10) after a 5xx answer or a connection error, waiting ``backoff * 2**n`` seconds before
    attempt ``n + 1``, while time is left. ``token`` is the bearer JWT (the service's tenancy
    comes from its claims; there is no header-based development mode); ``headers`` are sent
    with every request too (e.g. for a gateway).

    What the service does, and what the client does about it:

    - agent names come back as ``name:1.0.0``: the client registers ``name:1.0.0`` itself and
      strips the version when reading;
    - an agent's capability events are kept as names on forced topics: the client puts the
      registered definitions back;
    - ``list_agents`` answers one instance per agent name (the latest heartbeat), so worker
      instances sharing a name are one agent there; ``get_agent`` reaches each instance;
    - its unfiltered agent list is cached for 30 s, expired agents included: each listed
      agent is confirmed live through the per-event discovery route, which is not;
    - it never changes a registered event's topic and drops an update that meets its 30 s
      read cache: every event registration is read back (and sent once more if it did not
      stick), else :class:`RegistryConflictError`;
    - an agent id with ``/`` cannot be heartbeated or deregistered through its routes: it is
      refused with :class:`InvalidAgentError` before anything is sent;
    - ``EventDefinition.metadata`` is not kept (a warning says so); schema names resolve
      through ``/v1/schemas``; there is no change token, so ``version()`` returns None.
    """

    def __init__(
        self,
        base_url: str,
        token: str | SecretStr | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        *,
        backoff: float = 0.2,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._transport = RegistryHttp(
            base_url, token, timeout=timeout, retries=retries, backoff=backoff, headers=headers
        )
        self.timeout = self._transport.timeout
        self.retries = self._transport.retries
        self.backoff = self._transport.backoff

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **options: Any) -> Self:
        """A client for ``settings.registry_url`` with its token and extra headers."""
        settings = resolve_settings(settings)
        if not settings.registry_url:
            raise ConfigurationError("SOORMA_REGISTRY_URL is not set")
        options.setdefault("headers", settings.registry_headers)
        return cls(settings.registry_url, settings.registry_token, **options)

    async def _upsert(self, path: str, field: str, body: dict[str, Any]) -> None:
        answer = await self._transport.json("POST", path, json={field: body})
        if answer.get("success") is not True:
            raise RegistryResponseError(
                f"Soorma Registry refused the {field}", status_code=200, body=answer
            )

    # --- events ------------------------------------------------------------------------------

    async def _post_event(self, event: EventDefinition) -> None:
        if event.metadata:
            logger.warning(
                "the Soorma Registry does not keep EventDefinition.metadata (event %r)",
                event.event_name,
            )
        await self._upsert("/v1/events", "event", _wire(event))

    async def _not_kept(self, events: Iterable[EventDefinition]) -> list[EventDefinition]:
        """The ``events`` the service does not hold as sent, read back by topic: its by-name
        read is the one whose cache swallows updates, so it is left alone."""
        by_topic: dict[str, list[EventDefinition]] = {}
        for event in events:
            by_topic.setdefault(str(event.topic), []).append(event)
        missing: list[EventDefinition] = []
        for topic, sent in by_topic.items():
            params = {"topic": topic}
            found = await self._transport.items(EventDefinition, "events", "/v1/events", params)
            stored = {e.event_name: e for e in found}
            missing += [e for e in sent if not kept_as_sent(e, stored.get(e.event_name))]
        return missing

    async def _store_events(self, events: list[EventDefinition]) -> None:
        """POST each event, confirm the service holds it as sent, send again what it dropped."""
        for event in events:
            await self._post_event(event)
        dropped = await self._not_kept(events)
        for event in dropped:
            await self._post_event(event)
        dropped = await self._not_kept(dropped)
        if dropped:
            names = ", ".join(repr(e.event_name) for e in dropped)
            raise RegistryConflictError(
                f"the Soorma Registry acknowledged event(s) {names} but serves another "
                "definition: it never changes a registered event's topic (use a new event "
                "name), and drops an update of an event read by name in the previous 30 s "
                "(register it again after that)"
            )

    async def register_event(self, event: EventDefinition) -> None:
        """POST /v1/events (upsert), then read it back (see the class docstring)."""
        await self._store_events([check_event(event)])

    async def get_event(self, event_name: str) -> EventDefinition | None:
        """GET /v1/events?event_name=..., named schemas filled in."""
        validate_event_name(event_name)
        events = await self._transport.items(
            EventDefinition, "events", "/v1/events", {"event_name": event_name}
        )
        found = [e for e in events if e.event_name == event_name]
        return (await resolve_schemas(found, self._latest_schemas))[0] if found else None

    async def list_events(self, topic: EventTopic | str | None = None) -> list[EventDefinition]:
        """GET /v1/events (optionally ?topic=...), sorted by name, named schemas filled in."""
        wanted = check_topic(topic)
        params = {} if wanted is None else {"topic": str(wanted)}
        events = await self._transport.items(EventDefinition, "events", "/v1/events", params)
        return await resolve_schemas(select_events(events, wanted), self._latest_schemas)

    # --- schemas -----------------------------------------------------------------------------

    async def _schema_versions(self) -> dict[str, list[PayloadSchema]]:
        return schema_versions(await self._transport.entries("schemas", "/v1/schemas", {}))

    async def _latest_schemas(self, names: Collection[str]) -> dict[str, PayloadSchema]:
        versions = await self._schema_versions()
        return {name: versions[name][-1] for name in names if versions.get(name)}

    async def register_schema(self, schema: PayloadSchema) -> None:
        """POST /v1/schemas; the service's 409 for a version already registered is fine when
        that version is identical, else :class:`RegistryConflictError`."""
        schema = check_schema(schema)
        response = await self._transport.send("POST", "/v1/schemas", json={"schema": _wire(schema)})
        if response.status_code == 409:
            stored = await self.get_schema(schema.schema_name, schema.version)
            if stored is not None and encode(stored) == encode(schema):
                return
            raise RegistryConflictError(
                f"schema {schema.schema_name!r} version {schema.version!r} is registered with "
                "other contents; a version is immutable, register a new one",
                status_code=409,
                body=body_of(response),
            )
        if response.status_code != 200:
            raise failure("POST", "/v1/schemas", response)
        answer = body_of(response)
        if not isinstance(answer, dict) or answer.get("success") is not True:
            raise RegistryResponseError(
                "Soorma Registry refused the schema", status_code=200, body=answer
            )

    async def get_schema(
        self, schema_name: str, version: str | None = None
    ) -> PayloadSchema | None:
        """That version of ``schema_name`` (or the one created last), from GET /v1/schemas."""
        check_schema_key(schema_name, version)
        versions = (await self._schema_versions()).get(schema_name, [])
        if version is None:
            return versions[-1] if versions else None
        return next((s for s in reversed(versions) if s.version == version), None)

    # --- agents ------------------------------------------------------------------------------

    async def register_agent(self, agent: AgentDefinition) -> None:
        """POST each capability event to /v1/events (read back), then the agent to /v1/agents.

        The service does not register an agent's events itself, so they go first: an agent is
        never discoverable before the events it consumes. The agent goes as ``name:1.0.0``.
        """
        agent = check_agent(agent)
        routable_agent_id(agent.agent_id)
        body = {**_wire(agent), "name": service_agent_name(agent.name)}
        await self._store_events(agent_events(agent))
        await self._upsert("/v1/agents", "agent", body)

    async def _agents(self, path: str, params: dict[str, str]) -> list[AgentDefinition]:
        """The agents of one answer as registered: own names, capability events restored."""
        agents = await self._transport.items(AgentDefinition, "agents", path, params)
        if not any(agent.capabilities for agent in agents):
            return [restored_agent(agent, {}) for agent in agents]
        events = await self._transport.items(EventDefinition, "events", "/v1/events", {})
        by_name = {event.event_name: event for event in events}
        return [restored_agent(agent, by_name) for agent in agents]

    async def _still_live(self, agent: AgentDefinition) -> bool:
        """Whether an agent of ``agent``'s name is live, asked where the service checks the
        heartbeat at query time (per-event discovery); an agent consuming nothing cannot be
        checked there and counts as live."""
        if not agent.consumed_events:
            return True
        params = {"consumed_event": agent.consumed_events[0]}
        current = await self._transport.items(
            AgentDefinition, "agents", "/v1/agents/discover", params
        )
        return agent.name in {local_agent_name(a.name) for a in current}

    async def get_agent(self, agent_id: str) -> AgentDefinition | None:
        """GET /v1/agents?agent_id=...&include_expired=false, confirmed live."""
        check_agent_id(agent_id)
        params = {"agent_id": agent_id, "include_expired": "false"}
        agents = [a for a in await self._agents("/v1/agents", params) if a.agent_id == agent_id]
        if not agents or not await self._still_live(agents[0]):
            return None
        return agents[0]

    async def list_agents(self, consumed_event: str | None = None) -> list[AgentDefinition]:
        """GET /v1/agents/discover?consumed_event=..., or GET /v1/agents without a filter
        (each listed agent confirmed live). One instance per agent name."""
        if consumed_event is not None:
            params = {"consumed_event": validate_event_name(consumed_event)}
            agents = await self._agents("/v1/agents/discover", params)
            return select_agents(agents, consumed_event)
        listed = await self._agents("/v1/agents", {"include_expired": "false"})
        return select_agents([a for a in listed if await self._still_live(a)], None)

    async def heartbeat(self, agent_id: str) -> None:
        """PUT /v1/agents/{agent_id}/heartbeat; 404 means the agent is unknown."""
        path = f"/v1/agents/{routable_agent_id(agent_id)}/heartbeat"
        response = await self._transport.send("PUT", path)
        if response.status_code == 404:
            raise UnknownAgentError(agent_id)
        if response.status_code != 200:
            raise failure("PUT", path, response)

    async def deregister_agent(self, agent_id: str) -> bool:
        """DELETE /v1/agents/{agent_id}: True on 204/200, False on 404."""
        path = f"/v1/agents/{routable_agent_id(agent_id)}"
        response = await self._transport.send("DELETE", path)
        if response.status_code in (200, 204):
            return True
        if response.status_code == 404:
            return False
        raise failure("DELETE", path, response)

    async def version(self) -> None:
        """Always None: the service has no change token, so callers refetch."""
        return None

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._transport.aclose()
