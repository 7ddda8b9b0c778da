"""Scripted planner models and the research-advisor choreography the planner tests run.

A :class:`PolicyChatModel` answers each step with a function of the conversation and the
offered tools, so a test states the model's behaviour (good or bad) in a few lines and runs
deterministically; the rest (graph, guards, bus, workers, Redis) is the real thing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from soorma_lc import AgentContext, EventDefinition, EventEnvelope, EventTopic, Worker
from soorma_lc.llm.tools import OpenAIToolBinding

Policy = Callable[[list[BaseMessage], list[str]], AIMessage]


class PolicyChatModel(OpenAIToolBinding):
    """A chat model whose reply is ``policy(messages, offered_tool_names)``."""

    policy: Policy
    tool_names: list[list[str]] = Field(default_factory=list)
    prompts: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "policy"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        names = [tool["function"]["name"] for tool in kwargs.get("tools") or []]
        self.tool_names.append(names)
        self.prompts.append(list(messages))
        message = self.policy(list(messages), names)
        message.usage_metadata = {"input_tokens": 100, "output_tokens": 10, "total_tokens": 110}
        message.response_metadata = {"model_name": "policy", "cost_usd": 0.001}
        return ChatResult(generations=[ChatGeneration(message=message)])


def call(name: str, args: dict[str, Any], text: str = "", call_id: str | None = None) -> AIMessage:
    """A reply with one tool call."""
    return AIMessage(
        text, tool_calls=[{"name": name, "args": args, "id": call_id or f"c-{name}-{id(args)}"}]
    )


def results(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """The results the conversation holds so far (``{"event", "data"}`` artifacts), in order."""
    return [
        m.artifact
        for m in messages
        if isinstance(m, ToolMessage) and isinstance(m.artifact, dict) and "event" in m.artifact
    ]


def goal_data(messages: Sequence[BaseMessage]) -> dict[str, Any]:
    """The goal data of the conversation's first human message."""
    first = next(m for m in messages if isinstance(m, HumanMessage))
    text = str(first.content)
    return json.loads(text.split("```json", 1)[1].split("```", 1)[0])


def _schema(**properties: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: {"type": kind} for name, kind in properties.items()},
        "required": list(properties),
    }


RESEARCH = EventDefinition(
    event_name="research.requested",
    topic=EventTopic.ACTION_REQUESTS,
    description="Research a topic and return findings",
    payload_schema=_schema(topic="string"),
)
DRAFT = EventDefinition(
    event_name="draft.requested",
    topic=EventTopic.ACTION_REQUESTS,
    description="Write a draft article from research findings",
    payload_schema=_schema(topic="string", findings="string"),
)
VALIDATE = EventDefinition(
    event_name="validation.requested",
    topic=EventTopic.ACTION_REQUESTS,
    description="Check a draft for accuracy and completeness",
    payload_schema=_schema(draft="string"),
)

FINDINGS = (
    "Docker packages applications into containers: images are layered, containers share the "
    "host kernel, and volumes keep data beyond a container's life."
)


def draft_text(topic: str, findings: str) -> str:
    return f"# {topic} in practice\n\n{findings} This post walks through images and volumes."


def research_workers(**worker_options: Any) -> list[Worker]:
    """Researcher, advisor and validator: real Workers answering the three requests."""
    researcher = Worker("researcher", consumes=[RESEARCH], **worker_options)
    advisor = Worker("advisor", consumes=[DRAFT], **worker_options)
    validator = Worker("validator", consumes=[VALIDATE], **worker_options)

    @researcher.on_event("research.requested")
    async def research(event: EventEnvelope, context: AgentContext) -> None:
        await context.bus.respond(event, data={"findings": FINDINGS})

    @advisor.on_event("draft.requested")
    async def draft(event: EventEnvelope, context: AgentContext) -> None:
        data = event.data or {}
        await context.bus.respond(
            event, data={"draft": draft_text(str(data["topic"]), str(data["findings"]))}
        )

    @validator.on_event("validation.requested")
    async def validate(event: EventEnvelope, context: AgentContext) -> None:
        await context.bus.respond(event, data={"approved": True, "feedback": "accurate"})

    return [researcher, advisor, validator]


def research_policy(messages: list[BaseMessage], tools: list[str]) -> AIMessage:
    """A competent model: research, draft, validate, then complete with the draft itself."""
    got = results(messages)
    topic = goal_data(messages)["topic"]
    if not got:
        return call("research_requested", {"topic": topic}, "First gather findings.")
    last = got[-1]["data"]
    if "findings" in last:
        return call("draft_requested", {"topic": topic, "findings": last["findings"]})
    if "draft" in last:
        return call("validation_requested", {"draft": last["draft"]})
    draft = next(r["data"]["draft"] for r in got if "draft" in r["data"])
    return call("complete_goal", {"result": draft, "reasoning": "validated"})


class Stack:
    """A bus, registry and memory on the test's Redis, plus the agents a test starts on them."""

    def __init__(self, settings: Any) -> None:
        from soorma_lc import MemoryClient, RedisRegistry, RedisStreamsBus

        self.settings = settings
        self.bus = RedisStreamsBus.from_settings(settings, claim_idle=2.0, retry_backoff=0.05)
        self.registry = RedisRegistry.from_settings(settings)
        self.memory = MemoryClient.from_settings(settings)
        self.agents: list[Any] = []

    def shared(self) -> dict[str, Any]:
        return {
            "bus": self.bus,
            "registry": self.registry,
            "memory": self.memory,
            "settings": self.settings,
        }

    def planner(self, policy: Policy | Any, **options: Any) -> Any:
        from soorma_lc.planners import ChoreographyPlanner

        model = policy if isinstance(policy, BaseChatModel) else PolicyChatModel(policy=policy)
        options.setdefault("goal_events", ["research.goal"])
        options.setdefault("log_episodes", False)
        options.setdefault("lease_ttl", 2.0)
        options.setdefault("timer_interval", 0.05)
        return ChoreographyPlanner("research-planner", model, **{**self.shared(), **options})

    async def start(self, *agents: Any) -> None:
        for agent in agents:
            await agent.start()
            self.agents.append(agent)

    async def __aenter__(self) -> Stack:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for agent in reversed(self.agents):
            await agent.stop()
        await self.bus.aclose()
        await self.registry.aclose()
        await self.memory.aclose()


async def run_goal(planner: Any, data: dict[str, Any] | None = None, **scope: Any) -> Any:
    """Submit a research goal as alice of acme and return the plan's outcome."""
    scope = {"tenant_id": "acme", "user_id": "alice", **scope}
    return await planner.submit("research.goal", data or {"topic": "Docker"}, timeout=30, **scope)


def published_types(redis_client: Any, topic: str = "action-requests") -> list[str]:
    """Event types on a topic stream, oldest first."""
    from tests.toolkit_helpers import published

    return [envelope.type for envelope in published(redis_client, topic)]
