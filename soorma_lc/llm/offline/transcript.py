"""What the offline planner reads from a planner conversation: goal, results, past calls.

It relies only on the planner's conversation contract: the first human message holds the goal
(its data as a fenced ``json`` block), each past step is an AI tool call answered by a
:class:`ToolMessage` with the same ``tool_call_id`` (result data in ``artifact["data"]`` or a
fenced ``json`` block), rejected calls have ``status="error"``. JSON is found generically:
fenced ``json`` blocks, else a message that is one JSON object.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

_FENCED = re.compile(r"```[ \t]*(?:json)?[ \t]*\r?\n(.*?)```", re.DOTALL | re.IGNORECASE)


def message_text(message: BaseMessage) -> str:
    """A message's text, whether its content is a string or a list of content blocks."""
    content = message.content
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and isinstance(block.get("text"), str):
            parts.append(block["text"])
    return "\n".join(parts)


def json_objects(text: str) -> list[dict[str, Any]]:
    """The JSON objects in ``text``: its fenced json blocks, else the whole text if it is one."""
    blocks = _FENCED.findall(text)
    candidates = blocks if blocks else [text] if text.strip().startswith("{") else []
    objects = []
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            objects.append(value)
    return objects


@dataclass(frozen=True)
class Source:
    """A body of data the heuristic can take values from, and how recent it is.

    ``order`` grows with recency: working memory -2, the goal -1, results 0, 1, 2, ...
    """

    label: str
    data: dict[str, Any]
    order: int

    @property
    def text(self) -> str:
        return f"{self.label}\n{json.dumps(self.data, ensure_ascii=False, default=str)}"


@dataclass(frozen=True)
class PastCall:
    """One tool call the model made earlier and what came back."""

    name: str
    args: dict[str, Any]
    rejected: bool
    result: Source | None


@dataclass(frozen=True)
class Transcript:
    """The planner conversation as the heuristic needs it."""

    goal_text: str
    goal: Source | None
    memory: tuple[Source, ...]
    calls: tuple[PastCall, ...]

    @property
    def results(self) -> list[Source]:
        return [call.result for call in self.calls if call.result is not None]

    @property
    def latest_result(self) -> Source | None:
        results = self.results
        return results[-1] if results else None

    @property
    def sources(self) -> list[Source]:
        """Every source, newest first."""
        every = [*self.memory, *([self.goal] if self.goal else []), *self.results]
        return sorted(every, key=lambda source: -source.order)

    def calls_to(self, name: str) -> list[PastCall]:
        return [call for call in self.calls if call.name == name]


def _outcomes(messages: Sequence[BaseMessage]) -> dict[str, ToolMessage]:
    return {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}


def _result(call_name: str, answer: ToolMessage, order: int) -> Source | None:
    """The result data a tool answer carries, if any (``artifact["data"]``, else its JSON)."""
    artifact = answer.artifact
    if isinstance(artifact, dict) and isinstance(artifact.get("data"), dict):
        event = artifact.get("event") if isinstance(artifact.get("event"), str) else call_name
        return Source(f"result {event}", artifact["data"], order)
    found = json_objects(message_text(answer))
    return Source(f"result of {call_name}", found[0], order) if found else None


def read_transcript(messages: Sequence[BaseMessage], decision_tools: frozenset[str]) -> Transcript:
    """Parse ``messages``; answers to ``decision_tools`` (find_events, ...) are not results."""
    humans = [m for m in messages if isinstance(m, HumanMessage)]
    goal_text = message_text(humans[0]) if humans else ""
    goal_data = json_objects(goal_text)
    goal = Source("goal", goal_data[0], -1) if goal_data else None
    memory = tuple(
        Source("working memory", data, -2)
        for message in messages
        if isinstance(message, SystemMessage)
        for data in json_objects(message_text(message))
    )
    outcomes = _outcomes(messages)
    calls: list[PastCall] = []
    for message in messages:
        if not isinstance(message, AIMessage):
            continue
        for call in message.tool_calls:
            answer = outcomes.get(call.get("id") or "")
            rejected = answer is not None and answer.status == "error"
            result = None
            if answer is not None and not rejected and call["name"] not in decision_tools:
                result = _result(call["name"], answer, len([c for c in calls if c.result]))
            calls.append(PastCall(call["name"], dict(call["args"]), rejected, result))
    return Transcript(goal_text, goal, memory, tuple(calls))
