"""An in-memory fake of the Soorma Registry HTTP API (SOORMA_REFERENCE.md), mounted with respx.

It is written independently of soorma_lc's models: it reads camelCase or snake_case request
bodies by hand, keeps only the fields Soorma's DTOs have, answers in camelCase (or snake_case
with ``snake_answers=True``), checks the bearer token, expires agents ``agent_ttl`` seconds
after their last heartbeat on an injectable clock, and answers errors the way FastAPI does
(``{"detail": ...}``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import httpx
import respx

EVENT_FIELDS = (
    "event_name",
    "topic",
    "description",
    "payload_schema",
    "response_schema",
    "payload_schema_name",
    "response_schema_name",
)
REQUIRED_EVENT_FIELDS = ("event_name", "topic", "description")
AGENT_ID_PATH = re.compile(r"^/v1/agents/(?P<agent_id>[^/]+)(?P<heartbeat>/heartbeat)?$")


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def pick(body: dict[str, Any], field: str) -> Any:
    """A field given either in camelCase or snake_case."""
    return body[camel(field)] if camel(field) in body else body.get(field)


class Invalid(Exception):
    """A request body the real service would reject with 422."""


def read_event(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise Invalid("event must be an object")
    for field in REQUIRED_EVENT_FIELDS:
        if not isinstance(pick(body, field), str):
            raise Invalid(f"event.{field} is required")
    return {field: pick(body, field) for field in EVENT_FIELDS}


def read_agent(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise Invalid("agent must be an object")
    for field in ("agent_id", "name", "description"):
        if not isinstance(pick(body, field), str):
            raise Invalid(f"agent.{field} is required")
    capabilities = []
    for cap in pick(body, "capabilities") or []:
        capabilities.append(
            {
                "task_name": pick(cap, "task_name"),
                "description": pick(cap, "description"),
                "consumed_event": read_event(pick(cap, "consumed_event")),
                "produced_events": [read_event(e) for e in pick(cap, "produced_events") or []],
            }
        )
    consumed = pick(body, "consumed_events") or sorted(
        {c["consumed_event"]["event_name"] for c in capabilities}
    )
    produced = pick(body, "produced_events") or sorted(
        {e["event_name"] for c in capabilities for e in c["produced_events"]}
    )
    return {
        "agent_id": pick(body, "agent_id"),
        "name": pick(body, "name"),
        "description": pick(body, "description"),
        "capabilities": capabilities,
        "consumed_events": consumed,
        "produced_events": produced,
    }


def outward(value: Any, snake: bool) -> Any:
    """Rename our snake_case DTO keys for the wire (schemas inside are left untouched)."""
    if isinstance(value, list):
        return [outward(v, snake) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        inner = item if key in ("payload_schema", "response_schema") else outward(item, snake)
        out[key if snake else camel(key)] = inner
    return out


class FakeSoormaRegistry:
    """State and handlers of one fake registry service at ``base_url``."""

    def __init__(
        self,
        base_url: str = "http://registry.test",
        *,
        token: str | None = None,
        agent_ttl: float = 300.0,
        snake_answers: bool = False,
    ) -> None:
        self.base_url = base_url
        self.token = token
        self.agent_ttl = agent_ttl
        self.snake_answers = snake_answers
        self.now = 0.0
        self.clock: Callable[[], float] = lambda: self.now
        self.events: dict[str, dict[str, Any]] = {}
        self.agents: dict[str, dict[str, Any]] = {}
        self.heartbeats: dict[str, float] = {}

    def mount(self, router: respx.MockRouter) -> None:
        """Add this service's routes to ``router``."""
        router.route(url__startswith=self.base_url).mock(side_effect=self.handle)

    def _answer(self, status: int, body: Any = None) -> httpx.Response:
        if body is None:
            return httpx.Response(status)
        return httpx.Response(status, json=outward(body, self.snake_answers))

    def _live(self, agent_id: str) -> bool:
        return self.clock() - self.heartbeats[agent_id] <= self.agent_ttl

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.token is not None and request.headers.get("authorization") != (
            f"Bearer {self.token}"
        ):
            return httpx.Response(401, json={"detail": "Not authenticated"})
        path = request.url.raw_path.decode().split("?")[0]
        params = request.url.params
        try:
            if path == "/v1/events":
                if request.method == "POST":
                    return self._register_event(request)
                if request.method == "GET":
                    return self._query_events(params)
            if path == "/v1/agents":
                if request.method == "POST":
                    return self._register_agent(request)
                if request.method == "GET":
                    return self._query_agents(params)
            if path == "/v1/agents/discover" and request.method == "GET":
                return self._agents_answer(
                    a for a in self._visible(False) if self._consumes(a, params)
                )
            match = AGENT_ID_PATH.match(path)
            if match:
                agent_id = unquote(match["agent_id"])
                if match["heartbeat"] and request.method in ("POST", "PUT"):
                    return self._heartbeat(agent_id)
                if not match["heartbeat"] and request.method == "DELETE":
                    return self._delete(agent_id)
        except Invalid as exc:
            return httpx.Response(422, json={"detail": [{"msg": str(exc)}]})
        return httpx.Response(404, json={"detail": "Not Found"})

    def _body(self, request: httpx.Request, field: str) -> Any:
        try:
            body = json.loads(request.content)
        except ValueError as exc:
            raise Invalid("body is not JSON") from exc
        if not isinstance(body, dict) or field not in body:
            raise Invalid(f"body.{field} is required")
        return body[field]

    def _register_event(self, request: httpx.Request) -> httpx.Response:
        event = read_event(self._body(request, "event"))
        self.events[event["event_name"]] = event
        return self._answer(
            200, {"event_name": event["event_name"], "success": True, "message": "registered"}
        )

    def _query_events(self, params: httpx.QueryParams) -> httpx.Response:
        events = [
            e
            for e in self.events.values()
            if params.get("event_name") in (None, e["event_name"])
            and params.get("topic") in (None, e["topic"])
        ]
        return self._answer(200, {"events": events, "count": len(events)})

    def _register_agent(self, request: httpx.Request) -> httpx.Response:
        agent = read_agent(self._body(request, "agent"))
        self.agents[agent["agent_id"]] = agent
        self.heartbeats[agent["agent_id"]] = self.clock()
        return self._answer(
            200, {"agent_id": agent["agent_id"], "success": True, "message": "registered"}
        )

    def _visible(self, include_expired: bool) -> list[dict[str, Any]]:
        return [a for a in self.agents.values() if include_expired or self._live(a["agent_id"])]

    @staticmethod
    def _consumes(agent: dict[str, Any], params: httpx.QueryParams) -> bool:
        wanted = params.get("consumed_event")
        return wanted is None or wanted in agent["consumed_events"]

    def _query_agents(self, params: httpx.QueryParams) -> httpx.Response:
        include_expired = params.get("include_expired", "false").lower() == "true"
        return self._agents_answer(
            a
            for a in self._visible(include_expired)
            if params.get("agent_id") in (None, a["agent_id"])
            and params.get("name") in (None, a["name"])
            and self._consumes(a, params)
            and params.get("produced_event") in (None, *a["produced_events"])
        )

    def _agents_answer(self, agents: Any) -> httpx.Response:
        found = list(agents)
        return self._answer(200, {"agents": found, "count": len(found)})

    def _heartbeat(self, agent_id: str) -> httpx.Response:
        if agent_id not in self.agents:
            return httpx.Response(404, json={"detail": f"Agent '{agent_id}' not found."})
        self.heartbeats[agent_id] = self.clock()
        return self._answer(200, {"agent_id": agent_id, "success": True, "message": "refreshed"})

    def _delete(self, agent_id: str) -> httpx.Response:
        if self.agents.pop(agent_id, None) is None:
            return httpx.Response(404, json={"detail": f"Agent '{agent_id}' not found"})
        del self.heartbeats[agent_id]
        return self._answer(204)
