"""Which tools the model gets at a step: actionable events (all, or the top-k for large
registries with a search tool), and the built-in decision tools."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from soorma_lc.events import EventDefinition, EventTopic
from soorma_lc.planners.decisions import (
    COMPLETE_GOAL,
    DELEGATE_GOAL,
    FIND_EVENTS,
    WAIT_FOR_EVENT,
    Decision,
    decision_tool,
)
from soorma_lc.toolkit import EventTool, EventToolkit

GOAL_ROLE_KEY = "soorma_role"
"""``EventDefinition.metadata`` key marking a planner's goal events (value ``"goal"``)."""

EventFilter = Collection[str] | Callable[[EventDefinition], bool]
"""Trinity: a fixed list of event names, or a predicate, instead of open discovery."""


def is_goal_event(event: EventDefinition) -> bool:
    """Whether ``event`` is some planner's goal (offered through ``delegate_goal``)."""
    return event.metadata.get(GOAL_ROLE_KEY) == "goal"


@dataclass(frozen=True)
class Offer:
    """One step's tools, and what each tool name stands for."""

    tools: list[EventTool | dict[str, Any]]
    events: Mapping[str, EventTool] = field(default_factory=dict)
    """Event tools by tool name."""
    goals: Mapping[str, EventDefinition] = field(default_factory=dict)
    """Goal events ``delegate_goal`` may name, by event name."""
    decisions: frozenset[str] = frozenset()
    """The decision tools offered."""

    @property
    def names(self) -> list[str]:
        return [*self.events, *sorted(self.decisions)]

    @property
    def listing(self) -> str:
        """The tool names, for messages that tell the model what it may call."""
        return ", ".join(self.names)

    def event_definition(self, decision: Decision) -> EventDefinition:
        """The event a publish or delegate decision names, as offered this step."""
        if decision.kind == "delegate":
            return self.goals[decision.event or ""]
        return self.events[decision.tool].event


def _allowed(event: EventDefinition, allow: EventFilter | None) -> bool:
    if allow is None:
        return True
    if callable(allow):
        return bool(allow(event))
    return event.event_name in allow


async def build_offer(
    toolkit: EventToolkit,
    *,
    own_goals: Collection[str],
    query: str,
    found: Sequence[str],
    max_tools: int,
    allow: EventFilter | None = None,
) -> Offer:
    """The tools for one step.

    Actionable events (consumed by a live agent) except results and this planner's own goals,
    limited by ``allow``; other planners' goal events go to ``delegate_goal``. With more than
    ``max_tools`` events, the ``max_tools`` most relevant to ``query`` (plus those the model
    ``found`` before) are offered, with ``find_events`` to search for the rest.
    """
    candidates = [
        event
        for event in await toolkit.discover_actionable_events(topic=None)
        if event.topic != EventTopic.ACTION_RESULTS
        and event.event_name not in own_goals
        and _allowed(event, allow)
    ]
    goals = {e.event_name: e for e in candidates if is_goal_event(e)}
    actions = [e for e in candidates if not is_goal_event(e)]
    searching = len(actions) > max_tools
    if searching:
        available = {e.event_name for e in actions}
        pinned = [name for name in found if name in available][-max_tools:]
        actions = await toolkit.select_events(
            query, k=max_tools, always_include=pinned, events=actions
        )
    tools = toolkit.as_tools(actions)
    decisions = {COMPLETE_GOAL, WAIT_FOR_EVENT}
    offered: list[EventTool | dict[str, Any]] = [*tools, decision_tool(COMPLETE_GOAL)]
    offered.append(decision_tool(WAIT_FOR_EVENT))
    if goals:
        listing = "; ".join(f"{name}: {event.description}" for name, event in sorted(goals.items()))
        offered.append(
            decision_tool(
                DELEGATE_GOAL,
                "Hand a sub-goal to another planner and wait for its outcome. Goal events: "
                + listing,
            )
        )
        decisions.add(DELEGATE_GOAL)
    if searching:
        offered.append(decision_tool(FIND_EVENTS))
        decisions.add(FIND_EVENTS)
    return Offer(
        tools=offered,
        events={tool.name: tool for tool in tools},
        goals=goals,
        decisions=frozenset(decisions),
    )


async def find_events(
    toolkit: EventToolkit,
    query: str,
    *,
    own_goals: Collection[str],
    allow: EventFilter | None,
    k: int = 5,
) -> list[EventDefinition]:
    """The answer to ``find_events``: actionable events closest to ``query``."""
    candidates = [
        event
        for event in await toolkit.discover_actionable_events(topic=None)
        if event.topic != EventTopic.ACTION_RESULTS
        and event.event_name not in own_goals
        and not is_goal_event(event)
        and _allowed(event, allow)
    ]
    return await toolkit.select_events(query, k=k, events=candidates)
