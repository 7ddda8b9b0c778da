"""Selecting the few relevant tools among many: the Chroma event index (real embedded Chroma)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from soorma_lc.backends.chroma import chroma_client
from soorma_lc.backends.embeddings import HashingEmbeddings
from soorma_lc.config import Settings
from soorma_lc.errors import UnknownEventError
from soorma_lc.events import EventDefinition
from soorma_lc.registry.memory import InMemoryRegistry
from soorma_lc.toolkit import EventToolkit
from soorma_lc.toolkit.index import EventIndex, event_text, event_views
from tests.toolkit_helpers import NOTIFY, SEARCH, agent_consuming

DOMAINS = {
    "travel.flight.book": "Book a flight ticket for a passenger between two airports",
    "travel.hotel.reserve": "Reserve a hotel room for given dates in a city",
    "billing.invoice.send": "Send an invoice to a customer for payment",
    "billing.refund.issue": "Issue a refund of a payment back to the customer",
    "hr.leave.request": "Request vacation leave days for an employee",
    "hr.payroll.run": "Run the monthly payroll and pay employee salaries",
    "it.password.reset": "Reset the login password of a user account",
    "it.server.restart": "Restart a crashed server machine in the data center",
    "weather.forecast.get": "Get the weather forecast for a location",
    "calendar.meeting.schedule": "Schedule a meeting on the team calendar",
    "docs.report.summarize": "Summarize a long report document into key points",
    "shop.order.ship": "Ship a customer order package by courier",
}


def definitions(descriptions: dict[str, str]) -> list[EventDefinition]:
    return [
        EventDefinition(event_name=name, topic="action-requests", description=text)
        for name, text in descriptions.items()
    ]


class CountingEmbeddings(HashingEmbeddings):
    """The offline embeddings, counting the documents they embed."""

    def __init__(self) -> None:
        super().__init__()
        self.documents = 0

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        self.documents += len(texts)
        return await super().aembed_documents(texts)


async def make_toolkit(
    settings: Settings,
    tenant: str,
    events: list[EventDefinition],
    embeddings: Embeddings | str = "offline",
) -> EventToolkit:
    registry = InMemoryRegistry()
    await registry.register_agent(agent_consuming(*events, agent_id=f"agent-{tenant}"))
    return EventToolkit(registry, settings=settings, tenant_id=tenant, embeddings=embeddings)


@pytest.mark.parametrize(
    ("goal", "expected"),
    [
        ("I need a plane ticket to Paris next week", "travel.flight.book"),
        ("give the client their money back", "billing.refund.issue"),
        ("my login credentials stopped working, reset them", "it.password.reset"),
        ("set up a call with the team on the calendar", "calendar.meeting.schedule"),
    ],
)
async def test_goal_finds_its_event(settings: Settings, goal: str, expected: str) -> None:
    toolkit = await make_toolkit(settings, "t", definitions(DOMAINS))
    selected = await toolkit.select_events(goal, k=3)
    assert expected in [event.event_name for event in selected]
    assert len(selected) == 3


async def test_small_sets_skip_the_index(settings: Settings) -> None:
    toolkit = await make_toolkit(settings, "t", definitions(DOMAINS)[:3])
    selected = await toolkit.select_tools("anything", k=5)
    assert [t.name for t in selected] == [  # discovery order: by event name
        "billing_invoice_send",
        "travel_flight_book",
        "travel_hotel_reserve",
    ]
    assert chroma_client(settings).list_collections() == []


async def test_always_include_is_pinned_first(settings: Settings) -> None:
    toolkit = await make_toolkit(settings, "t", definitions(DOMAINS))
    selected = await toolkit.select_events(
        "weather in Pune", k=2, always_include=["shop.order.ship", "shop.order.ship"]
    )
    assert selected[0].event_name == "shop.order.ship"
    assert "weather.forecast.get" in [e.event_name for e in selected]
    assert len(selected) == 3
    with pytest.raises(UnknownEventError):
        await toolkit.select_events("x", k=2, always_include=["not.registered"])
    tools = await toolkit.select_tools("weather in Pune", k=1, always_include=["hr.payroll.run"])
    assert [t.name for t in tools] == ["hr_payroll_run", "weather_forecast_get"]


async def test_index_is_incremental_and_shared_through_chroma(settings: Settings) -> None:
    events = definitions(DOMAINS)
    registry = InMemoryRegistry()
    await registry.register_agent(agent_consuming(*events))
    toolkit = EventToolkit(registry, settings=settings, tenant_id="t", embeddings="offline")
    assert await toolkit.sync_index() == len(events)
    assert await toolkit.sync_index() == 0
    await registry.register_event(
        events[0].model_copy(update={"description": "Book a train ticket between cities"})
    )
    await registry.register_event(EventDefinition(event_name="new.one", topic="action-requests"))
    assert await toolkit.sync_index() == 2
    # Another process (a fresh index on the same Chroma) finds everything already embedded.
    client = await asyncio.to_thread(chroma_client, settings)
    fresh = EventIndex(client, HashingEmbeddings(), tenant_id="t")
    current = await registry.list_events()
    assert await fresh.sync(current) == 0
    kept = [e for e in current if e.event_name.startswith(("travel.", "hr."))]
    assert await fresh.sync(kept) == 0  # removals only
    ranked = await fresh.rank("book a train", k=20)
    assert len(ranked) == len(kept) == 4
    assert ranked[0][0] == "travel.flight.book"
    assert ranked == sorted(ranked, key=lambda pair: -pair[1])


async def test_rank_restricted_to_candidates(settings: Settings) -> None:
    client = await asyncio.to_thread(chroma_client, settings)
    index = EventIndex(client, HashingEmbeddings(), tenant_id="t")
    await index.sync(definitions(DOMAINS))
    ranked = await index.rank("book a flight", k=3, among=["hr.leave.request", "hr.payroll.run"])
    assert {name for name, _ in ranked} == {"hr.leave.request", "hr.payroll.run"}
    assert await index.rank("book a flight", k=3, among=["unknown"]) == []
    assert await index.rank("book a flight", k=0) == []


async def test_tenants_have_separate_indexes(settings: Settings) -> None:
    travel = await make_toolkit(settings, "tenant-travel", definitions(DOMAINS)[:6])
    office = await make_toolkit(
        settings,
        "tenant-office",
        definitions({k: v for k, v in DOMAINS.items() if k not in list(DOMAINS)[:6]}),
    )
    for toolkit in (travel, office):
        await toolkit.sync_index()
    chosen = await office.select_events("book a flight ticket", k=2)
    assert not any(e.event_name.startswith("travel.") for e in chosen)
    index_names = {c.name for c in chroma_client(settings).list_collections()}
    assert len(index_names) == 2


async def test_unregistered_candidates_are_indexed_too(settings: Settings) -> None:
    embeddings = CountingEmbeddings()
    toolkit = await make_toolkit(settings, "t", [], embeddings)
    extra = definitions(DOMAINS)
    for _ in range(2):  # the second time they are in the index already: nothing re-embedded
        selected = await toolkit.select_events("restart the crashed server", k=2, events=extra)
        assert "it.server.restart" in [e.event_name for e in selected]
    assert embeddings.documents == sum(len(event_views(e)) for e in extra)


def test_indexed_text() -> None:
    assert event_text(SEARCH) == (
        "web search requested. Search the web for a query. When facts from the internet are needed."
    )
    assert event_text(NOTIFY) == "user notify. Send a notification to the user."
    bare = EventDefinition(
        event_name="parcel.track",
        topic="action-requests",
        payload_schema={
            "type": "object",
            "properties": {
                "carrier": {"$ref": "#/$defs/carrier", "description": "Who delivers"},
                "code": {"type": "string"},
            },
            "$defs": {"carrier": {"enum": ["dhl", "ups"]}},
        },
    )
    assert event_text(bare) == (
        "parcel track. Fields: carrier (Who delivers) one of dhl, ups; code."
    )


def test_views_of_an_event() -> None:
    assert event_views(SEARCH) == [
        event_text(SEARCH),
        "Search the web for a query. When facts from the internet are needed.",
    ]
    bare = EventDefinition(event_name="parcel.track", topic="action-requests")
    assert event_views(bare) == ["parcel track."]  # no prose: the name is the only view


async def test_stored_vector_is_the_mean_of_the_views(settings: Settings) -> None:
    """One vector per event: the normalised mean of its views' embeddings, not the full text's."""
    embeddings = HashingEmbeddings()
    client = await asyncio.to_thread(chroma_client, settings)
    index = EventIndex(client, embeddings, tenant_id="t")
    events = definitions(DOMAINS)
    await index.sync(events)
    collection = await asyncio.to_thread(client.get_collection, index.name)
    stored = await asyncio.to_thread(
        collection.get, ids=["travel.flight.book"], include=["embeddings", "documents"]
    )
    full, prose = (np.array(v) for v in embeddings.embed_documents(event_views(events[0])))
    mean = (full + prose) / np.linalg.norm(full + prose)
    assert stored["documents"] == [event_text(events[0])]
    np.testing.assert_allclose(stored["embeddings"][0], mean, atol=1e-6)
    assert not np.allclose(stored["embeddings"][0], full, atol=1e-3)
    # Ranking uses those vectors: the similarity rank reports is the cosine to the mean.
    [(name, score)] = await index.rank("book a flight", k=1)
    query = np.array(embeddings.embed_query("book a flight"))
    assert name == "travel.flight.book"
    assert score == pytest.approx(float(query @ mean), abs=1e-5)
