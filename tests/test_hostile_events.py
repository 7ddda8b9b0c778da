"""Hostile values (hypothesis) against the event model, JSON rules, schemas and settings:
success or a SoormaError, never a raw exception (see tests/hostile.py)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given

from soorma_lc.config import Settings
from soorma_lc.events import (
    AgentCapability,
    AgentDefinition,
    EventDefinition,
    EventEnvelope,
    validate_event_name,
)
from soorma_lc.jsonvalues import check_json_value
from soorma_lc.schema_safety import check_json_schema
from soorma_lc.toolkit.validation import SchemaValidator
from tests.hostile import HOSTILE, HOSTILE_SETTINGS, print_probe_counts, probe

EVENT = {"event_name": "x.requested", "topic": "action-requests"}
CLOUDEVENT = {"specversion": "1.0", "id": "e-1", "source": "test", "type": "x.happened"}
VALIDATOR = SchemaValidator(
    {
        "type": "object",
        "properties": {
            "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 40},
            "tags": {"type": "array", "uniqueItems": True},
        },
        "patternProperties": {"^x-": {"type": "integer"}},
        "additionalProperties": False,
    }
)


def _base64(value: Any) -> Any:
    try:
        return base64.b64encode(json.dumps(value).encode()).decode()
    except (TypeError, ValueError, RecursionError):
        return value


ENTRY_POINTS: dict[str, Callable[[Any], Any]] = {
    "EventDefinition(event_name)": lambda v: EventDefinition(**{**EVENT, "event_name": v}),
    "EventDefinition(topic)": lambda v: EventDefinition(**{**EVENT, "topic": v}),
    "EventDefinition(description)": lambda v: EventDefinition(**EVENT, description=v),
    "EventDefinition(payload_schema)": lambda v: EventDefinition(**EVENT, payload_schema=v),
    "EventDefinition(response_schema)": lambda v: EventDefinition(**EVENT, response_schema=v),
    "EventDefinition(metadata)": lambda v: EventDefinition(**EVENT, metadata=v),
    "EventDefinition.model_validate": EventDefinition.model_validate,
    "AgentCapability(task_name)": lambda v: AgentCapability(
        task_name=v, consumed_event=EventDefinition(**EVENT)
    ),
    "AgentDefinition(agent_id)": lambda v: AgentDefinition(agent_id=v, name="n"),
    "AgentDefinition(name)": lambda v: AgentDefinition(agent_id="a-1", name=v),
    "AgentDefinition(capabilities)": lambda v: AgentDefinition(
        agent_id="a-1", name="n", capabilities=v
    ),
    "AgentDefinition(consumed_events)": lambda v: AgentDefinition(
        agent_id="a-1", name="n", consumed_events=v
    ),
    "EventEnvelope(type)": lambda v: EventEnvelope(type=v),
    "EventEnvelope(id)": lambda v: EventEnvelope(type="x", id=v),
    "EventEnvelope(source)": lambda v: EventEnvelope(type="x", source=v),
    "EventEnvelope(specversion)": lambda v: EventEnvelope(type="x", specversion=v),
    "EventEnvelope(time)": lambda v: EventEnvelope(type="x", time=v),
    "EventEnvelope(data)": lambda v: EventEnvelope(type="x", data=v),
    "EventEnvelope(topic)": lambda v: EventEnvelope(type="x", topic=v),
    "EventEnvelope(tenant_id)": lambda v: EventEnvelope(type="x", tenant_id=v),
    "EventEnvelope(correlation_id)": lambda v: EventEnvelope(type="x", correlation_id=v),
    "EventEnvelope(response_event)": lambda v: EventEnvelope(type="x", response_event=v),
    "EventEnvelope.model_validate_json": EventEnvelope.model_validate_json,
    "EventEnvelope.from_cloudevent": EventEnvelope.from_cloudevent,
    "EventEnvelope.from_cloudevent(data)": lambda v: EventEnvelope.from_cloudevent(
        {**CLOUDEVENT, "data": v}
    ),
    "EventEnvelope.from_cloudevent(data_base64)": lambda v: EventEnvelope.from_cloudevent(
        {**CLOUDEVENT, "data_base64": _base64(v)}
    ),
    "EventEnvelope.from_cloudevent(json text)": lambda v: EventEnvelope.from_cloudevent(
        _json_text({**CLOUDEVENT, "data": v})
    ),
    "EventEnvelope.to_cloudevent(mutated data)": lambda v: _mutated(v).to_cloudevent(),
    "validate_event_name": validate_event_name,
    "check_json_value": lambda v: check_json_value(v, "value"),
    "check_json_schema": check_json_schema,
    "SchemaValidator": lambda v: SchemaValidator(v).errors({}),
    "SchemaValidator.validated": lambda v: VALIDATOR.validated(v, event_name="x"),
    "SchemaValidator.validated(field)": lambda v: VALIDATOR.validated(
        {"name": v, "tags": [v, v], "x-n": v}, event_name="x"
    ),
    "Settings(tenant_id)": lambda v: Settings(tenant_id=v),
    "Settings(redis_socket_timeout)": lambda v: Settings(redis_socket_timeout=v),
    "Settings(registry_token)": lambda v: Settings(registry_token=v),
    "Settings(llm_fallbacks)": lambda v: Settings(llm_fallbacks=v),
}


def _json_text(value: Any) -> str:
    """``value`` as JSON text; for what json cannot write, text nested far too deep."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        return '{"data": ' + "[" * 100_000


def _mutated(data: Any) -> EventEnvelope:
    envelope = EventEnvelope(type="x", data={})
    envelope.data = data  # bypasses validation, as users can
    return envelope


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    print_probe_counts("events")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("entry_point", sorted(ENTRY_POINTS))
@HOSTILE_SETTINGS
@given(value=HOSTILE)
def test_hostile_values(entry_point: str, value: Any) -> None:
    probe(entry_point, lambda: ENTRY_POINTS[entry_point](value))
