"""Events shown to an LLM: Soorma's descriptor dicts, Soorma's prompt text, tool descriptions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from soorma_lc.checks import items_argument, shown
from soorma_lc.errors import InvalidEventError
from soorma_lc.events import EventDefinition
from soorma_lc.toolkit.schema import example_object, object_schema, resolve_ref


def event_descriptor(event: EventDefinition) -> dict[str, Any]:
    """Soorma's LLM descriptor of one event (``EventToolkit.format_for_llm`` item layout)."""
    schema = object_schema(event.payload_schema, event_name=event.event_name)
    required = [name for name in schema.get("required", []) if isinstance(name, str)]
    payload_fields: dict[str, Any] = {}
    for name, prop in schema["properties"].items():
        if not isinstance(prop, dict):
            continue
        field = dict(resolve_ref(prop, schema))
        field.pop("$defs", None)
        field["required"] = name in required
        if "enum" in field:
            field["allowed_values"] = field.pop("enum")
        payload_fields[name] = field
    descriptor: dict[str, Any] = {
        "name": event.event_name,
        "description": event.description,
        "topic": str(event.topic),
        "required_fields": required,
        "payload_fields": payload_fields,
        "example_payload": example_object(schema, schema),
        "has_response": event.response_schema is not None,
    }
    if event.response_schema is not None:
        descriptor["response_fields"] = event.response_schema.get("properties", {})
    if event.metadata:
        descriptor["metadata"] = event.metadata
    return descriptor


def format_for_llm(events: Iterable[EventDefinition]) -> list[dict[str, Any]]:
    """Soorma's descriptor dicts for ``events`` (name, fields, example payload, response)."""
    return [event_descriptor(event) for event in events]


def format_as_prompt_text(
    events: Iterable[Mapping[str, Any]],
    include_metadata: bool = True,
    numbered: bool = True,
    include_fields: bool = False,
) -> str:
    """Soorma's prompt layout: ``1. **name**`` then indented description (and guidance).

    ``include_fields`` adds one line listing the payload fields (required ones marked ``*``)
    and allowed values, which Soorma's layout leaves out.
    """
    blocks: list[str] = []
    for index, event in enumerate(items_argument(events, "events", error=InvalidEventError), 1):
        if not isinstance(event, Mapping) or not isinstance(event.get("name"), str):
            raise InvalidEventError(
                "format_as_prompt_text takes the descriptors format_for_llm returns "
                f"(mappings with a name), got {shown(event)}"
            )
        prefix = f"{index}. " if numbered else ""
        description = event.get("description", "")
        lines = [
            f"{prefix}**{event['name']}**",
            f"   Description: {description if isinstance(description, str) else ''}",
        ]
        metadata = event.get("metadata")
        if include_metadata and isinstance(metadata, Mapping):
            when_to_use = metadata.get("when_to_use")
            if isinstance(when_to_use, str) and when_to_use:
                lines.append(f"   When to use: {when_to_use}")
        if include_fields and isinstance(event.get("payload_fields"), Mapping):
            lines.append("   Fields: " + ", ".join(_field_summary(event["payload_fields"])))
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def _field_summary(fields: Mapping[str, Any]) -> list[str]:
    summary = []
    for name, field in fields.items():
        if not isinstance(name, str) or not isinstance(field, Mapping):
            continue  # not a descriptor field: nothing to say about it
        text = name + ("*" if field.get("required") else "")
        if isinstance(field.get("type"), str):
            text += f" ({field['type']})"
        if isinstance(field.get("allowed_values"), list):
            text += " one of " + "|".join(shown_value(v) for v in field["allowed_values"])
        summary.append(text)
    return summary


def shown_value(value: Any) -> str:
    """An allowed value as the prompt shows it (strings as they are, others bounded)."""
    return value if isinstance(value, str) else shown(value).split(" ", 1)[1]


def tool_description(event: EventDefinition) -> str:
    """What the LLM reads about a tool: the event's description, name and expected result."""
    text = event.description.strip() or f"Publish the {event.event_name} event."
    when_to_use = event.metadata.get("when_to_use")
    if isinstance(when_to_use, str) and when_to_use.strip():
        text += f" When to use: {when_to_use.strip()}"
    text += f" (event {event.event_name}"
    if event.response_schema is not None:
        text += "; a result event follows"
    return text + ")"
