"""Schema names on event definitions resolved to the schemas a registry holds.

An event may name its payload or response schema (``payload_schema_name``) instead of carrying
it; every registry fills the schema in from the latest version registered under that name when
it hands the event out, so the toolkit validates and shows the real schema. An inline schema
always wins over a name; a name no registered schema has stays unresolved (the schema field
stays None, and the toolkit refuses to offer such an event).
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping

from soorma_lc.checks import check_label
from soorma_lc.errors import InvalidSchemaError
from soorma_lc.events import MAX_VERSION_LENGTH, EventDefinition, PayloadSchema

SchemaLookup = Callable[[Collection[str]], Awaitable[Mapping[str, PayloadSchema]]]
"""The latest registered schema of each of the given names that has one."""

_SCHEMA_FIELDS = (
    ("payload_schema", "payload_schema_name"),
    ("response_schema", "response_schema_name"),
)


def missing_schemas(event: EventDefinition) -> list[str]:
    """The schema names ``event`` gives without carrying the schema itself."""
    return [
        name
        for schema_field, name_field in _SCHEMA_FIELDS
        if getattr(event, schema_field) is None and (name := getattr(event, name_field))
    ]


def with_schemas(event: EventDefinition, schemas: Mapping[str, PayloadSchema]) -> EventDefinition:
    """``event`` with each schema it only names filled in from ``schemas`` (when there)."""
    update = {
        schema_field: copy.deepcopy(schemas[name].json_schema)
        for schema_field, name_field in _SCHEMA_FIELDS
        if getattr(event, schema_field) is None and (name := getattr(event, name_field)) in schemas
    }
    return event.model_copy(update=update) if update else event


async def resolve_schemas(
    events: Iterable[EventDefinition], lookup: SchemaLookup
) -> list[EventDefinition]:
    """``events`` with their named schemas filled in; ``lookup`` runs once, for the names
    needed (not at all when every event carries its schemas)."""
    events = list(events)
    names = {name for event in events for name in missing_schemas(event)}
    if not names:
        return events
    schemas = await lookup(names)
    return [with_schemas(event, schemas) for event in events]


def check_schema_key(name: str, version: str | None) -> None:
    """Raise :class:`InvalidSchemaError` unless ``name`` (and ``version``, when given) are
    usable labels, as :class:`PayloadSchema` requires."""
    check_label(name, "schema name", error=InvalidSchemaError)
    if version is not None:
        check_label(version, "version", error=InvalidSchemaError, max_length=MAX_VERSION_LENGTH)
