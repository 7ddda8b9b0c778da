"""A small stand-in for the choreography planner: it plays the planner's conversation contract
with any chat model, simulating workers' results, and checks every call the model makes.

Used by the offline planner tests and the models example; it knows nothing about the offline
model's internals.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from jsonschema.validators import validator_for
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import BaseTool, StructuredTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from soorma_lc.events import EventDefinition, EventTopic
from soorma_lc.registry import InMemoryRegistry
from soorma_lc.toolkit import EventToolkit

Worker = Callable[[dict[str, Any]], tuple[str, dict[str, Any]] | None]
"""Answers a published event's payload with (result event name, result data), or None."""


def event(name: str, description: str, schema: dict[str, Any]) -> EventDefinition:
    return EventDefinition(
        event_name=name,
        topic=EventTopic.ACTION_REQUESTS,
        description=description,
        payload_schema=schema,
        response_schema={"type": "object"},
    )


def obj(properties: dict[str, Any], required: Sequence[str] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required)}


def _complete_goal(result: str, reasoning: str) -> str:
    return result


def _wait_for_event(event_name: str, timeout_seconds: float, reason: str) -> str:
    return event_name


def _delegate_goal(goal_event: str, goal_data: dict[str, Any], reasoning: str) -> str:
    return goal_event


def _find_events(query: str) -> str:
    return query


def decision_tools(*, find_events: bool = False) -> list[BaseTool]:
    """The planner's decision tools with the contract's names and arguments."""
    tools = [
        StructuredTool.from_function(
            _complete_goal, name="complete_goal", description="Finish the goal with its result."
        ),
        StructuredTool.from_function(
            _wait_for_event, name="wait_for_event", description="Wait for an event."
        ),
        StructuredTool.from_function(
            _delegate_goal, name="delegate_goal", description="Hand a sub-goal to another planner."
        ),
    ]
    if find_events:
        tools.append(
            StructuredTool.from_function(
                _find_events, name="find_events", description="Search the registry for events."
            )
        )
    return tools


@dataclass
class Choreography:
    """A goal, the registered events, and the workers that answer some of them."""

    goal_event: str
    goal_data: dict[str, Any]
    events: list[EventDefinition]
    workers: dict[str, Worker]
    hidden: list[EventDefinition] = field(default_factory=list)
    """Events offered only after the model calls find_events (a large registry)."""
    rejects: set[str] = field(default_factory=set)
    """Events whose calls the planner rejects (status="error")."""
    rejected_completions: int = 0
    """How many complete_goal calls the planner's guards reject before accepting one."""


@dataclass
class Run:
    """What happened: the conversation, the calls made, and the completion (if any)."""

    messages: list[BaseMessage]
    calls: list[tuple[str, dict[str, Any]]]
    completion: dict[str, Any] | None

    @property
    def published(self) -> list[str]:
        return [name for name, _ in self.calls if name not in ("complete_goal", "find_events")]


def goal_message(goal_event: str, goal_data: dict[str, Any]) -> HumanMessage:
    data = json.dumps(goal_data, indent=2)
    return HumanMessage(f"Goal event: {goal_event}\nGoal data:\n```json\n{data}\n```")


async def run_choreography(
    model: BaseChatModel, choreography: Choreography, *, max_steps: int = 10
) -> Run:
    """Drive ``model`` through ``choreography`` as the planner would, checking each call:
    exactly one tool call, arguments valid for the tool's schema, never the same call twice."""
    toolkit = EventToolkit(InMemoryRegistry())
    offered = list(choreography.events)
    extra_offered = False
    messages: list[BaseMessage] = [
        SystemMessage("You are the planner. Call exactly one tool per step."),
        goal_message(choreography.goal_event, choreography.goal_data),
    ]
    calls: list[tuple[str, dict[str, Any]]] = []
    for _ in range(max_steps):
        tools = [
            *toolkit.as_tools(offered),
            *decision_tools(find_events=bool(choreography.hidden)),
        ]
        schemas = {
            spec["function"]["name"]: spec["function"]["parameters"]
            for spec in map(convert_to_openai_tool, tools)
        }
        reply = await model.bind_tools(tools).ainvoke(messages)
        assert isinstance(reply, AIMessage)
        assert len(reply.tool_calls) == 1, reply
        call = reply.tool_calls[0]
        name, args = call["name"], call["args"]
        schema = schemas[name]
        errors = list(validator_for(schema)(schema).iter_errors(args))
        assert not errors, f"{name} {args}: {errors}"
        assert (name, args) not in calls, f"repeated call {name} {args}"
        calls.append((name, args))
        messages.append(reply)
        if name == "complete_goal":
            rejected = sum(1 for n, _ in calls if n == "complete_goal") - 1
            if rejected >= choreography.rejected_completions:
                return Run(messages, calls, args)
            messages.append(
                ToolMessage(
                    "Rejected: the completion described the content instead of including it.",
                    tool_call_id=call["id"],
                    status="error",
                )
            )
            continue
        messages.append(_answer(choreography, toolkit, name, args, call["id"]))
        if name == "find_events" and not extra_offered:
            offered += choreography.hidden
            extra_offered = True
    return Run(messages, calls, None)


def _answer(
    choreography: Choreography, toolkit: EventToolkit, tool: str, args: dict[str, Any], call_id: str
) -> ToolMessage:
    if tool == "find_events":
        names = ", ".join(e.event_name for e in choreography.hidden) or "none"
        return ToolMessage(f"Events found: {names}", tool_call_id=call_id)
    event_name = toolkit.event_for_tool(tool)
    if event_name in choreography.rejects:
        return ToolMessage(
            f"Tool {tool} was not called: the planner refused it.",
            tool_call_id=call_id,
            status="error",
        )
    worker = choreography.workers.get(event_name)
    answered = worker(args) if worker else None
    if answered is None:
        return ToolMessage(f"Published {event_name}; no result expected.", tool_call_id=call_id)
    result_event, data = answered
    return ToolMessage(
        f"Result event {result_event}:\n```json\n{json.dumps(data, indent=2)}\n```",
        tool_call_id=call_id,
        artifact={"event": result_event, "data": data},
    )
