"""A fake of soorma-core 0.9.1's Registry service, mounted with respx.

It follows the service's source (soorma-core ``services/registry`` at v0.9.1, with
``soorma_service_common``'s tenancy middleware), not its written reference, and parses every
request with soorma-common 0.9.1's own DTOs, as the service does:

- auth: every route needs ``Authorization: Bearer <JWT>``: none gives 401 "Missing bearer
  token", an unknown one 401 "Invalid JWT". The token's claims name the platform tenant
  (``tokens`` maps token -> tenant); there is no X-Tenant-ID development mode.
- routing: the path is percent-decoded before routing (Starlette), and ``{agent_id}`` is one
  segment, so an id with ``/`` never reaches the agent routes (404 "Not Found").
- agents: soorma-common's ``AgentDefinition`` appends ``:1.0.0`` to a name without a colon;
  capability events are stored as names and come back on forced topics (action-requests /
  action-results) without schemas; every listing keeps one agent per name (the latest
  heartbeat), except the lookup by ``agent_id``; ``?name=`` answers nothing (the service calls
  its CRUD function with one argument too many and swallows the TypeError).
- expiry: an agent is live while ``now - last_heartbeat <= agent_ttl``; a cleanup every 60 s
  deletes the expired ones (a heartbeat after that is a 404).
- caches (``cachetools.TTLCache``, 30 s, cleared whole by any write of the same kind): the
  unfiltered agent list and the lookup by ``agent_id`` answer what they read up to 30 s
  earlier (expired agents included); the per-event discovery filters expiry at query time.
  An event read by name is cached as a detached ORM row, and an upsert that finds it there
  changes only that copy: it answers "updated" and the stored event stays as it was. An
  upsert never changes an event's topic.
- schemas: (name, version) is immutable (409 on a second registration); the latest version of
  a name is the one created last.

``now`` is the fake's clock in seconds; tests move it. Errors are FastAPI's ``{"detail": ...}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import httpx
import respx
from pydantic import BaseModel, ValidationError
from soorma_common import (
    AgentCapability,
    AgentDefinition,
    AgentQueryResponse,
    AgentRegistrationRequest,
    AgentRegistrationResponse,
    EventDefinition,
    EventQueryResponse,
    EventRegistrationRequest,
    EventRegistrationResponse,
    PayloadSchema,
    PayloadSchemaListResponse,
    PayloadSchemaRegistrationRequest,
    PayloadSchemaResponse,
)

DEFAULT_TOKEN = "test-jwt"
DEFAULT_TENANT = "platform-tenant-1"
CACHE_TTL = 30.0
CLEANUP_INTERVAL = 60.0
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class Invalid(Exception):
    """A request the service answers 422 (FastAPI's validation error)."""

    def __init__(self, errors: Any) -> None:
        super().__init__(str(errors))
        self.errors = errors


@dataclass
class StoredAgent:
    """One row of the agents table with its capabilities (event names only)."""

    agent_id: str
    name: str
    description: str
    consumed_events: list[str]
    produced_events: list[str]
    capabilities: list[tuple[str, str, str, list[str]]]
    last_heartbeat: float

    def as_dto(self) -> AgentDefinition:
        """The service's ``agent_to_dto``: capability events on forced topics."""
        return AgentDefinition(
            agent_id=self.agent_id,
            name=self.name,
            description=self.description,
            capabilities=[
                AgentCapability(
                    task_name=task,
                    description=description,
                    consumed_event=EventDefinition(
                        event_name=consumed, topic="action-requests", description=""
                    ),
                    produced_events=[
                        EventDefinition(event_name=name, topic="action-results", description="")
                        for name in produced
                    ],
                )
                for task, description, consumed, produced in self.capabilities
            ],
            consumed_events=list(self.consumed_events),
            produced_events=list(self.produced_events),
        )


@dataclass
class Tenant:
    """The rows one platform tenant sees (row-level security)."""

    events: dict[str, EventDefinition] = field(default_factory=dict)
    agents: dict[str, StoredAgent] = field(default_factory=dict)
    schemas: list[tuple[datetime, PayloadSchema]] = field(default_factory=list)


class FakeSoormaRegistry:
    """State and handlers of one fake registry service at ``base_url``."""

    def __init__(
        self,
        base_url: str = "http://registry.test",
        *,
        tokens: dict[str, str] | None = None,
        agent_ttl: float = 300.0,
        snake_answers: bool = False,
    ) -> None:
        self.base_url = base_url
        self.tokens = {DEFAULT_TOKEN: DEFAULT_TENANT} if tokens is None else dict(tokens)
        self.agent_ttl = agent_ttl
        self.snake_answers = snake_answers
        self.now = 0.0
        self.tenants: dict[str, Tenant] = {name: Tenant() for name in self.tokens.values()}
        self._event_cache: dict[tuple[str, str], tuple[float, EventDefinition]] = {}
        self._agent_cache: dict[tuple[Any, ...], tuple[float, list[StoredAgent]]] = {}
        self._next_cleanup = CLEANUP_INTERVAL
        self._created = 0

    def mount(self, router: respx.MockRouter) -> None:
        """Add this service's routes to ``router``."""
        router.route(url__startswith=self.base_url).mock(side_effect=self.handle)

    def tenant(self, name: str = DEFAULT_TENANT) -> Tenant:
        return self.tenants.setdefault(name, Tenant())

    # --- HTTP ------------------------------------------------------------------------------

    def _answer(self, model: BaseModel, status: int = 200) -> httpx.Response:
        body = model.model_dump(mode="json", by_alias=not self.snake_answers)
        return httpx.Response(status, json=body)

    @staticmethod
    def _detail(status: int, detail: Any) -> httpx.Response:
        return httpx.Response(status, json={"detail": detail})

    def _platform_tenant(self, request: httpx.Request) -> str | httpx.Response:
        value = request.headers.get("authorization", "")
        token = value[len("bearer ") :].strip() if value.lower().startswith("bearer ") else ""
        if not token:
            return self._detail(401, "Missing bearer token")
        if token not in self.tokens:
            return self._detail(401, "Invalid JWT")
        return self.tokens[token]

    def handle(self, request: httpx.Request) -> httpx.Response:
        tenant_name = self._platform_tenant(request)
        if isinstance(tenant_name, httpx.Response):
            return tenant_name
        self._clean_up()
        tenant = self.tenant(tenant_name)
        path = unquote(request.url.raw_path.decode().split("?")[0])
        parts = path.strip("/").split("/")[1:] if path.startswith("/v1/") else None
        try:
            return self._route(request, tenant_name, tenant, parts or [])
        except Invalid as exc:
            return self._detail(422, exc.errors)

    def _route(
        self, request: httpx.Request, name: str, tenant: Tenant, parts: list[str]
    ) -> httpx.Response:
        method, params = request.method, request.url.params
        match parts:
            case ["events"] if method == "POST":
                return self._register_event(name, tenant, request)
            case ["events"] if method == "GET":
                return self._query_events(name, tenant, params)
            case ["agents"] if method == "POST":
                return self._register_agent(tenant, request)
            case ["agents"] if method == "GET":
                return self._query_agents(name, tenant, params)
            case ["agents", "discover"] if method == "GET":
                return self._discover(name, tenant, params)
            case ["agents", agent_id, "heartbeat"] if method in ("POST", "PUT"):
                return self._heartbeat(tenant, agent_id)
            case ["agents", agent_id] if method == "DELETE":
                return self._delete(tenant, agent_id)
            case ["schemas"] if method == "POST":
                return self._register_schema(tenant, request)
            case ["schemas"] if method == "GET":
                schemas = sorted((s for _, s in tenant.schemas), key=lambda s: s.schema_name)
                return self._answer(PayloadSchemaListResponse(schemas=schemas, count=len(schemas)))
            case ["schemas", schema_name] if method == "GET":
                return self._schema(tenant, schema_name, None)
            case ["schemas", schema_name, "versions", version] if method == "GET":
                return self._schema(tenant, schema_name, version)
        return self._detail(404, "Not Found")

    @staticmethod
    def _parse(model: type[BaseModel], request: httpx.Request) -> Any:
        try:
            body = json.loads(request.content)
        except ValueError as exc:
            raise Invalid([{"type": "json_invalid", "msg": str(exc)}]) from exc
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            raise Invalid(json.loads(exc.json(include_url=False))) from exc

    # --- time ------------------------------------------------------------------------------

    def _live(self, agent: StoredAgent, now: float | None = None) -> bool:
        return agent.last_heartbeat >= (self.now if now is None else now) - self.agent_ttl

    def _clean_up(self) -> None:
        """The background task: every 60 s, delete the agents expired at that moment."""
        while self._next_cleanup <= self.now:
            for tenant in self.tenants.values():
                for agent_id, agent in list(tenant.agents.items()):
                    if not self._live(agent, self._next_cleanup):
                        del tenant.agents[agent_id]
                        self._agent_cache.clear()
            self._next_cleanup += CLEANUP_INTERVAL

    def _cached(self, cache: dict[Any, tuple[float, Any]], key: Any) -> Any:
        entry = cache.get(key)
        if entry is None or self.now - entry[0] >= CACHE_TTL:
            cache.pop(key, None)
            return None
        return entry[1]

    # --- events ----------------------------------------------------------------------------

    def _event_by_name(self, name: str, tenant: Tenant, event_name: str) -> EventDefinition | None:
        """``get_event_by_name`` behind its cache: a copy of the row as read then."""
        cached = self._cached(self._event_cache, (name, event_name))
        if cached is not None:
            return cached
        found = tenant.events.get(event_name)
        if found is not None:
            self._event_cache[(name, event_name)] = (self.now, found.model_copy(deep=True))
        return found

    def _register_event(self, name: str, tenant: Tenant, request: httpx.Request) -> httpx.Response:
        event = self._parse(EventRegistrationRequest, request).event
        cached = self._cached(self._event_cache, (name, event.event_name))
        stored = tenant.events.get(event.event_name)
        if cached is None and stored is not None:
            update = event.model_dump(exclude={"event_name", "topic"})
            tenant.events[event.event_name] = stored.model_copy(update=update)
        elif stored is None:
            tenant.events[event.event_name] = event
        # else: the cached copy is detached from the session; the update is lost
        self._event_cache.clear()
        verb = "updated" if stored is not None else "registered"
        return self._answer(
            EventRegistrationResponse(
                event_name=event.event_name,
                success=True,
                message=f"Event '{event.event_name}' {verb} successfully.",
            )
        )

    def _query_events(self, name: str, tenant: Tenant, params: httpx.QueryParams) -> httpx.Response:
        if params.get("event_name"):
            found = self._event_by_name(name, tenant, params["event_name"])
            events = [] if found is None else [found]
        else:
            events = [
                e
                for _, e in sorted(tenant.events.items())
                if not params.get("topic") or e.topic == params["topic"]
            ]
        return self._answer(EventQueryResponse(events=events, count=len(events)))

    # --- agents ----------------------------------------------------------------------------

    def _register_agent(self, tenant: Tenant, request: httpx.Request) -> httpx.Response:
        agent = self._parse(AgentRegistrationRequest, request).agent
        existed = agent.agent_id in tenant.agents
        tenant.agents[agent.agent_id] = StoredAgent(
            agent_id=agent.agent_id,
            name=agent.name,
            description=agent.description,
            consumed_events=agent.consumed_events
            or sorted({c.consumed_event.event_name for c in agent.capabilities}),
            produced_events=agent.produced_events
            or sorted({e.event_name for c in agent.capabilities for e in c.produced_events}),
            capabilities=[
                (
                    c.task_name,
                    c.description,
                    c.consumed_event.event_name,
                    [e.event_name for e in c.produced_events],
                )
                for c in agent.capabilities
            ],
            last_heartbeat=self.now,
        )
        self._agent_cache.clear()
        verb = "updated" if existed else "registered"
        return self._answer(
            AgentRegistrationResponse(
                agent_id=agent.agent_id,
                success=True,
                message=f"Agent '{agent.agent_id}' {verb} successfully.",
            )
        )

    def _one_per_name(self, agents: list[StoredAgent]) -> list[StoredAgent]:
        latest: dict[str, StoredAgent] = {}
        for agent in agents:
            if agent.name not in latest or agent.last_heartbeat > latest[agent.name].last_heartbeat:
                latest[agent.name] = agent
        return list(latest.values())

    def _agents_answer(self, agents: list[StoredAgent]) -> httpx.Response:
        dtos = [agent.as_dto() for agent in agents]
        return self._answer(AgentQueryResponse(agents=dtos, count=len(dtos)))

    def _all_live(self, name: str, tenant: Tenant) -> list[StoredAgent]:
        """``get_all_agents`` behind its cache: expiry as of when it was read."""
        cached = self._cached(self._agent_cache, (name, "all"))
        if cached is None:
            ordered = sorted(tenant.agents.values(), key=lambda a: a.name)
            cached = [a for a in ordered if self._live(a)]
            self._agent_cache[(name, "all")] = (self.now, cached)
        return cached

    def _query_agents(self, name: str, tenant: Tenant, params: httpx.QueryParams) -> httpx.Response:
        include_expired = params.get("include_expired", "false").lower() == "true"
        ordered = sorted(tenant.agents.values(), key=lambda a: a.name)
        if params.get("agent_id"):
            key = (name, "id", params["agent_id"], include_expired)
            found = self._cached(self._agent_cache, key)
            if found is None:
                agent = tenant.agents.get(params["agent_id"])
                found = [agent] if agent and (include_expired or self._live(agent)) else []
                if found:
                    self._agent_cache[key] = (self.now, found)
            return self._agents_answer(found)
        if params.get("name"):
            return self._agents_answer([])
        for wanted, attribute in (
            ("consumed_event", "consumed_events"),
            ("produced_event", "produced_events"),
        ):
            if params.get(wanted):
                matching = [a for a in ordered if params[wanted] in getattr(a, attribute)]
                live = [a for a in matching if include_expired or self._live(a)]
                return self._agents_answer(self._one_per_name(live))
        agents = ordered if include_expired else self._all_live(name, tenant)
        return self._agents_answer(self._one_per_name(agents))

    def _discover(self, name: str, tenant: Tenant, params: httpx.QueryParams) -> httpx.Response:
        wanted = {"consumed_event": params["consumed_event"]} if "consumed_event" in params else {}
        return self._query_agents(name, tenant, httpx.QueryParams(wanted))

    def _heartbeat(self, tenant: Tenant, agent_id: str) -> httpx.Response:
        agent = tenant.agents.get(agent_id)
        if agent is None:
            return self._detail(404, f"Agent '{agent_id}' not found.")
        agent.last_heartbeat = self.now
        self._agent_cache.clear()
        return self._answer(
            AgentRegistrationResponse(
                agent_id=agent_id,
                success=True,
                message=f"Agent '{agent_id}' heartbeat refreshed successfully.",
            )
        )

    def _delete(self, tenant: Tenant, agent_id: str) -> httpx.Response:
        if tenant.agents.pop(agent_id, None) is None:
            return self._detail(404, f"Agent '{agent_id}' not found")
        self._agent_cache.clear()
        return httpx.Response(204)

    # --- schemas ---------------------------------------------------------------------------

    def _register_schema(self, tenant: Tenant, request: httpx.Request) -> httpx.Response:
        schema = self._parse(PayloadSchemaRegistrationRequest, request).payload_schema
        if any(
            (s.schema_name, s.version) == (schema.schema_name, schema.version)
            for _, s in tenant.schemas
        ):
            return self._detail(
                409,
                f"Schema '{schema.schema_name}@{schema.version}' already exists for this tenant",
            )
        self._created += 1
        created = _EPOCH + timedelta(seconds=self.now, microseconds=self._created)
        tenant.schemas.append(
            (created, schema.model_copy(update={"created_at": created, "updated_at": created}))
        )
        return self._answer(
            PayloadSchemaResponse(
                schema_name=schema.schema_name,
                version=schema.version,
                success=True,
                message=f"Schema '{schema.schema_name}@{schema.version}' registered successfully.",
            )
        )

    def _schema(self, tenant: Tenant, schema_name: str, version: str | None) -> httpx.Response:
        matching = [
            (created, s)
            for created, s in tenant.schemas
            if s.schema_name == schema_name and version in (None, s.version)
        ]
        if not matching:
            shown = schema_name if version is None else f"{schema_name}@{version}"
            return self._detail(404, f"Schema '{shown}' not found")
        return self._answer(max(matching, key=lambda item: item[0])[1])
