"""The offline planner model: generic choreographies of different shapes, valid and never
repeated calls, abstention, and the label that says it is not an LLM."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema.validators import validator_for
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.utils.function_calling import convert_to_openai_tool

from soorma_lc.llm import OFFLINE_MODEL_NAME, OfflinePlannerModel
from tests.planner_loop import (
    Choreography,
    decision_tools,
    event,
    goal_message,
    obj,
    run_choreography,
)

OFFLINE = "Offline heuristic planner (not an LLM)"

STRING = {"type": "string"}

# Events no goal below needs; each scenario offers some of them as distractors.
DISTRACTORS = [
    event(
        "payment.card.charge",
        "Charge a credit card",
        obj({"amount": {"type": "number"}, "card_number": STRING}, ["amount", "card_number"]),
    ),
    event(
        "weather.lookup",
        "Look up the weather forecast for a city",
        obj({"city": STRING}, ["city"]),
    ),
    event(
        "recipe.suggest",
        "Suggest a recipe from a list of ingredients",
        obj({"ingredients": {"type": "array", "items": STRING}}, ["ingredients"]),
    ),
]


def research_report() -> Choreography:
    """Two steps, field names carried from one result to the next request."""
    return Choreography(
        goal_event="report.goal",
        goal_data={"topic": "Docker", "audience": "beginners"},
        events=[
            *DISTRACTORS,
            event(
                "summary.requested",
                "Summarize research findings for an audience",
                obj({"findings": STRING, "audience": STRING}, ["findings"]),
            ),
            event(
                "research.requested",
                "Research a topic and return findings",
                obj({"topic": {"type": "string", "description": "What to research"}}, ["topic"]),
            ),
        ],
        workers={
            "research.requested": lambda args: (
                "research.completed",
                {"findings": f"{args['topic']} packages applications into containers."},
            ),
            "summary.requested": lambda args: (
                "summary.ready",
                {"summary": f"For {args.get('audience', 'everyone')}: containers made simple."},
            ),
        },
    )


ITEMS = {
    "type": "array",
    "minItems": 1,
    "items": obj({"sku": STRING, "quantity": {"type": "integer", "minimum": 1}}, ["sku"]),
}


def order_fulfilment() -> Choreography:
    """Three steps: arrays, integers, enums with defaults, values from two earlier results."""
    return Choreography(
        goal_event="order.placed",
        goal_data={"customer_id": "c-17", "items": [{"sku": "mug-1", "quantity": 2}]},
        events=[
            event(
                "shipment.schedule",
                "Schedule the shipment of a paid order to the customer",
                obj(
                    {
                        "reservation_id": STRING,
                        "payment_id": STRING,
                        "speed": {"type": "string", "enum": ["standard", "express"]},
                    },
                    ["reservation_id", "payment_id", "speed"],
                ),
            ),
            event(
                "payment.capture",
                "Charge the customer for the order total",
                obj(
                    {
                        "customer_id": STRING,
                        "total_cents": {"type": "integer", "minimum": 0},
                        "currency": {"type": "string", "enum": ["USD", "EUR"], "default": "EUR"},
                    },
                    ["customer_id", "total_cents", "currency"],
                ),
            ),
            event(
                "inventory.reserve",
                "Reserve stock for the items of an order",
                obj({"items": ITEMS}, ["items"]),
            ),
            *DISTRACTORS,
        ],
        workers={
            "inventory.reserve": lambda args: (
                "inventory.reserved",
                {"reservation_id": "r-1", "total_cents": 1800 * args["items"][0]["quantity"]},
            ),
            "payment.capture": lambda args: (
                "payment.captured",
                {"payment_id": f"p-{args['total_cents']}-{args['currency']}"},
            ),
            "shipment.schedule": lambda args: (
                "shipment.scheduled",
                {"tracking_number": f"TRK-{args['reservation_id']}", "speed": args["speed"]},
            ),
        },
    )


def support_answer() -> Choreography:
    """One step; the payload field has another name than the goal's (question ~ query)."""
    return Choreography(
        goal_event="support.question.asked",
        goal_data={"question": "How do I reset my password?"},
        events=[
            *DISTRACTORS[:2],
            event(
                "faq.search",
                "Find the answer to a customer question in the FAQ",
                obj({"query": STRING}, ["query"]),
            ),
        ],
        workers={
            "faq.search": lambda args: (
                "faq.answer",
                {"answer": "Open Settings > Account and choose 'Reset password'."},
            )
        },
    )


def translate_and_publish() -> Choreography:
    """camelCase goal keys, an enum filled by name, a result handed on under another name."""
    return Choreography(
        goal_event="blog.translate.goal",
        goal_data={"text": "Hello world, containers are great", "targetLanguage": "fr"},
        events=[
            *DISTRACTORS,
            event(
                "translation.requested",
                "Translate a text into a target language",
                obj(
                    {"text": STRING, "target_language": {"type": "string", "enum": ["de", "fr"]}},
                    ["text", "target_language"],
                ),
            ),
            event(
                "blog.post.publish",
                "Publish translated content as a blog post",
                obj({"content": STRING, "title": STRING}, ["content"]),
            ),
        ],
        workers={
            "translation.requested": lambda args: (
                "translation.completed",
                {"translation": "Bonjour le monde"},
            ),
            "blog.post.publish": lambda args: ("blog.post.published", {"url": "https://b.test/1"}),
        },
    )


@pytest.fixture
def model() -> OfflinePlannerModel:
    return OfflinePlannerModel()


async def test_research_report_takes_two_steps(model: OfflinePlannerModel) -> None:
    run = await run_choreography(model, research_report())
    assert run.published == ["research_requested", "summary_requested"]
    assert run.calls[1][1] == {
        "findings": "Docker packages applications into containers.",
        "audience": "beginners",
    }
    assert run.completion is not None
    assert run.completion["result"] == "For beginners: containers made simple."


async def test_order_fulfilment_takes_three_steps(model: OfflinePlannerModel) -> None:
    run = await run_choreography(model, order_fulfilment())
    assert run.published == ["inventory_reserve", "payment_capture", "shipment_schedule"]
    assert run.calls[0][1] == {"items": [{"sku": "mug-1", "quantity": 2}]}
    assert run.calls[1][1] == {"customer_id": "c-17", "total_cents": 3600, "currency": "EUR"}
    assert run.calls[2][1]["payment_id"] == "p-3600-EUR"
    assert run.completion is not None
    assert "TRK-r-1" in run.completion["result"]


async def test_support_answer_takes_one_step(model: OfflinePlannerModel) -> None:
    run = await run_choreography(model, support_answer())
    assert run.calls[0] == ("faq_search", {"query": "How do I reset my password?"})
    assert run.completion is not None
    assert run.completion["result"] == "Open Settings > Account and choose 'Reset password'."


async def test_translate_and_publish_hands_the_result_on(model: OfflinePlannerModel) -> None:
    run = await run_choreography(model, translate_and_publish())
    assert run.calls[:2] == [
        (
            "translation_requested",
            {"text": "Hello world, containers are great", "target_language": "fr"},
        ),
        ("blog_post_publish", {"content": "Bonjour le monde"}),
    ]
    assert run.completion is not None and run.completion["result"] == "https://b.test/1"


async def test_a_large_registry_is_searched_with_find_events(model: OfflinePlannerModel) -> None:
    choreography = support_answer()
    hidden = choreography.events.pop()
    choreography.hidden = [hidden]
    run = await run_choreography(model, choreography)
    # It searches again once a new result is in (the next step might be another hidden event),
    # then completes: the second search finds nothing new.
    names = [name for name, _ in run.calls]
    assert names == ["find_events", "faq_search", "find_events", "complete_goal"]
    assert "password" in run.calls[0][1]["query"]
    assert "Reset password" in run.calls[2][1]["query"]
    assert run.completion is not None
    assert "Reset password" in run.completion["result"]


async def test_it_abstains_when_no_event_fits(model: OfflinePlannerModel) -> None:
    choreography = Choreography(
        goal_event="poem.goal",
        goal_data={"theme": "autumn leaves", "lines": 4},
        events=list(DISTRACTORS),
        workers={},
    )
    run = await run_choreography(model, choreography)
    assert [name for name, _ in run.calls] == ["complete_goal"]
    assert run.completion is not None
    assert run.completion["result"].startswith("No registered event can serve this goal")
    assert run.completion["reasoning"].startswith(OFFLINE)


async def test_a_rejected_call_is_not_repeated(model: OfflinePlannerModel) -> None:
    choreography = research_report()
    choreography.rejects = {"research.requested"}
    run = await run_choreography(model, choreography)
    # research was refused and summary has no findings to summarize: nothing else fits.
    assert [name for name, _ in run.calls] == ["research_requested", "complete_goal"]
    assert run.completion is not None
    assert run.completion["result"].startswith("No registered event can serve this goal")


async def test_a_rejected_completion_is_followed_by_a_fuller_one(
    model: OfflinePlannerModel,
) -> None:
    choreography = research_report()
    choreography.rejected_completions = 2
    run = await run_choreography(model, choreography)
    completions = [args for name, args in run.calls if name == "complete_goal"]
    assert len(completions) == 3  # all different: the loop asserts no call repeats
    assert completions[0]["result"] == "For beginners: containers made simple."
    for fuller in completions[1:]:
        assert "Docker packages applications into containers." in fuller["result"]
        assert "For beginners: containers made simple." in fuller["result"]


async def test_every_decision_says_it_is_the_offline_heuristic(
    model: OfflinePlannerModel,
) -> None:
    run = await run_choreography(model, order_fulfilment())
    replies = [m for m in run.messages if isinstance(m, AIMessage)]
    assert len(replies) == 4
    for reply in replies:
        assert isinstance(reply.content, str) and reply.content.startswith(f"[{OFFLINE}]")
        assert reply.response_metadata["model_name"] == OFFLINE_MODEL_NAME
        assert reply.response_metadata["cost_usd"] == 0.0
        assert reply.usage_metadata == {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    assert run.completion is not None
    assert run.completion["reasoning"].startswith(f"{OFFLINE}: ")


async def test_decisions_are_deterministic() -> None:
    first = await run_choreography(OfflinePlannerModel(), order_fulfilment())
    second = await run_choreography(OfflinePlannerModel(), order_fulfilment())
    assert first.calls == second.calls
    assert [m.content for m in first.messages] == [m.content for m in second.messages]


async def test_payloads_that_would_break_the_schema_are_never_sent(
    model: OfflinePlannerModel,
) -> None:
    strict = {
        "type": "object",
        "$defs": {"code": {"type": "string", "pattern": "^[A-Z]{3}$"}},
        "properties": {"airport": {"$ref": "#/$defs/code"}},
        "required": ["airport"],
        "additionalProperties": False,
    }
    nested = obj(
        {"trip": obj({"city": STRING, "nights": {"type": "integer", "minimum": 1}}, ["city"])},
        ["trip"],
    )
    choreography = Choreography(
        goal_event="trip.goal",
        goal_data={"airport": "Munich", "city": "Munich", "nights": 3},
        events=[
            event("flight.airport.search", "Find flights from an airport for a trip", strict),
            event("hotel.trip.book", "Book a hotel for a trip to a city", nested),
        ],
        workers={"hotel.trip.book": lambda args: ("hotel.booked", {"booking": "h-1"})},
    )
    run = await run_choreography(model, choreography)
    # "Munich" breaks the airport pattern, so that event is never called; the nested payload
    # is filled field by field.
    assert run.calls[0] == ("hotel_trip_book", {"trip": {"city": "Munich", "nights": 3}})
    assert [name for name, _ in run.calls] == ["hotel_trip_book", "complete_goal"]


async def test_a_forced_tool_choice_is_obeyed(model: OfflinePlannerModel) -> None:
    tools = decision_tools()
    bound = model.bind_tools(tools, tool_choice="complete_goal")
    reply = await bound.ainvoke([HumanMessage('Goal event: x.goal\n```json\n{"a": "b"}\n```')])
    assert [call["name"] for call in reply.tool_calls] == ["complete_goal"]


def test_without_complete_goal_it_answers_in_words(model: OfflinePlannerModel) -> None:
    reply = model.bind_tools([]).invoke([HumanMessage("Goal event: x.goal")])
    assert reply.tool_calls == []
    assert isinstance(reply.content, str) and reply.content.startswith(f"[{OFFLINE}]")


FIELD_NAMES = ["topic", "city", "user_id", "amount", "items", "query", "note", "level"]
FIELD_SCHEMAS = st.sampled_from(
    [
        {"type": "string"},
        {"type": "string", "minLength": 5},
        {"type": "string", "pattern": "^[a-z]+$"},
        {"type": "string", "enum": ["low", "high"]},
        {"type": "integer", "minimum": 1},
        {"type": "number", "default": 1.5},
        {"type": "boolean"},
        {"type": "array", "items": {"type": "string"}, "minItems": 1},
        {"type": "string", "examples": ["sample"]},
        obj({"city": {"type": "string"}}, ["city"]),
    ]
)
VALUES = st.one_of(
    st.text(max_size=12),
    st.integers(-3, 5),
    st.booleans(),
    st.lists(st.text(max_size=5), max_size=2),
    st.fixed_dictionaries({"city": st.text(max_size=6)}),
)


@st.composite
def schemas(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(FIELD_NAMES), min_size=1, max_size=4, unique=True))
    properties = {name: draw(FIELD_SCHEMAS) for name in names}
    required = draw(st.lists(st.sampled_from(names), unique=True))
    schema = obj(properties, required)
    if draw(st.booleans()):
        schema["additionalProperties"] = False
    return schema


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    goal=st.dictionaries(st.sampled_from(FIELD_NAMES), VALUES, max_size=4),
    result=st.dictionaries(st.sampled_from(FIELD_NAMES), VALUES, max_size=3),
    payloads=st.lists(schemas(), min_size=1, max_size=4),
)
def test_any_decision_is_one_call_valid_for_its_tool(
    goal: dict[str, Any], result: dict[str, Any], payloads: list[dict[str, Any]]
) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": f"e{i}",
                "description": " ".join(p["properties"]),
                "parameters": p,
            },
        }
        for i, p in enumerate(payloads)
    ]
    tools += [convert_to_openai_tool(tool) for tool in decision_tools()]
    messages: list[Any] = [goal_message("topic.goal", goal)]
    if result:
        call = {"name": "e0", "args": {}, "id": "c1"}
        messages += [
            AIMessage("", tool_calls=[call]),
            ToolMessage("done", tool_call_id="c1", artifact={"event": "e0.done", "data": result}),
        ]
    reply = OfflinePlannerModel().bind_tools(tools).invoke(messages)
    assert len(reply.tool_calls) == 1
    call = reply.tool_calls[0]
    [schema] = [t["function"]["parameters"] for t in tools if t["function"]["name"] == call["name"]]
    assert validator_for(schema)(schema).is_valid(call["args"])
    assert (call["name"], call["args"]) != ("e0", {}) or not result


def test_call_ids_stay_unique_after_the_history_is_trimmed(model: OfflinePlannerModel) -> None:
    # offline_1..6 were trimmed away by the planner; offline_7 is still in the history.
    earlier = AIMessage("", tool_calls=[{"name": "x", "args": {}, "id": "offline_7"}])
    answer = ToolMessage("done", tool_call_id="offline_7")
    messages = [goal_message("report.goal", {}), earlier, answer]
    reply = model.bind_tools(decision_tools()).invoke(messages)
    assert reply.tool_calls[0]["id"] == "offline_8"
