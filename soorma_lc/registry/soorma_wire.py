"""What soorma-core's Registry service (0.9.1) does to what it is sent, and the way back.

Read from the service's source (``services/registry`` in soorma-core): it appends
``:<version>`` to an agent name without a colon (soorma-common's ``AgentDefinition``), keeps
only the names of an agent's capability events (handing them back on forced topics,
action-requests for the consumed event and action-results for produced ones, without
schemas), never changes a registered event's topic, orders schema versions by creation time,
and routes an agent id as one URL path segment (so an id with ``/`` cannot be addressed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from soorma_lc.checks import MAX_NAME_LENGTH
from soorma_lc.errors import InvalidAgentError
from soorma_lc.events import AgentCapability, AgentDefinition, EventDefinition, PayloadSchema
from soorma_lc.registry.common import check_agent_id, decode

AGENT_VERSION = "1.0.0"
"""The version soorma-lc registers its agents under (the service's own default)."""
_VERSION_SUFFIX = re.compile(r":v?\d[\w.+-]*\Z")
MAX_AGENT_NAME_LENGTH = MAX_NAME_LENGTH - len(f":{AGENT_VERSION}")
"""Longest agent name the service can store once the version is appended (its column is 255)."""


def service_agent_name(name: str) -> str:
    """The name as the service stores it: ``name:1.0.0``.

    Always appended, so a name that contains a colon itself reads back whole.
    """
    if len(name) > MAX_AGENT_NAME_LENGTH:
        raise InvalidAgentError(
            f"agent name {name[:80]!r} is {len(name)} characters long; the Soorma Registry "
            f"stores at most {MAX_AGENT_NAME_LENGTH} (it appends ':{AGENT_VERSION}')"
        )
    return f"{name}:{AGENT_VERSION}"


def local_agent_name(name: str) -> str:
    """The name without the ``:<version>`` the service appended (``summarizer:1.0.0`` ->
    ``summarizer``); a name without a version-like suffix is kept as it is."""
    return _VERSION_SUFFIX.sub("", name) or name


def routable_agent_id(agent_id: str) -> str:
    """``agent_id`` as one URL path segment of the service's agent routes.

    An id with ``/`` is refused with :class:`InvalidAgentError`: Starlette decodes ``%2F``
    before routing, so no encoding reaches the route. ``.`` and ``..`` are escaped (HTTP
    clients would resolve them as path segments).
    """
    check_agent_id(agent_id)
    if "/" in agent_id:
        raise InvalidAgentError(
            f"agent id {agent_id[:80]!r} contains '/': the Soorma Registry's heartbeat and "
            "deregistration routes cannot address it; choose an id without '/'"
        )
    segment = quote(agent_id, safe="")
    return segment.replace(".", "%2E") if segment in (".", "..") else segment


def restored_agent(
    agent: AgentDefinition, events: Mapping[str, EventDefinition]
) -> AgentDefinition:
    """``agent`` as read from the service, with its own name and the capability events'
    registered definitions in place of the service's name-only placeholders (a name with no
    registered definition keeps the placeholder)."""
    capabilities = [
        AgentCapability(
            task_name=capability.task_name,
            description=capability.description,
            consumed_event=events.get(
                capability.consumed_event.event_name, capability.consumed_event
            ),
            produced_events=[events.get(e.event_name, e) for e in capability.produced_events],
        )
        for capability in agent.capabilities
    ]
    return AgentDefinition(
        agent_id=agent.agent_id,
        name=local_agent_name(agent.name),
        description=agent.description,
        capabilities=capabilities,
        consumed_events=agent.consumed_events,
        produced_events=agent.produced_events,
    )


def kept_as_sent(sent: EventDefinition, stored: EventDefinition | None) -> bool:
    """Whether the service holds ``sent`` as it was sent (it keeps no ``metadata``)."""
    return stored is not None and stored == sent.model_copy(update={"metadata": {}})


def schema_versions(entries: Iterable[Mapping[str, Any]]) -> dict[str, list[PayloadSchema]]:
    """The readable schemas of a ``GET /v1/schemas`` answer by name, oldest first.

    The service calls the most recently created version of a name its latest, so versions
    are ordered by ``createdAt`` (answer order where it is missing or unreadable).
    """
    found: dict[str, list[tuple[datetime | None, int, PayloadSchema]]] = {}
    for index, entry in enumerate(entries):
        schema = decode(PayloadSchema, dict(entry), f"schemas[{index}]")
        if schema is not None:
            created = _timestamp(entry.get("createdAt", entry.get("created_at")))
            found.setdefault(schema.schema_name, []).append((created, index, schema))
    return {
        name: [schema for *_, schema in sorted(versions, key=_creation_order)]
        for name, versions in found.items()
    }


def _creation_order(item: tuple[datetime | None, int, PayloadSchema]) -> tuple[float, int]:
    created, index, _ = item
    return (created.timestamp() if created is not None else float("-inf"), index)


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


__all__ = [
    "AGENT_VERSION",
    "MAX_AGENT_NAME_LENGTH",
    "kept_as_sent",
    "local_agent_name",
    "restored_agent",
    "routable_agent_id",
    "schema_versions",
    "service_agent_name",
]
