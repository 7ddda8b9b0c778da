"""Input checks and the stored JSON form shared by every registry backend.

All backends validate their arguments with these helpers before touching storage, so invalid
input raises the same typed error everywhere and never half-writes anything.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel

from soorma_lc.checks import check_seconds, label_problem
from soorma_lc.errors import (
    InvalidAgentError,
    InvalidEventError,
    InvalidSchemaError,
    SoormaValidationError,
)
from soorma_lc.events import (
    AgentDefinition,
    EventDefinition,
    EventTopic,
    PayloadSchema,
    parse_topic,
)

logger = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_AGENT_ID_LENGTH = 255
DEFAULT_AGENT_TTL = 300.0
"""Seconds an agent stays live after its last heartbeat (Soorma's default)."""
DEFAULT_PURGE_AFTER = 86400.0
"""Seconds an expired agent is kept (so a late heartbeat revives it) before it is deleted."""
MAX_LIFETIME = 10 * 365 * 86400.0
MAX_DEFINITION_BYTES = 1024 * 1024
"""Largest event or agent definition a registry stores (canonical JSON)."""


def check_lifetimes(agent_ttl: float, purge_after: float) -> None:
    """Reject a non-positive ``agent_ttl`` or a negative ``purge_after`` (and non-numbers)."""
    check_seconds(agent_ttl, "agent_ttl", positive=True, maximum=MAX_LIFETIME)
    check_seconds(purge_after, "purge_after", maximum=MAX_LIFETIME)


def check_event(event: EventDefinition | dict[str, Any]) -> EventDefinition:
    """A freshly validated copy of ``event`` (catches fields mutated after construction),
    at most :data:`MAX_DEFINITION_BYTES` encoded."""
    checked = _revalidate(EventDefinition, event, InvalidEventError)
    _check_size(checked, InvalidEventError)
    return checked


def check_schema(schema: PayloadSchema | dict[str, Any]) -> PayloadSchema:
    """A freshly validated copy of ``schema``, at most :data:`MAX_DEFINITION_BYTES` encoded."""
    checked = _revalidate(PayloadSchema, schema, InvalidSchemaError)
    _check_size(checked, InvalidSchemaError)
    return checked


def check_agent(agent: AgentDefinition | dict[str, Any]) -> AgentDefinition:
    """A freshly validated copy of ``agent``, at most :data:`MAX_DEFINITION_BYTES` encoded."""
    checked = _revalidate(AgentDefinition, agent, InvalidAgentError)
    _check_size(checked, InvalidAgentError)
    return checked


def _check_size(model: BaseModel, error: type[SoormaValidationError]) -> None:
    size = len(encode(model).encode("utf-8"))
    if size > MAX_DEFINITION_BYTES:
        raise error(
            f"the {type(model).__name__} is {size} bytes encoded; at most "
            f"{MAX_DEFINITION_BYTES} accepted"
        )


def _revalidate(
    model: type[ModelT], value: ModelT | dict[str, Any], error: type[SoormaValidationError]
) -> ModelT:
    if isinstance(value, model):
        value = value.model_dump()
    if not isinstance(value, dict):
        raise error(f"expected an {model.__name__}, got {type(value).__name__}")
    return model.model_validate(value)


def check_agent_id(agent_id: str) -> str:
    """``agent_id`` if it is a usable label (non-blank, at most 255 characters, no control
    characters), as :class:`AgentDefinition` requires."""
    if not isinstance(agent_id, str) or not agent_id:
        raise InvalidAgentError("agent id must be a non-empty string")
    problem = label_problem(agent_id, max_length=MAX_AGENT_ID_LENGTH)
    if problem is not None:
        raise InvalidAgentError(f"agent id {problem}")
    return agent_id


def check_topic(topic: EventTopic | str | None) -> EventTopic | str | None:
    """``topic`` parsed (None stays None): a standard or custom topic, else an error."""
    return None if topic is None else parse_topic(topic)


def agent_events(agent: AgentDefinition) -> list[EventDefinition]:
    """The event definitions carried by ``agent``'s capabilities, one per name.

    The same name defined twice with different contents is ambiguous, so it is rejected.
    """
    found: dict[str, EventDefinition] = {}
    for capability in agent.capabilities:
        for event in (capability.consumed_event, *capability.produced_events):
            known = found.setdefault(event.event_name, event)
            if encode(known) != encode(event):
                raise InvalidAgentError(
                    f"agent {agent.agent_id!r} defines event {event.event_name!r} twice "
                    "with different contents"
                )
    return [found[name] for name in sorted(found)]


def encode(model: BaseModel) -> str:
    """Canonical JSON (sorted keys) so identical definitions compare equal as strings."""
    return json.dumps(
        model.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), allow_nan=False
    )


def decode(model: type[ModelT], raw: str | bytes | dict[str, Any], key: str) -> ModelT | None:
    """Parse one stored or received entry; a corrupt entry is logged and skipped (None).

    One bad entry (written by another tool, or a topic we do not know) must not make every
    discovery call fail; re-registering the name repairs it.
    """
    try:
        if isinstance(raw, dict):
            return model.model_validate(raw)
        return model.model_validate_json(raw)
    except SoormaValidationError as exc:
        logger.warning("skipping unreadable registry entry %r: %s", key, exc)
        return None


def select_events(
    events: Iterable[EventDefinition], topic: EventTopic | str | None
) -> list[EventDefinition]:
    """``events`` on ``topic`` (all when None), sorted by name."""
    chosen = [e for e in events if topic is None or e.topic == topic]
    return sorted(chosen, key=lambda e: e.event_name)


def select_agents(
    agents: Iterable[AgentDefinition], consumed_event: str | None
) -> list[AgentDefinition]:
    """``agents`` consuming ``consumed_event`` (all when None), sorted by id."""
    chosen = [a for a in agents if consumed_event is None or consumed_event in a.consumed_events]
    return sorted(chosen, key=lambda a: a.agent_id)
