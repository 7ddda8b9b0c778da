"""The Soorma event model: topics, event and agent definitions, and the event envelope.

Field names match Soorma's (snake_case). The same models read and write camelCase for the Soorma
HTTP API (``model_dump(by_alias=True)``) and CloudEvents 1.0 structured JSON for envelopes.
"""

from __future__ import annotations

import json
import re
import typing
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, ClassVar, Self

from jsonschema import SchemaError
from jsonschema.validators import validator_for
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from soorma_lc.errors import (
    InvalidAgentError,
    InvalidEventError,
    InvalidSchemaError,
    SoormaValidationError,
)

MAX_EVENT_NAME_LENGTH = 255
_WHITESPACE = re.compile(r"\s")


class EventTopic(StrEnum):
    """The eight Soorma topics; one Redis stream each on our bus."""

    BUSINESS_FACTS = "business-facts"
    ACTION_REQUESTS = "action-requests"
    ACTION_RESULTS = "action-results"
    BILLING_EVENTS = "billing-events"
    NOTIFICATION_EVENTS = "notification-events"
    SYSTEM_EVENTS = "system-events"
    PLAN_EVENTS = "plan-events"
    TASK_EVENTS = "task-events"

    @classmethod
    def _missing_(cls, value: object) -> EventTopic:
        # Every unknown topic, wherever it is parsed (models, bus, registries), is a typed error.
        allowed = ", ".join(topic.value for topic in cls)
        raise InvalidEventError(f"unknown topic {value!r}; expected one of: {allowed}")


def validate_event_name(name: str) -> str:
    """Return ``name`` if it is a valid event name, else raise :class:`InvalidEventError`."""
    if not isinstance(name, str) or not name:
        raise InvalidEventError("event name must be a non-empty string")
    if len(name) > MAX_EVENT_NAME_LENGTH:
        raise InvalidEventError(
            f"event name is {len(name)} characters long; at most {MAX_EVENT_NAME_LENGTH} allowed"
        )
    if _WHITESPACE.search(name):
        raise InvalidEventError(f"event name {name!r} contains whitespace")
    return name


def check_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Raise :class:`InvalidSchemaError` unless ``schema`` is a valid JSON Schema.

    The meta-schema check is memoised on the schema's canonical JSON: registries rebuild
    definitions on every read, and re-checking a thousand unchanged schemas costs seconds.
    """
    try:
        canonical = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise InvalidSchemaError(f"not a valid JSON Schema: not JSON ({exc})") from None
    problem = _schema_problem(canonical)
    if problem is not None:
        raise InvalidSchemaError(problem)
    return schema


@lru_cache(maxsize=4096)
def _schema_problem(canonical_schema: str) -> str | None:
    schema = json.loads(canonical_schema)
    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as exc:
        path = "/".join(str(p) for p in exc.path) or "<root>"
        return f"not a valid JSON Schema at {path}: {exc.message}"
    return None


class SoormaModel(BaseModel):
    """Base for the Soorma models: snake_case fields, camelCase aliases, typed errors.

    Construction errors surface as :class:`SoormaValidationError` subclasses (the class in
    ``error_class``, or the more specific class a validator raised) instead of pydantic's own.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        extra="ignore",
    )
    error_class: ClassVar[type[SoormaValidationError]] = SoormaValidationError

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise self._typed_error(exc) from exc

    # Tells pydantic this __init__ only wraps the base one, so model_validate(_json) build
    # instances directly instead of validating once and then again through __init__.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as exc:
            raise cls._typed_error(exc) from exc

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **kwargs: Any) -> Self:
        try:
            return super().model_validate_json(json_data, **kwargs)
        except ValidationError as exc:
            raise cls._typed_error(exc) from exc

    @classmethod
    def _typed_error(cls, exc: ValidationError) -> SoormaValidationError:
        messages: list[str] = []
        error_class: type[SoormaValidationError] = cls.error_class
        for err in exc.errors(include_url=False):
            cause = (err.get("ctx") or {}).get("error")
            location = ".".join(str(part) for part in err["loc"])
            if isinstance(cause, SoormaValidationError):
                error_class = type(cause)
                text = str(cause)
            else:
                error_class = cls._model_at(err["loc"]).error_class
                text = err["msg"]
            messages.append(f"{location}: {text}" if location else text)
        return error_class(f"invalid {cls.__name__}: " + "; ".join(messages), messages)

    @classmethod
    def _model_at(cls, location: tuple[int | str, ...]) -> type[SoormaModel]:
        """The innermost Soorma model holding the failing field; its error class names it."""
        model: type[SoormaModel] = cls
        for part in location[:-1]:
            field = model.model_fields.get(str(part)) or next(
                (f for f in model.model_fields.values() if f.alias == part), None
            )
            if field is None:
                continue  # a list index or dict key: the enclosing model stays current
            candidates = [field.annotation, *typing.get_args(field.annotation)]
            nested = [c for c in candidates if isinstance(c, type) and issubclass(c, SoormaModel)]
            if not nested:
                break
            model = nested[0]
        return model


class EventDefinition(SoormaModel):
    """What an event is for and what its data looks like (registered in the Registry)."""

    error_class: ClassVar[type[SoormaValidationError]] = InvalidEventError

    event_name: str
    topic: EventTopic
    description: str = ""
    payload_schema: dict[str, Any] | None = None
    response_schema: dict[str, Any] | None = None
    payload_schema_name: str | None = None
    response_schema_name: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("event_name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return validate_event_name(value)

    @field_validator("payload_schema", "response_schema")
    @classmethod
    def _check_schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else check_json_schema(value)


class AgentCapability(SoormaModel):
    """One task an agent performs: the event it consumes and the events it may produce."""

    error_class: ClassVar[type[SoormaValidationError]] = InvalidAgentError

    task_name: str = Field(min_length=1)
    description: str = ""
    consumed_event: EventDefinition
    produced_events: list[EventDefinition] = Field(default_factory=list)


class AgentDefinition(SoormaModel):
    """An agent as the Registry knows it; event-name lists are derived from capabilities."""

    error_class: ClassVar[type[SoormaValidationError]] = InvalidAgentError

    agent_id: str = Field(min_length=1, max_length=255)
    name: str = Field(min_length=1, max_length=255)
    description: str = ""
    capabilities: list[AgentCapability] = Field(default_factory=list)
    consumed_events: list[str] = Field(default_factory=list)
    produced_events: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _derive_event_names(self) -> Self:
        consumed = dict.fromkeys(self.consumed_events)
        produced = dict.fromkeys(self.produced_events)
        for capability in self.capabilities:
            consumed[capability.consumed_event.event_name] = None
            for event in capability.produced_events:
                produced[event.event_name] = None
        for name in [*consumed, *produced]:
            validate_event_name(name)
        self.consumed_events = list(consumed)
        self.produced_events = list(produced)
        return self


def _new_event_id() -> str:
    return str(uuid.uuid4())


def _utcnow() -> datetime:
    return datetime.now(UTC)


class EventRouting(BaseModel):
    """The routing fields an event passes on to what is published in answer to it.

    A response keeps them from its request (Soorma's ``respond``), a handler's publications from
    the event it handles, an event tool's publications from its ``ToolContext``. This model is
    the one list of them: :class:`EventEnvelope` and ``ToolContext`` both derive from it.
    """

    correlation_id: str | None = None
    tenant_id: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    goal_id: str | None = None
    plan_id: str | None = None
    trace_id: str | None = None

    def routing(self) -> dict[str, str]:
        """The routing fields this object sets (None left out), by name."""
        return {
            name: value
            for name in EventRouting.model_fields
            if (value := getattr(self, name)) is not None
        }


# CloudEvents core attributes of an envelope; all its other fields travel as extension
# attributes (see _EXTENSION_ATTRIBUTE below the envelope).
_CORE_ATTRIBUTES = ("id", "source", "specversion", "type", "time", "subject", "data")


class EventEnvelope(SoormaModel, EventRouting):
    """One event on the bus: CloudEvents 1.0 core attributes plus Soorma's routing metadata
    (the :class:`EventRouting` fields, the response it asks for, schema names, its parent)."""

    error_class: ClassVar[type[SoormaValidationError]] = InvalidEventError

    id: str = Field(default_factory=_new_event_id, min_length=1)
    source: str = Field(default="soorma-lc", min_length=1)
    specversion: str = "1.0"
    type: str
    time: datetime = Field(default_factory=_utcnow)
    data: dict[str, JsonValue] | None = None
    topic: EventTopic | None = None
    subject: str | None = None
    response_event: str | None = None
    response_topic: EventTopic | None = None
    response_schema_name: str | None = None
    parent_event_id: str | None = None
    payload_schema_name: str | None = None

    @field_validator("type")
    @classmethod
    def _check_type(cls, value: str) -> str:
        return validate_event_name(value)

    @field_validator("time")
    @classmethod
    def _utc_time(cls, value: datetime) -> datetime:
        # UTC always: JSON and CloudEvents timestamps cannot carry sub-minute UTC offsets.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def to_cloudevent(self) -> dict[str, Any]:
        """CloudEvents 1.0 structured-mode JSON object (extension names lower-case)."""
        event: dict[str, Any] = {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time.isoformat().replace("+00:00", "Z"),
            "datacontenttype": "application/json",
        }
        if self.subject is not None:
            event["subject"] = self.subject
        for name, attribute in _EXTENSION_ATTRIBUTE.items():
            value = getattr(self, name)
            if value is not None:
                event[attribute] = str(value)
        if self.data is not None:
            event["data"] = self.data
        return event

    @classmethod
    def from_cloudevent(cls, event: dict[str, Any] | str | bytes) -> Self:
        """Parse a CloudEvents 1.0 structured-mode event (dict or JSON text)."""
        if isinstance(event, str | bytes | bytearray):
            try:
                event = json.loads(event)
            except ValueError as exc:
                raise InvalidEventError(f"CloudEvent is not valid JSON: {exc}") from exc
        if not isinstance(event, dict):
            raise InvalidEventError("a CloudEvent must be a JSON object")
        if event.get("specversion") != "1.0":
            raise InvalidEventError(
                f"unsupported CloudEvents specversion {event.get('specversion')!r}"
            )
        fields: dict[str, Any] = {key: event[key] for key in _CORE_ATTRIBUTES if key in event}
        for name, attribute in _EXTENSION_ATTRIBUTE.items():
            if attribute in event:
                fields[name] = event[attribute]
        return cls.model_validate(fields)


# The envelope's other fields as CloudEvents extension attributes: CloudEvents requires their
# names to be lower-case letters and digits only, so the underscores are dropped on the wire.
_EXTENSION_ATTRIBUTE = {
    name: name.replace("_", "")
    for name in EventEnvelope.model_fields
    if name not in _CORE_ATTRIBUTES
}
