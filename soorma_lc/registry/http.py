"""SoormaRegistryClient: the Registry protocol over a Soorma Registry service's HTTP API.

Speaks the ``/v1`` API of soorma-core (camelCase bodies, snake_case answers accepted), sends
``Authorization: Bearer <token>``, retries 5xx answers and connection errors with exponential
backoff, and turns every failure into a typed error carrying the status and body.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Self
from urllib.parse import quote

import httpx
from pydantic import BaseModel, SecretStr

from soorma_lc.checks import check_int, check_seconds, shown
from soorma_lc.config import Settings, resolve_settings
from soorma_lc.errors import (
    ConfigurationError,
    RegistryResponseError,
    RegistryUnavailableError,
    UnknownAgentError,
)
from soorma_lc.events import AgentDefinition, EventDefinition, EventTopic, validate_event_name
from soorma_lc.jsonvalues import parse_json
from soorma_lc.registry.common import (
    ModelT,
    agent_events,
    check_agent,
    check_agent_id,
    check_event,
    check_topic,
    decode,
    select_agents,
    select_events,
)

logger = logging.getLogger(__name__)

MAX_RETRIES = 10
_MAX_SHOWN_BODY = 10_000


def _body(response: httpx.Response) -> Any:
    """The decoded JSON body, or the raw text when it is not strict JSON (NaN, too deep)."""
    try:
        return parse_json(response.content, "body", RegistryResponseError)
    except RegistryResponseError:
        return response.text[:_MAX_SHOWN_BODY]


def _failure(
    method: str, path: str, response: httpx.Response, problem: str = "failed"
) -> RegistryResponseError:
    return RegistryResponseError(
        f"Soorma Registry {method} {path} {problem}",
        status_code=response.status_code,
        body=_body(response),
    )


def _header_value(value: Any, what: str) -> str:
    """``value`` if it can travel in an HTTP header (no line breaks or control characters)."""
    if not isinstance(value, str) or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ConfigurationError(f"the registry {what} contains a line break or control character")
    try:
        value.encode("ascii")
    except UnicodeEncodeError:
        raise ConfigurationError(f"the registry {what} must be ASCII") from None
    return value


def _wire(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(by_alias=True, mode="json")


class SoormaRegistryClient:
    """A :class:`~soorma_lc.registry.base.Registry` backed by a Soorma Registry service.

    ``timeout`` (seconds) bounds each whole call, retries and backoff included: a server that
    answers slowly, or drips its answer byte by byte, costs at most that long before
    :class:`RegistryUnavailableError`. ``retries`` is the number of extra attempts (at most
    10) after a 5xx answer or a connection error, waiting ``backoff * 2**n`` seconds before
    attempt ``n + 1``, while time is left. ``tenant_id``, when
    given, is sent as ``X-Tenant-ID`` (Soorma's development-mode tenancy header; with a JWT the
    token's claims decide). The service cannot report a cheap change token, so ``version()``
    returns None. Soorma's EventDefinition has no ``metadata`` field: it is sent but not kept.
    """

    def __init__(
        self,
        base_url: str,
        token: str | SecretStr | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        *,
        backoff: float = 0.2,
        tenant_id: str | None = None,
    ) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"Soorma Registry URL must be http(s)://, got {shown(base_url)}"
            )
        self.timeout = check_seconds(timeout, "timeout", positive=True)
        self.retries = check_int(retries, "retries", minimum=0, maximum=MAX_RETRIES)
        self.backoff = check_seconds(backoff, "backoff")
        headers = {"Accept": "application/json"}
        if isinstance(token, SecretStr):
            token = token.get_secret_value()
        if token:
            headers["Authorization"] = f"Bearer {_header_value(token, 'token')}"
        if tenant_id:
            headers["X-Tenant-ID"] = _header_value(tenant_id, "tenant_id")
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=headers, timeout=self.timeout
        )

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **options: Any) -> Self:
        """A client for ``settings.registry_url`` with its token and tenant."""
        settings = resolve_settings(settings)
        if not settings.registry_url:
            raise ConfigurationError("SOORMA_REGISTRY_URL is not set")
        options.setdefault("tenant_id", settings.tenant_id)
        return cls(settings.registry_url, settings.registry_token, **options)

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request, retried on 5xx and transport errors; any other answer is returned.

        The whole call, every attempt and backoff included, ends within ``timeout``.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        last: httpx.Response | httpx.TransportError | None = None
        attempts = 0
        for attempt in range(self.retries + 1):
            if attempt:
                pause = self.backoff * 2 ** (attempt - 1)
                if loop.time() + pause >= deadline:
                    break
                await asyncio.sleep(pause)
            attempts += 1
            try:
                async with asyncio.timeout_at(deadline):
                    response = await self._http.request(method, path, **kwargs)
            except TimeoutError:
                raise RegistryUnavailableError(
                    f"Soorma Registry {method} {path} did not answer within {self.timeout:g} s"
                ) from None
            except httpx.TransportError as exc:
                last = exc
                logger.warning("Soorma Registry %s %s failed: %r", method, path, exc)
                continue
            except httpx.HTTPError as exc:  # e.g. a malformed URL built from our own path
                raise RegistryResponseError(
                    f"Soorma Registry {method} {path} could not be sent: {exc}"
                ) from exc
            if response.status_code < 500:
                return response
            last = response
            logger.warning("Soorma Registry %s %s answered %s", method, path, response.status_code)
        if isinstance(last, httpx.Response):
            raise RegistryUnavailableError(
                f"Soorma Registry {method} {path} answered {last.status_code} "
                f"{attempts} times: {_body(last)!r}",
                status_code=last.status_code,
                body=_body(last),
            )
        raise RegistryUnavailableError(
            f"Soorma Registry {method} {path} unreachable after {attempts} attempts: {last!r}"
        )

    async def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """A request that must answer 200 with a JSON object."""
        response = await self._send(method, path, **kwargs)
        if response.status_code != 200:
            raise _failure(method, path, response)
        body = _body(response)
        if not isinstance(body, dict):
            raise _failure(method, path, response, "answered malformed JSON")
        return body

    async def _items(
        self, model: type[ModelT], key: str, path: str, params: dict[str, str]
    ) -> list[ModelT]:
        """GET a ``{key: [...], count}`` answer and decode its readable entries."""
        body = await self._json("GET", path, params=params)
        entries = body.get(key)
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise RegistryResponseError(
                f"Soorma Registry GET {path} answered without a list of {key!r}",
                status_code=200,
                body=body,
            )
        decoded = (
            decode(model, {k: v for k, v in entry.items() if v is not None}, f"{key}[{i}]")
            for i, entry in enumerate(entries)
        )
        return [item for item in decoded if item is not None]

    async def _upsert(self, path: str, field: str, model: BaseModel) -> None:
        body = await self._json("POST", path, json={field: _wire(model)})
        if body.get("success") is not True:
            raise RegistryResponseError(
                f"Soorma Registry refused the {field}", status_code=200, body=body
            )

    async def _post_event(self, event: EventDefinition) -> None:
        if event.metadata:
            logger.warning(
                "the Soorma Registry does not keep EventDefinition.metadata (event %r)",
                event.event_name,
            )
        await self._upsert("/v1/events", "event", event)

    async def register_event(self, event: EventDefinition) -> None:
        """POST /v1/events (upsert)."""
        await self._post_event(check_event(event))

    async def get_event(self, event_name: str) -> EventDefinition | None:
        """GET /v1/events?event_name=..."""
        validate_event_name(event_name)
        events = await self._items(
            EventDefinition, "events", "/v1/events", {"event_name": event_name}
        )
        return next((e for e in events if e.event_name == event_name), None)

    async def list_events(self, topic: EventTopic | str | None = None) -> list[EventDefinition]:
        """GET /v1/events (optionally ?topic=...), sorted by name."""
        wanted = check_topic(topic)
        params = {} if wanted is None else {"topic": wanted.value}
        return select_events(
            await self._items(EventDefinition, "events", "/v1/events", params), wanted
        )

    async def register_agent(self, agent: AgentDefinition) -> None:
        """POST each capability event to /v1/events, then the agent to /v1/agents.

        The service does not register an agent's events itself, so they go first: an agent is
        never discoverable before the events it consumes.
        """
        agent = check_agent(agent)
        for event in agent_events(agent):
            await self._post_event(event)
        await self._upsert("/v1/agents", "agent", agent)

    async def get_agent(self, agent_id: str) -> AgentDefinition | None:
        """GET /v1/agents?agent_id=...&include_expired=false"""
        check_agent_id(agent_id)
        params = {"agent_id": agent_id, "include_expired": "false"}
        agents = await self._items(AgentDefinition, "agents", "/v1/agents", params)
        return next((a for a in agents if a.agent_id == agent_id), None)

    async def list_agents(self, consumed_event: str | None = None) -> list[AgentDefinition]:
        """GET /v1/agents/discover?consumed_event=..., or GET /v1/agents without a filter."""
        if consumed_event is None:
            path, params = "/v1/agents", {"include_expired": "false"}
        else:
            path, params = (
                "/v1/agents/discover",
                {"consumed_event": validate_event_name(consumed_event)},
            )
        agents = await self._items(AgentDefinition, "agents", path, params)
        return select_agents(agents, consumed_event)

    def _agent_path(self, agent_id: str) -> str:
        return f"/v1/agents/{quote(check_agent_id(agent_id), safe='')}"

    async def heartbeat(self, agent_id: str) -> None:
        """PUT /v1/agents/{agent_id}/heartbeat; 404 means the agent is unknown."""
        path = self._agent_path(agent_id) + "/heartbeat"
        response = await self._send("PUT", path)
        if response.status_code == 404:
            raise UnknownAgentError(agent_id)
        if response.status_code != 200:
            raise _failure("PUT", path, response)

    async def deregister_agent(self, agent_id: str) -> bool:
        """DELETE /v1/agents/{agent_id}: True on 204/200, False on 404."""
        path = self._agent_path(agent_id)
        response = await self._send("DELETE", path)
        if response.status_code in (200, 204):
            return True
        if response.status_code == 404:
            return False
        raise _failure("DELETE", path, response)

    async def version(self) -> None:
        """Always None: the service has no change token, so callers refetch."""
        return None

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._http.aclose()
