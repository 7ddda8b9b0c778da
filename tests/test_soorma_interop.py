"""Model-level round trips against soorma-common 0.9.1 and the soorma-core 0.9.1 SDK.

Every soorma-common envelope class travels both ways (camelCase, the snake_case its Event
Service sends, CloudEvents) without losing a field, and soorma-lc's LLM formats match
soorma-core's EventToolkit for the same events.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError
from soorma.ai.event_toolkit import EventToolkit as SoormaToolkit
from soorma_common import EventDefinition as SoormaEventDefinition
from soorma_common.events import (
    ActionRequestEvent,
    ActionResultEvent,
    BillingEvent,
    BusinessFactEvent,
    NotificationEvent,
)
from soorma_common.events import EventEnvelope as SoormaEnvelope

from soorma_lc.events import EventDefinition, EventEnvelope
from soorma_lc.toolkit import formats

WHEN = datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
ROUTING = {
    "id": "evt-1",
    "source": "agent-a",
    "type": "order.placed",
    "time": WHEN,
    "data": {"order": {"sku": "A-1", "qty": 2}, "note": None},
    "correlation_id": "corr-1",
    "subject": "order/42",
    "tenant_id": "tenant-1",
    "user_id": "user-1",
    "platform_tenant_id": "platform-1",
    "session_id": "session-1",
    "goal_id": "goal-1",
    "plan_id": "plan-1",
    "response_event": "order.confirmed",
    "response_topic": "action-results",
    "response_schema_name": "confirmation_v1",
    "trace_id": "trace-1",
    "parent_event_id": "evt-0",
    "payload_schema_name": "order_v1",
}
SOORMA_EVENTS = {
    "EventEnvelope": SoormaEnvelope(**ROUTING, topic="plan-events"),
    "ActionRequestEvent": ActionRequestEvent(
        **ROUTING, caused_by="evt-0", callback_url="https://example.test/callback"
    ),
    "ActionResultEvent": ActionResultEvent(
        **ROUTING,
        action_event_id="evt-0",
        success=False,
        result={"partial": [1, 2.5, {"k": None}]},
        error="out of stock",
        completed_at=datetime(2026, 3, 4, 5, 6, 8, tzinfo=UTC),
    ),
    "BusinessFactEvent": BusinessFactEvent(**ROUTING),
    "BillingEvent": BillingEvent(**ROUTING, unit_of_work="1 summary", cost=0.0125, currency="EUR"),
    "NotificationEvent": NotificationEvent(
        **ROUTING, message="Your order shipped", priority="high", channel="push"
    ),
}
SOORMA_EVENT_NAMES = sorted(SOORMA_EVENTS)


def same_event(ours: EventEnvelope, theirs: SoormaEnvelope) -> None:
    """Every field soorma-common's event has, soorma-lc's has with the same value."""
    for name in type(theirs).model_fields:
        assert getattr(ours, name) == getattr(theirs, name), name


@pytest.mark.parametrize("kind", SOORMA_EVENT_NAMES)
def test_camel_case_both_ways(kind: str) -> None:
    theirs = SOORMA_EVENTS[kind]
    ours = EventEnvelope.model_validate(theirs.model_dump(by_alias=True, mode="json"))
    same_event(ours, theirs)
    back = type(theirs).model_validate(ours.model_dump(by_alias=True, mode="json"))
    assert back == theirs


@pytest.mark.parametrize("kind", SOORMA_EVENT_NAMES)
def test_event_service_snake_case_both_ways(kind: str) -> None:
    # what soorma-core's Event Service forwards: model_dump(mode="json", exclude_none=True)
    theirs = SOORMA_EVENTS[kind]
    ours = EventEnvelope.model_validate(theirs.model_dump(mode="json", exclude_none=True))
    same_event(ours, theirs)
    back = type(theirs).model_validate(ours.model_dump(mode="json", exclude_none=True))
    assert back == theirs


@pytest.mark.parametrize("kind", SOORMA_EVENT_NAMES)
def test_cloudevents_both_ways(kind: str) -> None:
    theirs = SOORMA_EVENTS[kind]
    written = theirs.to_cloudevents_dict()
    assert "goalid" not in written and "planid" not in written  # soorma-core leaves them out
    ours = EventEnvelope.from_cloudevent(written)
    unwritten = {"goal_id", "plan_id", "platform_tenant_id"}
    for name in SoormaEnvelope.model_fields:
        expected = None if name in unwritten else getattr(theirs, name)
        assert getattr(ours, name) == expected, name
    # soorma-lc's CloudEvent of the same event says the same in every attribute soorma's has,
    # and keeps the rest (goal, plan, the subclass fields) as extension attributes
    full = EventEnvelope.model_validate(theirs.model_dump())
    mine = full.to_cloudevent()
    for attribute, value in written.items():
        if attribute == "time":
            assert datetime.fromisoformat(mine["time"]) == datetime.fromisoformat(value)
        else:
            assert mine[attribute] == value, attribute
    assert EventEnvelope.from_cloudevent(mine) == full
    assert (mine["goalid"], mine["planid"]) == ("goal-1", "plan-1")


def test_camel_case_with_unset_fields_passes_soorma_validation() -> None:
    ours = EventEnvelope(type="order.placed", topic="business-facts")
    dumped = ours.model_dump(by_alias=True, mode="json")
    assert "correlationId" not in dumped and None not in dumped.values()
    theirs = SoormaEnvelope.model_validate(dumped)
    assert theirs.correlation_id  # soorma-common fills its own default
    assert (theirs.id, theirs.type, theirs.topic.value) == (
        ours.id,
        "order.placed",
        "business-facts",
    )
    # without a topic only the subclasses (which set their own) accept it
    untopiced = EventEnvelope(type="x.requested").model_dump(by_alias=True, mode="json")
    # (soorma-common's subclasses write their topic into the dict they are given: copies)
    assert ActionRequestEvent.model_validate(dict(untopiced)).topic.value == "action-requests"
    with pytest.raises(ValidationError, match="topic"):
        SoormaEnvelope.model_validate(dict(untopiced))


def test_custom_topics_and_response_topics_next_to_soorma_common() -> None:
    ours = EventEnvelope(type="x.happened", topic="audit.events", response_topic="audit.results")
    dumped = ours.model_dump(by_alias=True, mode="json")
    # soorma-common's envelope knows only the eight topics; its response_topic is free text
    with pytest.raises(ValidationError, match="topic"):
        SoormaEnvelope.model_validate(dumped)
    theirs = SoormaEnvelope.model_validate({**dumped, "topic": "business-facts"})
    assert EventEnvelope.model_validate(theirs.model_dump(by_alias=True)).response_topic == (
        "audit.results"
    )


# --- LLM formats -----------------------------------------------------------------------------

SCHEMA = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "description": "What to search for"},
        "limit": {"type": "integer", "minimum": 3},
        "score": {"type": "number"},
        "fresh": {"type": "boolean"},
        "filters": {"type": "object", "properties": {"site": {"type": "string"}}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "mode": {"type": "string", "enum": ["fast", "deep"]},
    },
    "required": ["query", "mode"],
}
EVENTS = [
    EventDefinition(
        event_name="web.search.requested",
        topic="action-requests",
        description="Search the web",
        payload_schema=SCHEMA,
        response_schema={"type": "object", "properties": {"hits": {"type": "array"}}},
    ),
    EventDefinition(event_name="order.shipped", topic="business-facts", description="Shipped"),
    EventDefinition(
        event_name="audit.logged", topic="audit.events", description="", payload_schema={}
    ),
]


def soorma_formats(events: list[EventDefinition]) -> list[dict[str, Any]]:
    theirs = [SoormaEventDefinition(**e.model_dump(exclude={"metadata"})) for e in events]
    return SoormaToolkit().format_for_llm(theirs)


def test_format_for_llm_matches_soorma_core() -> None:
    mine = formats.format_for_llm(EVENTS)
    theirs = soorma_formats(EVENTS)
    for ours_one, theirs_one in zip(mine, theirs, strict=True):
        assert set(ours_one) == set(theirs_one)
        for key in set(ours_one) - {"example_payload"}:
            assert ours_one[key] == theirs_one[key], key
    # the one difference: soorma-core skips numbers, leaves nested objects and arrays empty and
    # puts "string_value" in an enum field, so its example can be invalid; ours validates
    [ours_search, *_] = mine
    [theirs_search, *_] = theirs
    jsonschema.validate(ours_search["example_payload"], SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(theirs_search["example_payload"], SCHEMA)
    assert set(theirs_search["example_payload"]) < set(ours_search["example_payload"])


@pytest.mark.parametrize("numbered", [True, False])
@pytest.mark.parametrize("include_metadata", [True, False])
def test_format_as_prompt_text_matches_soorma_core(numbered: bool, include_metadata: bool) -> None:
    guided = EVENTS[0].model_copy(update={"metadata": {"when_to_use": "For fresh facts"}})
    mine = formats.format_for_llm([guided, *EVENTS[1:]])
    theirs = soorma_formats([guided, *EVENTS[1:]])
    theirs[0]["metadata"] = guided.metadata  # soorma's EventDefinition has no metadata field
    ours_text = formats.format_as_prompt_text(mine, include_metadata, numbered)
    assert ours_text == SoormaToolkit().format_as_prompt_text(theirs, include_metadata, numbered)
    assert ("When to use: For fresh facts" in ours_text) is include_metadata
