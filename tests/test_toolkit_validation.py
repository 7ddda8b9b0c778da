"""Payload validation, defaults, $ref, tool naming and the LLM formats of the EventToolkit."""

from __future__ import annotations

import copy
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.utils.function_calling import convert_to_openai_tool

from soorma_lc.errors import InvalidSchemaError, PayloadValidationError, UnknownEventError
from soorma_lc.events import EventDefinition
from soorma_lc.registry.memory import InMemoryRegistry
from soorma_lc.toolkit import EventToolkit, ToolNameMap, sanitize_tool_name
from soorma_lc.toolkit.schema import object_schema
from tests.toolkit_helpers import ADDRESS, FACT, NOTIFY, ORDER, ORDER_SCHEMA, SEARCH, VALID_ORDER


@pytest.fixture
async def toolkit() -> EventToolkit:
    registry = InMemoryRegistry()
    for event in (ORDER, SEARCH, NOTIFY, FACT):
        await registry.register_event(event)
    return EventToolkit(registry)


async def test_valid_payload_gets_defaults_at_every_level(toolkit: EventToolkit) -> None:
    original = copy.deepcopy(VALID_ORDER)
    payload = await toolkit.create_payload("order.place.requested", VALID_ORDER)
    assert payload["speed"] == "standard" and payload["gift"] is False
    assert payload["items"] == [{"sku": "A-1", "quantity": 2}, {"sku": "B-2", "quantity": 1}]
    assert original == VALID_ORDER  # the caller's data is never modified


async def test_every_violation_is_listed_by_json_path(toolkit: EventToolkit) -> None:
    bad = {
        "customer": {"name": ""},
        "items": [{"sku": "A-1", "quantity": 0}, {"quantity": 2, "colour": "red"}],
        "shipping": {"city": 7, "country": "XX"},
        "speed": "overnight",
        "coupon": "FREE",
    }
    with pytest.raises(PayloadValidationError) as caught:
        await toolkit.create_payload("order.place.requested", bad)
    error = caught.value
    assert error.event_name == "order.place.requested"
    assert error.errors == [
        "$: unexpected field(s) 'coupon'; allowed fields: customer, gift, items, shipping, speed",
        "$.customer.name: '' should be non-empty",
        "$.items[0].quantity: 0 is less than the minimum of 1",
        "$.items[1]: missing required field 'sku'",
        "$.items[1]: unexpected field(s) 'colour'; allowed fields: quantity, sku",
        "$.shipping.city: expected string, got integer 7",
        '$.shipping.country: "XX" is not allowed; use one of ["DE", "FR", "IN", "US"]',
        '$.speed: "overnight" is not allowed; use one of ["standard", "express"]',
    ]
    assert all(message in str(error) for message in error.errors)


async def test_missing_fields_and_non_objects(toolkit: EventToolkit) -> None:
    with pytest.raises(PayloadValidationError) as caught:
        await toolkit.create_payload("order.place.requested", {})
    assert caught.value.errors == ["$: missing required fields 'customer', 'items', 'shipping'"]
    for not_an_object in (["a"], "text", 3, None):
        with pytest.raises(PayloadValidationError) as caught:
            await toolkit.create_payload("web.search.requested", not_an_object)
        assert caught.value.errors[0].startswith("$: the payload must be a JSON object")


async def test_any_of_reports_each_alternative() -> None:
    event = EventDefinition(
        event_name="contact.add",
        topic="action-requests",
        payload_schema={
            "type": "object",
            "properties": {
                "contact": {
                    "anyOf": [
                        {"type": "object", "required": ["email"]},
                        {"type": "object", "required": ["phone"]},
                    ]
                }
            },
        },
    )
    registry = InMemoryRegistry()
    await registry.register_event(event)
    with pytest.raises(PayloadValidationError) as caught:
        await EventToolkit(registry).create_payload("contact.add", {"contact": {}})
    assert caught.value.errors == [
        "$.contact: matches none of the allowed shapes ($.contact: missing required field "
        "'email'; $.contact: missing required field 'phone')"
    ]


async def test_event_without_schema_takes_any_object(toolkit: EventToolkit) -> None:
    data = {"anything": [1, {"goes": True}]}
    assert await toolkit.create_payload("user.notify", data) == data
    assert object_schema(None, event_name="x")["additionalProperties"] is True


async def test_unknown_event_is_a_typed_error(toolkit: EventToolkit) -> None:
    with pytest.raises(UnknownEventError) as caught:
        await toolkit.create_payload("no.such.event", {})
    assert caught.value.event_name == "no.such.event"
    with pytest.raises(UnknownEventError):
        await toolkit.validate_response("no.such.event", {})


async def test_validate_response(toolkit: EventToolkit) -> None:
    assert await toolkit.validate_response("order.place.requested", {"order_id": "o-1"}) == {
        "order_id": "o-1"
    }
    with pytest.raises(PayloadValidationError) as caught:
        await toolkit.validate_response("order.place.requested", {"total": "12"})
    assert caught.value.errors == [
        "$: missing required field 'order_id'",
        '$.total: expected number, got string "12"',
    ]
    assert "invalid response" in str(caught.value)
    # An event without a response schema accepts any object as its result.
    assert await toolkit.validate_response("user.notify", {"ok": True}) == {"ok": True}


def test_non_object_payload_schema_is_refused() -> None:
    with pytest.raises(InvalidSchemaError, match="needs type 'object'"):
        object_schema({"type": "string"}, event_name="text.only")
    assert object_schema({"type": ["object", "null"]}, event_name="x")["type"] == "object"


def test_tool_names_are_provider_safe_and_map_back() -> None:
    names = ToolNameMap(["research.requested", "research_requested", "a b/c", "x" * 80, "ok-1"])
    assert names.tool_name("research_requested") == "research_requested"  # already valid
    assert names.tool_name("ok-1") == "ok-1"
    assert names.tool_name("research.requested").startswith("research_requested_")
    assert names.tool_name("a b/c") == "a_b_c"
    assert len(names.tool_name("x" * 80)) == 64
    for event in ("research.requested", "research_requested", "a b/c", "x" * 80):
        assert names.event_name(names.tool_name(event)) == event
    with pytest.raises(UnknownEventError, match="no event tool named 'nope'"):
        names.event_name("nope")
    with pytest.raises(UnknownEventError):
        names.tool_name("never.registered")
    assert sanitize_tool_name("a.b:c") == "a_b_c"


_EVENT_NAMES = st.lists(
    st.text(alphabet="ab._-:/Ωé1", min_size=1, max_size=70), min_size=1, max_size=12, unique=True
)


@settings(max_examples=60, deadline=None)
@given(names=_EVENT_NAMES, data=st.data())
def test_tool_names_unique_valid_and_order_independent(names: list[str], data: st.DataObject):
    mapping = ToolNameMap(names)
    shuffled = ToolNameMap(data.draw(st.permutations(names)))
    tool_names = [mapping.tool_name(name) for name in names]
    assert len(set(tool_names)) == len(names)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", tool) for tool in tool_names)
    assert tool_names == [shuffled.tool_name(name) for name in names]
    assert [mapping.event_name(tool) for tool in tool_names] == names


def test_format_for_llm_matches_soorma_layout() -> None:
    [order, notify] = EventToolkit(InMemoryRegistry()).format_for_llm([ORDER, NOTIFY])
    assert order["name"] == "order.place.requested"
    assert order["topic"] == "action-requests"
    assert order["required_fields"] == ["customer", "items", "shipping"]
    assert order["payload_fields"]["speed"] == {
        "type": "string",
        "allowed_values": ["standard", "express"],
        "default": "standard",
        "required": False,
    }
    # $ref is resolved so the LLM sees the address fields and their allowed values.
    assert order["payload_fields"]["shipping"]["properties"]["country"]["enum"] == [
        "DE",
        "FR",
        "IN",
        "US",
    ]
    assert order["example_payload"] == {
        "customer": {"name": "string_value", "email": "string_value"},
        "items": [{"sku": "string_value", "quantity": 1}],
        "shipping": {"street": "string_value", "city": "string_value", "country": "DE"},
        "speed": "standard",
        "gift": False,
    }
    assert order["has_response"] is True
    assert set(order["response_fields"]) == {"order_id", "total"}
    assert notify["payload_fields"] == {} and notify["has_response"] is False
    assert "response_fields" not in notify


async def test_example_payload_is_valid(toolkit: EventToolkit) -> None:
    for descriptor in toolkit.format_for_llm([ORDER, SEARCH]):
        await toolkit.create_payload(descriptor["name"], descriptor["example_payload"])


def test_prompt_text_layout() -> None:
    toolkit = EventToolkit(InMemoryRegistry())
    descriptors = toolkit.format_for_llm([SEARCH, NOTIFY])
    assert toolkit.format_as_prompt_text(descriptors) == (
        "1. **web.search.requested**\n"
        "   Description: Search the web for a query\n"
        "   When to use: When facts from the internet are needed\n"
        "2. **user.notify**\n"
        "   Description: Send a notification to the user"
    )
    text = toolkit.format_as_prompt_text(
        toolkit.format_for_llm([ORDER]), numbered=False, include_fields=True
    )
    assert text.startswith("**order.place.requested**")
    assert "speed (string) one of standard|express" in text and "customer* (object)" in text


def test_openai_tool_dicts_match_what_bind_tools_sends() -> None:
    toolkit = EventToolkit(InMemoryRegistry())
    [order, notify] = toolkit.format_as_openai_tools([ORDER, NOTIFY])
    function = order["function"]
    assert order["type"] == "function" and function["name"] == "order_place_requested"
    assert "a result event follows" in function["description"]
    parameters = function["parameters"]
    assert "$defs" not in parameters and "$schema" not in parameters
    assert parameters["properties"]["shipping"] == ADDRESS  # the $ref, inlined
    assert parameters["properties"]["items"] == ORDER_SCHEMA["properties"]["items"]
    assert parameters["required"] == ORDER_SCHEMA["required"]
    assert notify["function"]["parameters"]["properties"] == {}
    [tool] = toolkit.as_tools([ORDER])
    assert convert_to_openai_tool(tool) == order
