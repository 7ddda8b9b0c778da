"""Regression tests of issue 15 for events, JSON values, schemas and settings: each class of
hostile input gets a typed error (or a defined meaning), and nothing is silently changed."""

from __future__ import annotations

import base64
import json
import math

import pytest

from soorma_lc.checks import names_argument
from soorma_lc.config import Settings
from soorma_lc.errors import (
    ConfigurationError,
    InvalidAgentError,
    InvalidArgumentError,
    InvalidEventError,
    InvalidSchemaError,
    PayloadValidationError,
    SerializationError,
    SoormaValidationError,
)
from soorma_lc.events import AgentDefinition, EventDefinition, EventEnvelope
from soorma_lc.jsonvalues import MAX_JSON_DEPTH, check_json_value, parse_json
from soorma_lc.schema_safety import check_json_schema
from soorma_lc.toolkit.validation import SchemaValidator

REQUESTS = "action-requests"


def nested(depth: int) -> dict[str, object]:
    value: dict[str, object] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


# -- CloudEvents ---------------------------------------------------------------------------------


def cloudevent(**extra: object) -> dict[str, object]:
    return {"specversion": "1.0", "id": "evt-1", "source": "test", "type": "a.happened", **extra}


def test_data_base64_is_decoded_not_dropped() -> None:
    encoded = base64.b64encode(json.dumps({"n": 1, "text": "ü"}).encode()).decode()
    envelope = EventEnvelope.from_cloudevent(cloudevent(data_base64=encoded))
    assert envelope.data == {"n": 1, "text": "ü"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"data_base64": "%%%"}, "not valid base64"),
        ({"data_base64": base64.b64encode(b"\xff\xfe").decode()}, "not valid JSON"),
        ({"data_base64": base64.b64encode(b"[1]").decode()}, "data"),
        ({"data_base64": "e30=", "data": {}}, "not both"),
        ({"data_base64": "e30=", "datacontenttype": "image/png"}, "cannot be carried"),
        ({"data_base64": base64.b64encode(b'{"n": NaN}').decode()}, "NaN is not JSON"),
    ],
)
def test_unusable_data_base64_is_a_typed_error(extra: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidEventError, match=message):
        EventEnvelope.from_cloudevent(cloudevent(**extra))


def test_a_cloudevent_without_id_is_refused_not_given_a_random_one() -> None:
    without_id = cloudevent()
    del without_id["id"]
    with pytest.raises(InvalidEventError, match="lacks required attribute"):
        EventEnvelope.from_cloudevent(without_id)
    # With an id, parsing twice gives the same event: duplicates stay recognisable.
    text = json.dumps(cloudevent())
    assert EventEnvelope.from_cloudevent(text).id == EventEnvelope.from_cloudevent(text).id


@pytest.mark.parametrize(
    "text",
    [
        '{"specversion": "1.0", "id": "1", "source": "s", "type": "a", "data": {"n": NaN}}',
        "[" * 5000,
    ],
)
def test_cloudevent_text_with_nan_or_deep_nesting_is_typed(text: str) -> None:
    with pytest.raises(InvalidEventError):
        EventEnvelope.from_cloudevent(text)


def test_to_cloudevent_refuses_data_mutated_into_nan() -> None:
    envelope = EventEnvelope(type="a.b", data={"n": 1})
    envelope.data["n"] = math.nan  # type: ignore[index]  # users can mutate
    with pytest.raises(SerializationError, match="non-finite"):
        envelope.to_cloudevent()


# -- envelope and definition fields -----------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"type": "a\x00b"},
        {"type": "a\x07b"},
        {"type": "\u200b"},
        {"type": "a\u200bb"},
        {"type": "ok", "id": "   "},
        {"type": "ok", "id": "x" * 100_000},
        {"type": "ok", "id": "line\nbreak"},
        {"type": "ok", "specversion": "0.3"},
        {"type": "ok", "tenant_id": ""},
        {"type": "ok", "tenant_id": " padded "},
        {"type": "ok", "response_event": "a b"},
        {"type": "ok", "source": ""},
        {"type": "ok", "data": {"n": math.nan}},
        {"type": "ok", "data": {"n": math.inf}},
        {"type": "ok", "data": {"s": "\ud800"}},
        {"type": "ok", "data": {"o": object()}},
        {"type": "ok", "data": nested(MAX_JSON_DEPTH + 1)},
    ],
)
def test_wrong_envelopes_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(InvalidEventError):
        EventEnvelope(**fields)


def test_deep_but_allowed_data_is_accepted() -> None:
    assert EventEnvelope(type="ok", data=nested(MAX_JSON_DEPTH - 1)).data is not None


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"payload_schema": {"type": "string"}}, InvalidSchemaError),
        ({"response_schema": {"type": "array"}}, InvalidSchemaError),
        ({"payload_schema": {"type": "object", "default": {"x": math.nan}}}, InvalidSchemaError),
        ({"payload_schema": nested(5000)}, InvalidSchemaError),
        ({"metadata": {"when": object()}}, InvalidEventError),
        ({"metadata": {"n": math.nan}}, InvalidEventError),
        ({"description": "x" * 100_000}, InvalidEventError),
        ({"payload_schema_name": "\x00"}, InvalidEventError),
    ],
)
def test_wrong_event_definitions_are_refused(
    fields: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        EventDefinition(event_name="x.requested", topic=REQUESTS, **fields)


@pytest.mark.parametrize("agent_id", ["", "   ", "a\nb", "\u200b", "x" * 300])
def test_wrong_agent_ids_are_refused(agent_id: str) -> None:
    with pytest.raises(InvalidAgentError):
        AgentDefinition(agent_id=agent_id, name="n")


# -- JSON values -----------------------------------------------------------------------------


def test_json_rules_refuse_surrogates_in_keys_and_values_and_deep_nesting() -> None:
    for bad in ({"\ud800": 1}, {"a": "\udfff"}, nested(MAX_JSON_DEPTH + 1), [math.nan]):
        with pytest.raises(SerializationError):
            check_json_value(bad, "v")


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", "[" * 100_000 + "]" * 100_000, "{"])
def test_parse_json_is_strict(text: str) -> None:
    with pytest.raises(InvalidEventError):
        parse_json(text, "input", InvalidEventError)


# -- schemas: untrusted, so linear-time and local-only ---------------------------------------------


def test_catastrophic_patterns_run_in_linear_time() -> None:
    evil = "a" * 5000 + "b"
    validator = SchemaValidator(
        {
            "type": "object",
            "properties": {"a": {"type": "string", "pattern": "^(a+)+$"}},
            "patternProperties": {"^(a|aa)+$": {"type": "integer"}},
            "additionalProperties": False,
        }
    )
    errors = validator.errors({"a": evil, evil: 1})
    assert any("does not match" in error for error in errors)
    assert any("unexpected field" in error for error in errors)


def test_unique_items_is_checked_without_comparing_every_pair() -> None:
    validator = SchemaValidator({"type": "object", "properties": {"a": {"uniqueItems": True}}})
    items = [{"n": i} for i in range(20_000)]
    assert validator.errors({"a": items}) == []
    assert validator.errors({"a": [*items, {"n": 5}]}) == [
        "$.a: item 20000 repeats an earlier item (items must be unique)"
    ]
    assert validator.errors({"a": [1, 1.0]}) != []  # equal in JSON Schema
    assert validator.errors({"a": [1, True]}) == []  # not equal in JSON Schema


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"$ref": "https://example.com/schema.json"}, "points outside the schema"),
        ({"$ref": "other.json#/a"}, "points outside the schema"),
        ({"$ref": "#/$defs/missing"}, "does not resolve"),
        ({"$ref": "#nowhere"}, "no such $anchor"),
        ({"allOf": [{"$ref": "#"}]}, "loop"),
        ({"properties": {"a": {"$ref": "#/properties/a"}}}, "loop"),
        ({"pattern": "(?=lookahead)"}, "regex"),
        ({"patternProperties": {"(a)\\1": {}}}, "regex"),
        (
            {"patternProperties": {"a": {}}, "unevaluatedProperties": False},
            "unevaluatedProperties",
        ),
        ({"$schema": ["not", "a", "uri"]}, "not a usable JSON Schema"),
        ({"type": "no-such-type"}, "not a valid JSON Schema"),
    ],
)
def test_unusable_schemas_are_refused_when_defined(schema: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidSchemaError, match=message.replace("$", r"\$")):
        check_json_schema(schema)
    with pytest.raises(InvalidSchemaError):
        EventDefinition(event_name="x", topic=REQUESTS, payload_schema=schema)


def test_recursive_schemas_that_consume_input_are_fine() -> None:
    tree = {
        "$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}}},
        "$ref": "#/$defs/node",
    }
    validator = SchemaValidator(tree)
    assert validator.errors({"next": {"next": {}}}) == []
    assert validator.errors({"next": {"next": 3}}) == [
        "$.next.next: expected object, got integer 3"
    ]


def test_hostile_payloads_are_validation_messages() -> None:
    validator = SchemaValidator({"type": "object"})
    for payload, message in [
        ({"n": math.nan}, "non-finite"),
        ({"s": "\ud800"}, "lone surrogate"),
        ({"o": object()}, "not JSON-serialisable"),
        (nested(5000), "nested more than"),
    ]:
        with pytest.raises(PayloadValidationError, match=message):
            validator.validated(payload, event_name="x")


# -- settings and arguments ------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"redis_socket_timeout": -1},
        {"redis_socket_timeout": math.nan},
        {"redis_connect_timeout": 0},
        {"redis_health_check_interval": -5},
        {"llm_timeout": math.inf},
        {"tenant_id": ""},
        {"user_id": "a\nb"},
        {"registry_token": "token\r\nX-Injected: 1"},
    ],
)
def test_invalid_settings_are_one_typed_error(fields: dict[str, object]) -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        Settings(**fields)
    assert isinstance(raised.value, ConfigurationError | SoormaValidationError)


def test_invalid_settings_from_the_environment_are_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOORMA_REDIS_SOCKET_TIMEOUT", "soon")
    with pytest.raises(InvalidArgumentError, match="redis_socket_timeout"):
        Settings()


def test_a_string_where_a_list_belongs_is_one_item() -> None:
    assert names_argument("action-requests", "topics") == ["action-requests"]
    assert names_argument(("a", "b"), "topics") == ["a", "b"]
    for bad in (None, 3, {"a": 1}):
        with pytest.raises(InvalidArgumentError):
            names_argument(bad, "topics")
