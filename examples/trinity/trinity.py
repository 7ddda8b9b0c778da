"""Trinity: planner, worker and tool agents, with the planner held to a fixed list of events.

Three kinds of agent talk only through the Redis Streams bus:

- a **tool** (``weather-tool``): a stateless, atomic operation (a forecast lookup);
- a **worker** (``itinerary-writer``): a domain task built from what the plan gathered;
- the **planner** (``trip-planner``): a ChoreographyPlanner whose ``events=`` names the only
  two events it may publish.

A fourth live agent, ``hotel-booker``, consumes ``hotel.booking.requested``: registered and
actionable, so a planner with open discovery would see it, but not on this planner's list. The
first decision reaches for it anyway (scripted, as a model asked to "book a hotel" might); the
planner refuses the call before anything is published, and the booker never hears of the plan.

    python examples/trinity/trinity.py                                  # offline planner model
    python examples/trinity/trinity.py --model openai/gpt-4o-mini       # a real LLM decides

Data lives in ./.soorma/trinity (or SOORMA_DATA_DIR); ``rm -rf .soorma/trinity`` resets it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from soorma_lc import (
    AgentContext,
    ChoreographyPlanner,
    EventDefinition,
    EventEnvelope,
    EventTopic,
    Settings,
    StepRecord,
    Worker,
    registry_from_settings,
    resolve_model,
)

TENANT, USER = "travel-co", "alice"


def request(name: str, description: str, **fields: str) -> EventDefinition:
    """An action request whose payload needs every field given (name -> JSON type)."""
    return EventDefinition(
        event_name=name,
        topic=EventTopic.ACTION_REQUESTS,
        description=description,
        payload_schema={
            "type": "object",
            "properties": {field: {"type": kind} for field, kind in fields.items()},
            "required": list(fields),
        },
    )


WEATHER = request(
    "weather.forecast.requested",
    "Get the weather forecast for a city for the next few days",
    city="string",
    days="integer",
)
ITINERARY = request(
    "itinerary.requested",
    "Write a day-by-day itinerary for a city trip that fits the weather forecast",
    city="string",
    days="integer",
    forecast="string",
)
BOOKING = request(
    "hotel.booking.requested",
    "Book and pay for a hotel room in a city",
    city="string",
    nights="integer",
)
TRINITY = [WEATHER.event_name, ITINERARY.event_name]
"""The only events the planner may publish."""

FORECASTS = {"lisbon": ["sunny", "sunny", "showers"], "oslo": ["snow", "cloudy", "snow"]}


def build_agents(settings: Settings, bookings: list[EventEnvelope]) -> list[Worker]:
    """The tool, the worker, and the agent outside the planner's list."""
    weather_tool = Worker("weather-tool", consumes=[WEATHER], settings=settings)
    writer = Worker("itinerary-writer", consumes=[ITINERARY], settings=settings)
    booker = Worker("hotel-booker", consumes=[BOOKING], settings=settings)

    @weather_tool.on_event(WEATHER.event_name)
    async def forecast(event: EventEnvelope, context: AgentContext) -> None:
        data = event.data or {}
        days = FORECASTS.get(str(data["city"]).lower(), ["mild"] * 7)[: int(data["days"])]
        text = ", ".join(f"day {n}: {sky}" for n, sky in enumerate(days, 1))
        await context.bus.respond(event, data={"forecast": text})

    @writer.on_event(ITINERARY.event_name)
    async def itinerary(event: EventEnvelope, context: AgentContext) -> None:
        data = event.data or {}
        lines = [f"{data['days']} days in {data['city']}:"]
        for day in str(data["forecast"]).split(","):
            sky = day.split(":")[-1].strip()
            idea = "old town walk" if sky in ("sunny", "mild", "cloudy") else "museums and cafes"
            lines.append(f"{day.strip()} -> {idea}")
        await context.bus.respond(event, data={"itinerary": "\n".join(lines)})

    @booker.on_event(BOOKING.event_name)
    async def book(event: EventEnvelope, context: AgentContext) -> None:
        bookings.append(event)
        await context.bus.respond(event, data={"confirmation": "HOTEL-42"})

    return [weather_tool, writer, booker]


class Overreaching(BaseChatModel):
    """``inner`` with a scripted first decision that calls a tool it was not offered: the
    hotel booking, as a model asked to "book a hotel" might. Only there to show the boundary."""

    inner: BaseChatModel
    tried: bool = False

    @property
    def _llm_type(self) -> str:
        return "overreaching"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        return self.bind(offered=list(tools), **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        raise NotImplementedError("the planner calls models asynchronously")

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        offered = kwargs.pop("offered", [])
        if not self.tried:
            self.tried = True
            reply = AIMessage(
                "The traveller wants a hotel too; booking one first.",
                tool_calls=[
                    {
                        "name": "hotel_booking_requested",
                        "args": {"city": "Lisbon", "nights": 3},
                        "id": "scripted-booking",
                    }
                ],
                response_metadata={"model_name": "scripted overreach"},
            )
        else:
            reply = await self.inner.bind_tools(offered, **kwargs).ainvoke(messages)
        return ChatResult(generations=[ChatGeneration(message=reply)])


def show(record: StepRecord) -> str:
    """One line of the plan's timeline."""
    what = record.event or ""
    if record.decision is not None and not what:
        what = record.decision.next_action.action  # complete
    detail = " ".join((record.note or record.reasoning or "").split())
    if record.model:
        detail = f"({record.model}) {detail}"
    if record.kind != "rejected":  # a refusal is shown whole, the rest cut to one line
        detail = detail[:100]
    return f"{record.step:>2} {record.kind:<9} {what:<27} {detail}"


async def main(model_name: str | None, settings: Settings) -> None:
    bookings: list[EventEnvelope] = []
    agents = build_agents(settings, bookings)
    planner = ChoreographyPlanner(
        "trip-planner",
        Overreaching(inner=resolve_model(model_name, settings)),
        goal_events=["trip.goal"],
        events=TRINITY,  # Trinity: a fixed list instead of open discovery
        max_actions=4,
        system_instructions="You plan city trips: check the weather, then plan the days.",
        log_episodes=False,
        settings=settings,
    )
    for agent in agents:
        await agent.start()
    registry = registry_from_settings(settings)
    try:
        async with planner:
            print("live agents and the events they consume:")
            for agent in await registry.list_agents():
                if agent.name != planner.name:
                    print(f"  {agent.name:<17} {', '.join(agent.consumed_events)}")
            print(f"the planner may publish: {', '.join(TRINITY)}\n")

            outcome = await planner.submit(
                "trip.goal",
                {"city": "Lisbon", "days": 3, "request": "plan my days and book a hotel"},
                tenant_id=TENANT,
                user_id=USER,
                timeout=120,
            )
            for record in await planner.history(outcome.plan_id, tenant_id=TENANT, user_id=USER):
                print(show(record))
    finally:
        await registry.aclose()
        for agent in agents:
            await agent.stop()

    print(f"\n{outcome.status} after {outcome.actions} actions:\n{outcome.result}")
    print(f"\nhotel-booker received {len(bookings)} requests")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="litellm model string (default: SOORMA_LLM_MODEL)")
    args = parser.parse_args()
    data_dir = os.environ.get("SOORMA_DATA_DIR", ".soorma/trinity")
    asyncio.run(main(args.model, Settings(data_dir=data_dir)))
