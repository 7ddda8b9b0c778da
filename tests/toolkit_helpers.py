"""Shared material for the toolkit tests: event definitions, a bus reader, a scripted chat model."""

from __future__ import annotations

from typing import Any

import redis
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from soorma_lc.bus.codec import decode
from soorma_lc.bus.keys import BusKeys
from soorma_lc.events import AgentCapability, AgentDefinition, EventDefinition, EventEnvelope
from soorma_lc.llm.tools import OpenAIToolBinding

ADDRESS = {
    "type": "object",
    "properties": {
        "street": {"type": "string", "description": "Street and number"},
        "city": {"type": "string"},
        "country": {"type": "string", "enum": ["DE", "FR", "IN", "US"]},
    },
    "required": ["city", "country"],
    "additionalProperties": False,
}

ORDER_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "description": "An order to place",
    "properties": {
        "customer": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "email": {"type": "string", "description": "Where to send the receipt"},
            },
            "required": ["name"],
        },
        "items": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "sku": {"type": "string"},
                    "quantity": {"type": "integer", "minimum": 1, "default": 1},
                },
                "required": ["sku"],
                "additionalProperties": False,
            },
        },
        "shipping": {"$ref": "#/$defs/address"},
        "speed": {"type": "string", "enum": ["standard", "express"], "default": "standard"},
        "gift": {"type": "boolean", "default": False},
    },
    "required": ["customer", "items", "shipping"],
    "additionalProperties": False,
    "$defs": {"address": ADDRESS},
}

ORDER = EventDefinition(
    event_name="order.place.requested",
    topic="action-requests",
    description="Place a customer order for one or more products",
    payload_schema=ORDER_SCHEMA,
    response_schema={
        "type": "object",
        "properties": {"order_id": {"type": "string"}, "total": {"type": "number"}},
        "required": ["order_id"],
    },
    payload_schema_name="OrderRequest",
    response_schema_name="OrderResult",
)

SEARCH = EventDefinition(
    event_name="web.search.requested",
    topic="action-requests",
    description="Search the web for a query",
    payload_schema={
        "type": "object",
        "properties": {"query": {"type": "string", "description": "What to search for"}},
        "required": ["query"],
    },
    response_schema={"type": "object", "properties": {"results": {"type": "array"}}},
    metadata={"when_to_use": "When facts from the internet are needed"},
)

NOTIFY = EventDefinition(
    event_name="user.notify",
    topic="action-requests",
    description="Send a notification to the user",
)

FACT = EventDefinition(
    event_name="order.shipped",
    topic="business-facts",
    description="An order left the warehouse",
    payload_schema={"type": "object", "properties": {"order_id": {"type": "string"}}},
)

VALID_ORDER: dict[str, Any] = {
    "customer": {"name": "Ada"},
    "items": [{"sku": "A-1", "quantity": 2}, {"sku": "B-2"}],
    "shipping": {"city": "Pune", "country": "IN"},
}


def agent_consuming(*events: EventDefinition, agent_id: str = "worker-1") -> AgentDefinition:
    """A live agent with one capability per event it consumes."""
    return AgentDefinition(
        agent_id=agent_id,
        name=agent_id,
        capabilities=[
            AgentCapability(task_name=f"handle {e.event_name}", consumed_event=e) for e in events
        ],
    )


def published(client: redis.Redis, topic: str) -> list[EventEnvelope]:
    """Every envelope the bus holds on ``topic``, oldest first (read straight from Redis)."""
    entries = client.xrange(BusKeys().stream(topic))
    return [decode(fields) for _, fields in entries]


class ScriptedChatModel(OpenAIToolBinding):
    """Answers with the scripted messages in order; records the tools each call was given."""

    script: list[AIMessage]
    seen_tools: list[list[dict[str, Any]]] = Field(default_factory=list)
    position: list[int] = Field(default_factory=lambda: [0])

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.seen_tools.append(list(kwargs.get("tools") or []))
        message = self.script[self.position[0]]
        self.position[0] += 1
        return ChatResult(generations=[ChatGeneration(message=message)])
