"""The event model: validation messages, aliases, and envelope round-trips (hypothesis)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soorma_lc.errors import (
    InvalidAgentError,
    InvalidEventError,
    InvalidSchemaError,
    SoormaError,
    SoormaValidationError,
)
from soorma_lc.events import (
    TOPIC_PATTERN,
    AgentCapability,
    AgentDefinition,
    EventDefinition,
    EventEnvelope,
    EventRouting,
    EventTopic,
    parse_topic,
)
from soorma_lc.toolkit import ToolContext


def test_topics_are_the_eight_soorma_topics() -> None:
    assert {t.value for t in EventTopic} == {
        "business-facts",
        "action-requests",
        "action-results",
        "billing-events",
        "notification-events",
        "system-events",
        "plan-events",
        "task-events",
    }
    assert EventTopic("action-requests") == "action-requests"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "event name must be a non-empty string"),
        ("a" * 256, "event name is 256 characters long; at most 255 allowed"),
        ("web search", "event name 'web search' contains whitespace"),
        ("tab\tname", "contains whitespace"),
        ("line\nbreak", "contains whitespace"),
    ],
)
def test_event_name_rules(name: str, message: str) -> None:
    with pytest.raises(InvalidEventError) as raised:
        EventDefinition(event_name=name, topic="action-requests")
    [error] = raised.value.errors
    assert error.startswith("event_name: ") and message in error
    assert str(raised.value) == f"invalid EventDefinition: {error}"
    assert str(raised.value).count("invalid EventDefinition") == 1


def test_longest_allowed_event_name() -> None:
    assert EventDefinition(event_name="e" * 255, topic="task-events").event_name == "e" * 255


def test_invalid_topic_lists_the_standard_ones_and_the_pattern() -> None:
    with pytest.raises(InvalidEventError) as raised:
        EventDefinition(event_name="a.b", topic="two words")
    assert raised.value.errors[0].startswith(
        "topic: invalid topic 'two words': a topic is one of the eight Soorma topics "
        "(business-facts, action-requests,"
    )
    assert "letters, digits, '.', '_' and '-'" in raised.value.errors[0]
    assert isinstance(raised.value, SoormaError) and isinstance(raised.value, ValueError)


@pytest.mark.parametrize("topic", ["actions", "audit.orders-v2", "Custom_Topic", "x" * 100])
def test_custom_topics_match_the_pattern(topic: str) -> None:
    event = EventDefinition(event_name="a.b", topic=topic)
    assert event.topic == topic and type(event.topic) is str
    assert EventDefinition.model_validate_json(event.model_dump_json()) == event
    envelope = EventEnvelope(type="a.b", topic=topic, response_topic=topic)
    assert EventEnvelope.from_cloudevent(envelope.to_cloudevent()) == envelope


@pytest.mark.parametrize(
    "topic",
    ["", " x", "a b", "x" * 101, "-lead", ".lead", "a:b", "a/b", "a*", "a>", "{tag}", "café", 7],
)
def test_topics_outside_the_pattern_are_refused(topic: object) -> None:
    with pytest.raises(InvalidEventError, match="topic"):
        EventDefinition(event_name="a.b", topic=topic)  # type: ignore[arg-type]
    with pytest.raises(InvalidEventError, match="topic"):
        parse_topic(topic)


def test_standard_topics_parse_to_the_enum_members() -> None:
    for topic in EventTopic:
        assert parse_topic(topic.value) is topic
        assert EventDefinition(event_name="a.b", topic=topic.value).topic is topic
    assert TOPIC_PATTERN.fullmatch("action-requests")


@pytest.mark.parametrize("field", ["payload_schema", "response_schema"])
def test_schemas_must_be_valid_json_schema(field: str) -> None:
    bad = {"type": "object", "properties": {"n": {"type": "integer", "minimum": "zero"}}}
    with pytest.raises(InvalidSchemaError) as raised:
        EventDefinition(event_name="a.b", topic="action-requests", **{field: bad})
    assert f"{field}: not a valid JSON Schema at properties/n/minimum" in str(raised.value)
    assert isinstance(raised.value, InvalidEventError)


def test_valid_schema_and_camel_case_aliases() -> None:
    schema = {"type": "object", "properties": {"user_id": {"type": "string"}}}
    definition = EventDefinition.model_validate(
        {
            "eventName": "user.lookup",
            "topic": "action-requests",
            "payloadSchema": schema,
            "responseSchemaName": "user_v1",
        }
    )
    assert definition.payload_schema == schema
    wire = definition.model_dump(by_alias=True, mode="json")
    assert wire["eventName"] == "user.lookup" and wire["responseSchemaName"] == "user_v1"
    assert wire["payloadSchema"]["properties"] == {"user_id": {"type": "string"}}
    assert EventDefinition.model_validate(wire) == definition
    assert EventDefinition.model_validate_json(definition.model_dump_json()) == definition


def test_agent_derives_event_names_from_capabilities() -> None:
    request = EventDefinition(event_name="a.request", topic="action-requests")
    done = EventDefinition(event_name="a.done", topic="action-results")
    agent = AgentDefinition(
        agent_id="agent-1",
        name="agent",
        consumed_events=["extra.request"],
        capabilities=[
            AgentCapability(task_name="a", consumed_event=request, produced_events=[done]),
            AgentCapability(task_name="again", consumed_event=request),
        ],
    )
    assert agent.consumed_events == ["extra.request", "a.request"]
    assert agent.produced_events == ["a.done"]
    wire = agent.model_dump(by_alias=True, mode="json")
    assert wire["capabilities"][0]["consumedEvent"]["eventName"] == "a.request"
    assert AgentDefinition.model_validate(wire) == agent


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        ({"agent_id": "", "name": "n"}, InvalidAgentError, "agent_id: agent_id must not be empty"),
        ({"agent_id": "a", "name": "n", "consumed_events": ["x y"]}, InvalidEventError, "x y"),
        (
            {"agent_id": "a", "name": "n", "capabilities": [{"task_name": "t"}]},
            InvalidAgentError,
            "capabilities.0.consumedEvent: Field required",
        ),
        (
            {
                "agent_id": "a",
                "name": "n",
                "capabilities": [
                    {"task_name": "t", "consumed_event": {"event_name": "e", "topic": "no pe"}}
                ],
            },
            InvalidEventError,
            "capabilities.0.consumed_event.topic: invalid topic 'no pe'",
        ),
    ],
)
def test_bad_agents(data: dict, error: type[SoormaValidationError], message: str) -> None:
    with pytest.raises(error) as raised:
        AgentDefinition.model_validate(data)
    assert message in str(raised.value)


def test_envelope_defaults() -> None:
    envelope = EventEnvelope(type="a.request")
    assert uuid.UUID(envelope.id).version == 4
    assert envelope.time.tzinfo is not None and envelope.specversion == "1.0"
    naive = EventEnvelope(type="a.request", time=datetime(2026, 1, 2, 3, 4, 5))
    assert naive.time == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"type": "has space"}, "type: event name 'has space' contains whitespace"),
        ({"type": "a", "topic": "no/pe"}, "topic: invalid topic 'no/pe'"),
        ({"type": "a", "data": {"x": object()}}, "data.x"),
        ({"type": "a", "id": ""}, "id: id must not be empty or blank"),
        ({}, "type: Field required"),
    ],
)
def test_bad_envelopes(fields: dict, message: str) -> None:
    with pytest.raises(InvalidEventError) as raised:
        EventEnvelope(**fields)
    assert message in str(raised.value)


def test_cloudevent_shape() -> None:
    envelope = EventEnvelope(
        type="a.request",
        time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        topic=EventTopic.ACTION_REQUESTS,
        correlation_id="c-1",
        response_schema_name="r_v1",
        data={"q": 1},
    )
    event = envelope.to_cloudevent()
    assert event["specversion"] == "1.0" and event["time"] == "2026-01-02T03:04:05Z"
    assert event["datacontenttype"] == "application/json"
    assert event["topic"] == "action-requests" and event["correlationid"] == "c-1"
    assert event["responseschemaname"] == "r_v1" and event["data"] == {"q": 1}
    assert "tenantid" not in event  # unset extensions are omitted
    # CloudEvents: extension names are lower-case letters/digits, ideally at most 20 long
    extensions = set(event) - {"specversion", "id", "source", "type", "time", "data"}
    extensions -= {"datacontenttype", "subject"}
    full = EventEnvelope(
        type="a", **{f: "x" for f in EventEnvelope.model_fields if f.endswith(("_id", "_name"))}
    ).to_cloudevent()
    for name in extensions | set(full):
        assert re.fullmatch(r"[a-z0-9]{1,20}", name), name


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("{not json", "CloudEvent is not valid JSON"),
        ("[1, 2]", "a CloudEvent must be a JSON object"),
        ({"specversion": "0.3", "type": "a", "id": "1", "source": "s"}, "specversion '0.3'"),
        ({"specversion": "1.0", "id": "1", "source": "s"}, "type: Field required"),
        (
            {"specversion": "1.0", "id": "1", "source": "s", "type": "a", "topic": "bo gus"},
            "topic: invalid topic 'bo gus'",
        ),
        ({"specversion": "1.0", "type": "a", "source": "s"}, "lacks required attribute(s): id"),
    ],
)
def test_bad_cloudevents(event: object, message: str) -> None:
    with pytest.raises(InvalidEventError, match=re.escape(message)):
        EventEnvelope.from_cloudevent(event)  # type: ignore[arg-type]


# Labels (ids, tenants, sources): visible characters, spaces inside only.
text = st.text(
    st.characters(exclude_categories=("Cs", "Cc", "Cf", "Co", "Cn", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=30,
)
topics = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
envelopes = st.builds(
    EventEnvelope,
    id=text,
    source=text,
    type=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,40}", fullmatch=True),
    time=st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(9999, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    ),
    data=st.none() | st.dictionaries(text, json_values, max_size=5),
    topic=st.none() | st.sampled_from(EventTopic) | topics,
    response_topic=st.none() | st.sampled_from(EventTopic) | topics,
    success=st.none() | st.booleans(),
    result=st.none() | st.dictionaries(text, json_values, max_size=3),
    completed_at=st.none()
    | st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)
    ),
    cost=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    **{
        name: st.none() | text
        for name in (
            "subject",
            "correlation_id",
            "tenant_id",
            "user_id",
            "session_id",
            "goal_id",
            "plan_id",
            "response_event",
            "response_schema_name",
            "trace_id",
            "parent_event_id",
            "payload_schema_name",
            "platform_tenant_id",
            "caused_by",
            "callback_url",
            "action_event_id",
            "error",
            "unit_of_work",
            "currency",
            "message",
            "priority",
            "channel",
        )
    },
)


@settings(max_examples=60, deadline=None)
@given(envelopes)
def test_envelope_round_trips(envelope: EventEnvelope) -> None:
    snake = envelope.model_dump_json()
    assert EventEnvelope.model_validate_json(snake) == envelope
    assert "correlation_id" in json.loads(snake)
    camel = json.loads(envelope.model_dump_json(by_alias=True))
    assert ("correlationId" in camel) is (envelope.correlation_id is not None)
    assert None not in camel.values()  # Soorma's form leaves unset fields out
    assert EventEnvelope.model_validate(camel) == envelope
    cloudevent = json.dumps(envelope.to_cloudevent())
    assert EventEnvelope.from_cloudevent(cloudevent) == envelope
    assert EventEnvelope.from_cloudevent(json.loads(cloudevent).copy()) == envelope


def test_envelope_time_is_normalised_to_utc_so_json_round_trips_exactly() -> None:
    odd_offset = timezone(timedelta(hours=5, seconds=1))  # JSON cannot carry the extra second
    envelope = EventEnvelope(type="a.b", time=datetime(2026, 1, 1, 12, tzinfo=odd_offset))
    assert envelope.time.utcoffset() == timedelta(0)
    assert EventEnvelope.model_validate_json(envelope.model_dump_json()) == envelope
    assert EventEnvelope.from_cloudevent(envelope.to_cloudevent()) == envelope


def test_unknown_topic_is_a_typed_error_wherever_it_is_parsed() -> None:
    with pytest.raises(InvalidEventError, match="unknown topic 'nope'; expected one of: "):
        EventTopic("nope")
    assert EventTopic("action-requests") is EventTopic.ACTION_REQUESTS


def test_one_list_of_routing_fields_serves_envelope_tool_context_and_cloudevents() -> None:
    routing = set(EventRouting.model_fields)
    assert routing <= set(ToolContext.model_fields) <= set(EventEnvelope.model_fields)
    values = {name: f"{name}-value" for name in EventEnvelope.model_fields}
    values.update(
        specversion="1.0",
        time="2026-01-01T00:00:00Z",
        completed_at="2026-01-01T00:00:01Z",
        data={"k": 1},
        result={"r": [1, {"deep": None}]},
        success=False,
        cost=0.25,
        type="a.happened",
        topic="action-requests",
        response_topic="custom.results",
    )
    envelope = EventEnvelope(**values)
    cloudevent = envelope.to_cloudevent()
    assert EventEnvelope.from_cloudevent(cloudevent) == envelope  # every field travels
    assert all("_" not in attribute for attribute in cloudevent)
    assert envelope.routing() == {name: values[name] for name in routing}
    assert ToolContext(**envelope.routing()).routing() == envelope.routing()
    assert EventEnvelope(type="a.happened", plan_id="p").routing() == {"plan_id": "p"}
