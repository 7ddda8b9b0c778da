"""Discovery through the EventToolkit: filters, actionable events, and version-checked caching."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import redis

from soorma_lc.config import Settings
from soorma_lc.errors import ConfigurationError, InvalidSchemaError, PayloadValidationError
from soorma_lc.events import AgentDefinition, EventDefinition, EventTopic, PayloadSchema
from soorma_lc.registry.memory import InMemoryRegistry
from soorma_lc.registry.redis import RedisRegistry
from soorma_lc.toolkit import EventToolkit
from tests.toolkit_helpers import FACT, NOTIFY, ORDER, SEARCH, agent_consuming, published


class CountingRegistry:
    """A real InMemoryRegistry that counts the calls the toolkit makes (and can hide versions)."""

    def __init__(self, *, versioned: bool = True) -> None:
        self.inner = InMemoryRegistry()
        self.versioned = versioned
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            if name == "version" and not self.versioned:
                return None
            return await method(*args, **kwargs)

        return counted


@pytest.fixture
async def registry() -> CountingRegistry:
    registry = CountingRegistry()
    for event in (ORDER, SEARCH, NOTIFY, FACT):
        await registry.inner.register_event(event)
    await registry.inner.register_agent(agent_consuming(ORDER, NOTIFY))
    return registry


def names(events: list[EventDefinition]) -> list[str]:
    return [event.event_name for event in events]


async def test_filters_by_topic_and_pattern(registry: CountingRegistry) -> None:
    toolkit = EventToolkit(registry)
    assert names(await toolkit.discover_events()) == [
        "order.place.requested",
        "order.shipped",
        "user.notify",
        "web.search.requested",
    ]
    assert names(await toolkit.discover_events(topic="business-facts")) == ["order.shipped"]
    assert names(await toolkit.discover_events(event_name_pattern="ORDER")) == [
        "order.place.requested",
        "order.shipped",
    ]
    assert names(await toolkit.discover_events(event_name_pattern="*.requested")) == [
        "order.place.requested",
        "web.search.requested",
    ]
    assert names(
        await toolkit.discover_events(EventTopic.ACTION_REQUESTS, event_name_pattern="order")
    ) == ["order.place.requested"]
    assert await toolkit.discover_events(topic="no-such-topic") == []  # a custom topic
    with pytest.raises(ValueError):
        await toolkit.discover_events(topic="no such topic")


async def test_actionable_means_consumed_by_a_live_agent(registry: CountingRegistry) -> None:
    toolkit = EventToolkit(registry)
    assert names(await toolkit.discover_actionable_events()) == [
        "order.place.requested",
        "user.notify",
    ]
    await registry.inner.register_agent(agent_consuming(FACT, agent_id="auditor"))
    assert names(await toolkit.discover_actionable_events(topic=None)) == [
        "order.place.requested",
        "order.shipped",
        "user.notify",
    ]
    await registry.inner.deregister_agent("worker-1")
    await registry.inner.deregister_agent("auditor")
    assert await toolkit.discover_actionable_events() == []


NAMED = EventDefinition(
    event_name="invoice.send.requested",
    topic="billing.work",
    description="Send an invoice",
    payload_schema_name="invoice_v1",
    response_schema_name="receipt_v1",
)
INVOICE_SCHEMA = PayloadSchema(
    schema_name="invoice_v1",
    json_schema={
        "type": "object",
        "properties": {"amount": {"type": "number"}},
        "required": ["amount"],
    },
)


async def test_an_event_whose_named_schema_is_missing_is_not_offered(caplog) -> None:
    registry = InMemoryRegistry()
    await registry.register_agent(agent_consuming(NAMED, SEARCH))
    toolkit = EventToolkit(registry)
    with caplog.at_level(logging.WARNING, logger="soorma_lc.toolkit"):
        assert names(await toolkit.discover_actionable_events(None)) == ["web.search.requested"]
        await toolkit.discover_actionable_events(None)
    warnings = [r.getMessage() for r in caplog.records if "invoice_v1" in r.getMessage()]
    assert warnings == [
        "event 'invoice.send.requested' is not offered: its payload schema 'invoice_v1' is "
        "not registered"
    ]  # once, not on every discovery
    assert names(await toolkit.discover_events(topic="billing.work")) == [NAMED.event_name]
    with pytest.raises(InvalidSchemaError, match="names payload schema 'invoice_v1'"):
        toolkit.as_tools([NAMED])
    with pytest.raises(InvalidSchemaError, match="register_schema"):
        await toolkit.create_payload(NAMED.event_name, {"amount": 1})

    await registry.register_schema(INVOICE_SCHEMA)
    assert names(await toolkit.discover_actionable_events(None)) == [
        "invoice.send.requested",
        "web.search.requested",
    ]
    [tool] = toolkit.as_tools([await toolkit.get_event_info(NAMED.event_name)])
    assert tool.args_schema["required"] == ["amount"]
    assert await toolkit.create_payload(NAMED.event_name, {"amount": 9.5}) == {"amount": 9.5}
    with pytest.raises(PayloadValidationError):
        await toolkit.create_payload(NAMED.event_name, {})
    with pytest.raises(InvalidSchemaError, match="names response schema 'receipt_v1'"):
        await toolkit.validate_response(NAMED.event_name, {})


async def test_agent_expiry_is_seen_without_a_write() -> None:
    now = [0.0]
    registry = InMemoryRegistry(agent_ttl=10, clock=lambda: now[0])
    await registry.register_agent(agent_consuming(SEARCH))
    toolkit = EventToolkit(registry)
    assert names(await toolkit.discover_actionable_events()) == ["web.search.requested"]
    now[0] = 11.0  # the agent missed its heartbeat
    assert await toolkit.discover_actionable_events() == []


async def test_cache_revalidates_with_one_version_call(registry: CountingRegistry) -> None:
    toolkit = EventToolkit(registry)
    await toolkit.discover_actionable_events()
    for _ in range(5):
        await toolkit.discover_actionable_events()
        await toolkit.get_event_info("order.place.requested")
        await toolkit.create_payload("user.notify", {})
    assert registry.calls["list_events"] == 1 and registry.calls["list_agents"] == 1
    assert registry.calls.get("get_event", 0) == 0
    assert registry.calls["version"] == 1 + 5 * 3  # one per toolkit call
    await registry.inner.register_event(
        EventDefinition(event_name="report.write", topic="action-requests")
    )
    assert await toolkit.get_event_info("report.write") is not None
    assert registry.calls["list_events"] == 2


async def test_revalidate_after_bounds_version_calls(registry: CountingRegistry) -> None:
    toolkit = EventToolkit(registry, revalidate_after=3600)
    for _ in range(5):
        await toolkit.discover_actionable_events()
    assert registry.calls["version"] == 1  # trusted for an hour after the last check
    await registry.inner.register_event(
        EventDefinition(event_name="report.write", topic="action-requests")
    )
    assert await toolkit.get_event_info("report.write") is None  # stale, as asked
    fresh = EventToolkit(registry, revalidate_after=0)
    assert await fresh.get_event_info("report.write") is not None
    with pytest.raises(ConfigurationError, match="revalidate_after"):
        EventToolkit(registry, revalidate_after=-1)


async def test_unversioned_registry_uses_the_ttl() -> None:
    registry = CountingRegistry(versioned=False)
    await registry.inner.register_event(SEARCH)
    cached = EventToolkit(registry, cache_ttl=3600)
    await cached.discover_events()
    await cached.discover_events()
    assert registry.calls["list_events"] == 1
    uncached = EventToolkit(registry, cache_ttl=0)
    await uncached.discover_events()
    await uncached.discover_events()
    assert registry.calls["list_events"] == 3
    with pytest.raises(ConfigurationError, match="cache_ttl"):
        EventToolkit(registry, cache_ttl=-1)


async def test_get_event_info(registry: CountingRegistry) -> None:
    toolkit = EventToolkit(registry)
    assert await toolkit.get_event_info("web.search.requested") == SEARCH
    assert await toolkit.get_event_info("missing.event") is None


async def test_tool_names_stay_put_as_the_registry_grows(registry: CountingRegistry) -> None:
    toolkit = EventToolkit(registry)
    await toolkit.discover_events()
    before = toolkit.tool_name("order.place.requested")
    await registry.inner.register_event(
        EventDefinition(event_name="order.cancel.requested", topic="action-requests")
    )
    await toolkit.discover_events()
    assert toolkit.tool_name("order.place.requested") == before == "order_place_requested"
    assert toolkit.event_for_tool("order_cancel_requested") == "order.cancel.requested"


async def test_redis_registry_changes_from_elsewhere_are_seen(redis_url: str) -> None:
    writer = RedisRegistry.from_url(redis_url, tenant_id="tenant-x")
    reader = RedisRegistry.from_url(redis_url, tenant_id="tenant-x")
    other_tenant = RedisRegistry.from_url(redis_url, tenant_id="tenant-y")
    try:
        toolkit = EventToolkit(reader)
        assert toolkit.tenant_id == "tenant-x"
        assert await toolkit.discover_actionable_events() == []
        await writer.register_agent(agent_consuming(SEARCH))
        await other_tenant.register_agent(agent_consuming(ORDER, agent_id="elsewhere"))
        assert names(await toolkit.discover_actionable_events()) == ["web.search.requested"]
        await writer.deregister_agent("worker-1")
        assert await toolkit.discover_actionable_events() == []
    finally:
        for registry in (writer, reader, other_tenant):
            await registry.aclose()


async def test_from_settings_uses_configured_backends(
    settings: Settings, redis_client: redis.Redis
) -> None:
    toolkit = EventToolkit.from_settings(settings)
    try:
        await toolkit.registry.register_agent(
            AgentDefinition(agent_id="a", name="a", capabilities=[])
        )
        await toolkit.registry.register_event(SEARCH)
        receipt = await toolkit.publish("web.search.requested", {"query": "q"})
    finally:
        await toolkit.aclose()
    [envelope] = published(redis_client, "action-requests")
    assert envelope.id == receipt.event_id
    assert (envelope.tenant_id, envelope.user_id) == (settings.tenant_id, settings.user_id)
