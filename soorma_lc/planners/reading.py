"""Reading the model's reply: exactly one checked decision, or why there is none.

Only the first tool call of a reply is carried out; the others are answered "skipped" so the
conversation stays valid for every provider. Event tool arguments are validated against the
event's JSON Schema, decision tools against their own, and a delegated goal against its goal
event's schema; every problem goes back to the model in words, by JSON path.
"""

from __future__ import annotations

from dataclasses import replace

from langchain_core.messages import AIMessage, ToolMessage

from soorma_lc.errors import PayloadValidationError, UnknownEventError
from soorma_lc.planners.decisions import (
    DELEGATE_GOAL,
    Decision,
    Rejection,
    decision_from_call,
    reply_reasoning,
)
from soorma_lc.planners.offer import Offer
from soorma_lc.planners.prompts import rejection_message
from soorma_lc.toolkit import EventToolkit

SKIPPED = (
    "only one tool call is carried out per turn; this one was skipped (call it again later if "
    "it is still needed)"
)


def with_call_ids(reply: AIMessage, step: int) -> AIMessage:
    """``reply`` with an id on every tool call (each answer must name the call it answers)."""
    if all(call.get("id") for call in reply.tool_calls):
        return reply
    calls = [
        {**call, "id": call.get("id") or f"call-{step}-{index}"}
        for index, call in enumerate(reply.tool_calls)
    ]
    return reply.model_copy(update={"tool_calls": calls})


def _problems(error: PayloadValidationError) -> str:
    return "\n".join(f"- {problem}" for problem in error.errors)


async def read_reply(
    reply: AIMessage, offer: Offer, toolkit: EventToolkit
) -> tuple[Decision | Rejection, list[ToolMessage]]:
    """The reply's one decision (or a rejection), and the answers to the calls it skipped."""
    if not reply.tool_calls:
        if reply.invalid_tool_calls:
            bad = reply.invalid_tool_calls[0]
            reason = (
                f"the arguments of {bad.get('name')} are not a valid JSON object "
                f"({bad.get('error') or bad.get('args')}); call it again with valid JSON"
            )
            return Rejection(reason, None, bad.get("name")), []
        reason = f"you answered without calling a tool; call exactly one of: {offer.listing}"
        return Rejection(reason, None), []
    first, *others = reply.tool_calls
    skipped = [rejection_message(call["id"] or "", call["name"], SKIPPED) for call in others]
    name, args, call_id = first["name"], first["args"], first["id"] or ""
    reasoning = reply_reasoning(reply)
    tool = offer.events.get(name)
    if tool is not None:
        try:
            payload = tool.validator.validated(args, event_name=tool.event.event_name)
        except PayloadValidationError as exc:
            reason = f"the arguments do not match the schema of {tool.event.event_name}:\n"
            return Rejection(reason + _problems(exc), call_id, name), skipped
        decision = Decision(
            "publish",
            call_id,
            name,
            event=tool.event.event_name,
            payload=payload,
            reasoning=reasoning,
        )
        return decision, skipped
    if name not in offer.decisions:
        reason = f"there is no tool named {name!r}; the tools are: {offer.listing}"
        return Rejection(reason, call_id, name), skipped
    read = decision_from_call(name, args, call_id)
    if isinstance(read, Decision):
        read = replace(read, reasoning=read.reasoning or reasoning)
        if read.kind == "delegate":
            read = await _checked_delegation(read, offer, toolkit)
    return read, skipped


async def _checked_delegation(
    decision: Decision, offer: Offer, toolkit: EventToolkit
) -> Decision | Rejection:
    """A delegation to a goal event another planner serves, with goal data that fits it."""
    goal_event = offer.goals.get(decision.event or "")
    if goal_event is None:
        known = ", ".join(sorted(offer.goals)) or "none"
        reason = f"{decision.event!r} is not a goal event of another planner (goal events: {known})"
        return Rejection(reason, decision.tool_call_id, DELEGATE_GOAL)
    try:
        payload = await toolkit.create_payload(goal_event.event_name, decision.payload)
    except PayloadValidationError as exc:
        reason = f"goal_data does not match {goal_event.event_name}:\n{_problems(exc)}"
        return Rejection(reason, decision.tool_call_id, DELEGATE_GOAL)
    except UnknownEventError:
        reason = f"{goal_event.event_name} is no longer registered"
        return Rejection(reason, decision.tool_call_id, DELEGATE_GOAL)
    return replace(decision, payload=payload)
