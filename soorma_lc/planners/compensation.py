"""Compensation (Saga): how an event says what undoes it, and building that undo.

An event definition declares its compensating event in its metadata::

    EventDefinition(
        event_name="inventory.reserve.requested", ...,
        metadata={"compensation": {
            "event": "inventory.release.requested",
            "payload": {"reservation_id": "$.result.reservation_id", "sku": "$.request.sku"},
        }},
    )

Payload values that start with ``$.`` are paths into ``{"request": <the original payload>,
"result": <its result's data>}`` (dotted names and ``[index]``); anything else is a literal.
When a plan fails or is cancelled, the planner publishes the compensations of its completed
actions in reverse order, each with an id derived from the plan and step (at least once,
idempotent), waits for each result and records each outcome.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from soorma_lc.errors import InvalidEventError

COMPENSATION_KEY = "compensation"
"""``EventDefinition.metadata`` key holding an event's compensation spec."""

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def compensation_spec(metadata: Mapping[str, Any]) -> dict[str, Any] | None:
    """The compensation an event's metadata declares (None if none), checked for shape."""
    spec = metadata.get(COMPENSATION_KEY)
    if spec is None:
        return None
    if not isinstance(spec, Mapping) or not isinstance(spec.get("event"), str):
        raise InvalidEventError(
            f"metadata.{COMPENSATION_KEY} must be an object with an 'event' name (got {spec!r})"
        )
    payload = spec.get("payload", {})
    if not isinstance(payload, Mapping):
        raise InvalidEventError(f"metadata.{COMPENSATION_KEY}.payload must be an object")
    return {"event": spec["event"], "payload": dict(payload)}


def _resolve(path: str, scope: Mapping[str, Any]) -> Any:
    """The value at ``$.a.b[0]`` in ``scope``; KeyError naming the path when it is missing."""
    value: Any = scope
    for name, index in _PART.findall(path[2:]):
        try:
            value = value[int(index)] if index else value[name]
        except (KeyError, IndexError, TypeError):
            raise KeyError(path) from None
    return value


def build_compensation(
    spec: Mapping[str, Any], request: Mapping[str, Any], result: Mapping[str, Any]
) -> dict[str, Any]:
    """The compensating payload for one completed action (KeyError: a referenced value is
    missing, so the compensation cannot be built)."""
    scope = {"request": request, "result": result}
    return {
        field: _resolve(value, scope)
        if isinstance(value, str) and value.startswith("$.")
        else value
        for field, value in spec["payload"].items()
    }


def plan_compensations(
    actions: Sequence[Mapping[str, Any]], results: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The compensations a failed plan owes, newest action first.

    Only actions whose result arrived (the work was done) and whose event declares a
    compensation; one whose payload cannot be built is listed with the reason, so the plan's
    outcome says what could not be undone.
    """
    done = {int(r["step"]): r.get("data") or {} for r in results if r.get("step") is not None}
    owed: list[dict[str, Any]] = []
    for action in reversed(actions):
        spec, step = action.get("compensation"), int(action["step"])
        if not spec or step not in done:
            continue
        item: dict[str, Any] = {"step": step, "undoes": action["event"], "event": spec["event"]}
        try:
            item["payload"] = build_compensation(spec, action.get("payload") or {}, done[step])
        except KeyError as missing:
            item["error"] = f"{missing.args[0]} is not in the request or its result"
        owed.append(item)
    return owed
