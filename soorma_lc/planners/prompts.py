"""What the model reads each step: the system prompt, the goal, results, and trimming.

The conversation in the plan state holds the goal, the decisions (AI tool calls) and their
outcomes (tool messages); the system prompt is rendered fresh every step with the working
memory and the action budget, so it is never stale and never stored twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.utils import count_tokens_approximately

BASE_INSTRUCTIONS = """\
You are {name}, the planner of an event-driven multi-agent system. You reach the goal by \
publishing events that other agents consume; each result comes back to you as the answer to \
the tool call that published it. Nobody else follows a fixed workflow: you decide every step.

Rules:
- Call exactly one tool per turn.
- An event tool publishes that event; its arguments are the event's payload. Build payloads \
from the goal and from earlier results.
- When the goal is met, call complete_goal with the final answer itself (the full text, data \
or findings), never a description of it such as "the draft is ready".
- If no available event can serve the goal, call complete_goal and explain why.
- Do not publish the same event with the same arguments twice.
- You may take at most {max_actions} actions (published events); {used} used so far."""


def json_block(value: Any) -> str:
    """``value`` as a fenced JSON block (what the offline model and people read back)."""
    text = json.dumps(value, ensure_ascii=False, indent=2, default=str)
    return f"```json\n{text}\n```"


def system_prompt(
    *,
    name: str,
    instructions: str | None,
    max_actions: int,
    used: int,
    working_memory: Mapping[str, Any],
    extra_rules: Sequence[str] = (),
    memory_chars: int = 4000,
) -> SystemMessage:
    """The step's system message: rules, the user's instructions, the action budget and the
    plan's working memory (its own keys; long values cut to ``memory_chars``)."""
    text = BASE_INSTRUCTIONS.format(name=name, max_actions=max_actions, used=used)
    if extra_rules:
        text += "\n" + "\n".join(f"- {rule}" for rule in extra_rules)
    if instructions:
        text += f"\n\nInstructions:\n{instructions.strip()}"
    own = {k: v for k, v in working_memory.items() if not k.startswith("_")}
    if own:
        rendered = json_block(own)
        if len(rendered) > memory_chars:
            rendered = rendered[:memory_chars] + "\n... (working memory cut)\n```"
        text += f"\n\nWorking memory of this plan (shared with the agents):\n{rendered}"
    return SystemMessage(text)


def goal_message(event: str, data: Mapping[str, Any]) -> HumanMessage:
    """The first message of every plan: the goal event and its data."""
    return HumanMessage(f"Goal event: {event}\nGoal data:\n{json_block(dict(data))}")


def result_message(
    *,
    tool_call_id: str,
    tool_name: str,
    event: str,
    data: Mapping[str, Any],
    source: str | None,
    note: str | None = None,
    max_chars: int = 8000,
) -> ToolMessage:
    """The answer to a publish (or wait): the event that came back and its data."""
    origin = f" (from {source})" if source else ""
    body = json_block(dict(data))
    if len(body) > max_chars:
        body = body[:max_chars] + f"\n... ({len(body) - max_chars} characters cut)\n```"
    text = f"Result event {event}{origin}:\n{body}"
    if note:
        text += f"\nNote: {note}"
    return ToolMessage(
        text,
        tool_call_id=tool_call_id,
        name=tool_name,
        artifact={"event": event, "data": dict(data)},
    )


def rejection_message(tool_call_id: str, tool_name: str | None, reason: str) -> ToolMessage:
    """The answer to a tool call that was not carried out."""
    return ToolMessage(
        f"Not done: {reason}", tool_call_id=tool_call_id, name=tool_name, status="error"
    )


def trim_history(messages: Sequence[AnyMessage], max_tokens: int) -> list[AnyMessage]:
    """``messages`` cut to about ``max_tokens``: the goal stays, the oldest turns go first.

    A turn is an AI message with the tool messages answering it (and any feedback after it),
    so a tool call is never separated from its answer. Dropped turns are summarised in one
    line so the model knows they happened.
    """
    if not messages or count_tokens_approximately(messages) <= max_tokens:
        return list(messages)
    head, turns = list(messages[:1]), _turns(messages[1:])
    dropped: list[list[AnyMessage]] = []
    while len(turns) > 1 and count_tokens_approximately(head + _flat(turns)) > max_tokens:
        dropped.append(turns.pop(0))
    if not dropped:
        return list(messages)
    names = [
        call["name"]
        for turn in dropped
        for m in turn
        if isinstance(m, AIMessage)
        for call in m.tool_calls
    ]
    summary = HumanMessage(
        f"({len(dropped)} earlier steps are left out to fit the context; they called: "
        f"{', '.join(names) or 'nothing'}. Their results are in working memory where agents "
        "stored them.)"
    )
    return [*head, summary, *_flat(turns)]


def _turns(messages: Sequence[AnyMessage]) -> list[list[AnyMessage]]:
    turns: list[list[AnyMessage]] = []
    for message in messages:
        if isinstance(message, AIMessage) or not turns:
            turns.append([message])
        else:
            turns[-1].append(message)
    return turns


def _flat(turns: Sequence[Sequence[AnyMessage]]) -> list[AnyMessage]:
    return [message for turn in turns for message in turn]
