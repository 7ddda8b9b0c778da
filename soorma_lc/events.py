"""The Soorma event model: topics, event and agent definitions, and the event envelope.

Field names match Soorma's (snake_case). The same models read and write camelCase for the Soorma
HTTP API (``model_dump(by_alias=True)``) and CloudEvents 1.0 structured JSON for envelopes.

Topics are the eight Soorma topics of :class:`EventTopic` or custom topic names matching
:data:`TOPIC_PATTERN` (soorma-core's registry accepts any topic string; the pattern keeps a
topic usable as a Redis stream key, a URL query value and a NATS subject token).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import typing
import uuid
from datetime import UTC, datetime
from enum import EnumType, StrEnum
from typing import Annotated, Any, ClassVar, Literal, Self, TypeAlias

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    PlainValidator,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic.alias_generators import to_camel

from soorma_lc.checks import (
    MAX_NAME_LENGTH,
    check_name,
    items_argument,
    label_problem,
    shown,
    text_problem,
)
from soorma_lc.errors import (
    InvalidAgentError,
    InvalidEventError,
    InvalidSchemaError,
    SerializationError,
    SoormaValidationError,
)
from soorma_lc.jsonvalues import check_json_value, json_value_problem, parse_json
from soorma_lc.schema_safety import check_json_schema

__all__ = [
    "TOPIC_PATTERN",
    "AgentCapability",
    "AgentDefinition",
    "EventDefinition",
    "EventEnvelope",
    "EventRouting",
    "EventTopic",
    "PayloadSchema",
    "Topic",
    "check_json_schema",
    "check_object_schema",
    "definitions_argument",
    "parse_topic",
    "validate_event_name",
]

MAX_EVENT_NAME_LENGTH = MAX_NAME_LENGTH
MAX_DESCRIPTION_LENGTH = 16 * 1024
"""Longest description (of an event, capability or agent) accepted, in characters."""
MAX_SOURCE_LENGTH = 2048
MAX_TEXT_LENGTH = 64 * 1024
"""Longest free text an envelope field (``message``, ``error``, ``unit_of_work``) carries."""
MAX_VERSION_LENGTH = 50
"""Longest schema version accepted (the Soorma Registry's column width)."""
_WHITESPACE = re.compile(r"\s")


class _TopicType(EnumType):
    """Refuses a topic that is not a string before the enum machinery formats it with
    ``repr`` (which fails on a value nested thousands deep)."""

    def __call__(cls, value: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or isinstance(value, str):
            return super().__call__(value, *args, **kwargs)
        raise InvalidEventError(f"unknown topic {shown(value)}; a topic is a string")


class EventTopic(StrEnum, metaclass=_TopicType):
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
        shown_value = repr(value[:80]) if isinstance(value, str) else shown(value)
        raise InvalidEventError(f"unknown topic {shown_value}; expected one of: {allowed}")


TOPIC_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
"""A custom topic: letters, digits, ``.``, ``_`` and ``-``, starting with a letter or digit, at
most 100 characters (the Soorma Registry's column width). No whitespace, ``:``, ``/``, ``*``,
``>``, ``{`` or ``}``: a topic names a Redis stream (braces would change its Redis Cluster hash
slot), travels in URLs, and is a NATS subject token in Soorma's Event Service (where ``*`` and
``>`` are wildcards)."""

_STANDARD_TOPICS = {topic.value: topic for topic in EventTopic}


def parse_topic(value: Any) -> EventTopic | str:
    """``value`` as a topic: the :class:`EventTopic` member for a standard topic, the string
    itself for a custom topic matching :data:`TOPIC_PATTERN`; anything else is
    :class:`InvalidEventError`."""
    if isinstance(value, EventTopic):
        return value
    if not isinstance(value, str):
        raise InvalidEventError(f"unknown topic {shown(value)}; a topic is a string")
    standard = _STANDARD_TOPICS.get(value)
    if standard is not None:
        return standard
    if TOPIC_PATTERN.fullmatch(value) is None:
        raise InvalidEventError(
            f"invalid topic {value[:80]!r}: a topic is one of the eight Soorma topics "
            f"({', '.join(_STANDARD_TOPICS)}) or a custom name of letters, digits, '.', '_' "
            "and '-', starting with a letter or digit, at most 100 characters"
        )
    return value


Topic: TypeAlias = Annotated[EventTopic | str, PlainValidator(parse_topic)]
"""A model field holding a topic (see :func:`parse_topic`)."""


def validate_event_name(name: str) -> str:
    """Return ``name`` if it is a valid event name, else raise :class:`InvalidEventError`.

    A non-empty string of at most 255 characters, without whitespace, control or invisible
    (zero-width) characters.
    """
    if not isinstance(name, str) or not name:
        raise InvalidEventError("event name must be a non-empty string")
    if _WHITESPACE.search(name):
        raise InvalidEventError(f"event name {name[:80]!r} contains whitespace")
    return check_name(name, "event name", error=InvalidEventError, max_length=MAX_EVENT_NAME_LENGTH)


def _label(
    value: str | None,
    what: str,
    max_length: int = MAX_NAME_LENGTH,
    *,
    error: type[SoormaValidationError] = InvalidEventError,
) -> str | None:
    """``value`` (None allowed) if it is a usable label, else ``error``."""
    if value is None:
        return None
    problem = label_problem(value, max_length=max_length)
    if problem is not None:
        raise error(f"{what} {problem}")
    return value


def _text(value: str | None, what: str) -> str | None:
    """``value`` (None allowed) if it is usable free text, else :class:`InvalidEventError`."""
    if value is None:
        return None
    problem = text_problem(value, max_length=MAX_TEXT_LENGTH)
    if problem is not None:
        raise InvalidEventError(f"{what} {problem}")
    return value


def _description(value: str) -> str:
    problem = text_problem(value, max_length=MAX_DESCRIPTION_LENGTH)
    if problem is not None:
        raise InvalidEventError(f"description {problem}")
    return value


def _json_object(value: dict[str, Any], what: str) -> dict[str, Any]:
    """``value`` if it is plain JSON (no NaN, no objects of other types, bounded depth)."""
    problem = json_value_problem(value, what)
    if problem is not None:
        raise InvalidEventError(problem)
    return value


def check_object_schema(schema: dict[str, Any] | None, what: str) -> dict[str, Any] | None:
    """``schema`` (None allowed) if it is a safe JSON Schema describing JSON objects: event
    data is always an object, so ``{"type": "string"}`` cannot describe it."""
    if schema is None:
        return None
    check_json_schema(schema)
    declared = schema.get("type")
    allowed = declared if isinstance(declared, list) else [declared]
    if declared is not None and "object" not in allowed:
        raise InvalidSchemaError(
            f"{what} has type {declared!r}; event data must be a JSON object, so the schema "
            "needs type 'object'"
        )
    return schema


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
    topic: Topic
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

    @field_validator("description")
    @classmethod
    def _check_description(cls, value: str) -> str:
        return _description(value)

    @field_validator("payload_schema", "response_schema")
    @classmethod
    def _check_schema(
        cls, value: dict[str, Any] | None, info: ValidationInfo
    ) -> dict[str, Any] | None:
        return check_object_schema(value, str(info.field_name))

    @field_validator("payload_schema_name", "response_schema_name")
    @classmethod
    def _check_schema_name(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _label(value, str(info.field_name))

    @field_validator("metadata")
    @classmethod
    def _check_metadata(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _json_object(value, "metadata")


class PayloadSchema(SoormaModel):
    """A named, versioned JSON Schema of event data (Soorma's schema registry).

    Events refer to one by ``payload_schema_name`` / ``response_schema_name``; registries fill
    an event's schema from the latest version registered under that name. A (name, version)
    pair is immutable once registered.
    """

    error_class: ClassVar[type[SoormaValidationError]] = InvalidSchemaError

    schema_name: str
    version: str = "1.0.0"
    json_schema: dict[str, Any]
    description: str | None = None
    owner_agent_id: str | None = None

    @field_validator("schema_name", "owner_agent_id")
    @classmethod
    def _check_label(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _label(value, str(info.field_name), error=InvalidSchemaError)

    @field_validator("version")
    @classmethod
    def _check_version(cls, value: str) -> str:
        label = _label(value, "version", MAX_VERSION_LENGTH, error=InvalidSchemaError)
        return typing.cast(str, label)

    @field_validator("json_schema")
    @classmethod
    def _check_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        return typing.cast(dict[str, Any], check_object_schema(value, "json_schema"))

    @field_validator("description")
    @classmethod
    def _check_description(cls, value: str | None) -> str | None:
        return None if value is None else _description(value)


class AgentCapability(SoormaModel):
    """One task an agent performs: the event it consumes and the events it may produce."""

    error_class: ClassVar[type[SoormaValidationError]] = InvalidAgentError

    task_name: str
    description: str = ""
    consumed_event: EventDefinition
    produced_events: list[EventDefinition] = Field(default_factory=list)

    @field_validator("task_name")
    @classmethod
    def _check_task_name(cls, value: str) -> str:
        problem = label_problem(value)
        if problem is not None:
            raise InvalidAgentError(f"task_name {problem}")
        return value

    @field_validator("description")
    @classmethod
    def _check_description(cls, value: str) -> str:
        return _description(value)


class AgentDefinition(SoormaModel):
    """An agent as the Registry knows it; event-name lists are derived from capabilities."""

    error_class: ClassVar[type[SoormaValidationError]] = InvalidAgentError

    agent_id: str
    name: str
    description: str = ""
    capabilities: list[AgentCapability] = Field(default_factory=list)
    consumed_events: list[str] = Field(default_factory=list)
    produced_events: list[str] = Field(default_factory=list)

    @field_validator("agent_id", "name")
    @classmethod
    def _check_label(cls, value: str, info: ValidationInfo) -> str:
        problem = label_problem(value)
        if problem is not None:
            raise InvalidAgentError(f"{info.field_name} {problem}")
        return value

    @field_validator("description")
    @classmethod
    def _check_description(cls, value: str) -> str:
        return _description(value)

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

    @field_validator(
        "correlation_id", "tenant_id", "user_id", "session_id", "goal_id", "plan_id", "trace_id"
    )
    @classmethod
    def _check_routing_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Ids are labels: not blank, at most 255 characters, no control characters."""
        return _label(value, str(info.field_name))

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
    (the :class:`EventRouting` fields, the response it asks for, schema names, its parent).

    It also carries the fields of soorma-common's envelope subclasses, all optional here:
    ``ActionRequestEvent`` (``caused_by``, ``callback_url``), ``ActionResultEvent``
    (``action_event_id``, ``success``, ``result``, ``error``, ``completed_at``),
    ``BillingEvent`` (``unit_of_work``, ``cost``, ``currency``) and ``NotificationEvent``
    (``message``, ``priority``, ``channel``), and ``platform_tenant_id`` (set by Soorma's
    Event Service), so a Soorma event survives a round trip through soorma-lc whole.

    ``model_dump(by_alias=True)`` (Soorma's camelCase) leaves unset fields out, as soorma-common
    expects: its envelope fills a missing ``correlationId`` with a new id and rejects an
    explicit null. soorma-common's base envelope requires a ``topic`` among the eight standard
    ones; its subclasses set their own.
    """

    error_class: ClassVar[type[SoormaValidationError]] = InvalidEventError

    id: str = Field(default_factory=_new_event_id)
    source: str = "soorma-lc"
    specversion: Literal["1.0"] = "1.0"
    type: str
    time: datetime = Field(default_factory=_utcnow)
    data: dict[str, JsonValue] | None = None
    topic: Topic | None = None
    subject: str | None = None
    response_event: str | None = None
    response_topic: Topic | None = None
    response_schema_name: str | None = None
    parent_event_id: str | None = None
    payload_schema_name: str | None = None
    platform_tenant_id: str | None = None
    caused_by: str | None = None
    callback_url: str | None = None
    action_event_id: str | None = None
    success: bool | None = None
    result: dict[str, JsonValue] | None = None
    error: str | None = None
    completed_at: datetime | None = None
    unit_of_work: str | None = None
    cost: float | None = None
    currency: str | None = None
    message: str | None = None
    priority: str | None = None
    channel: str | None = None

    @field_validator("type", "response_event")
    @classmethod
    def _check_type(cls, value: str | None) -> str | None:
        return None if value is None else validate_event_name(value)

    @field_validator(
        "id",
        "parent_event_id",
        "payload_schema_name",
        "response_schema_name",
        "platform_tenant_id",
        "caused_by",
        "action_event_id",
        "currency",
        "priority",
        "channel",
    )
    @classmethod
    def _check_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _label(value, str(info.field_name))

    @field_validator("source", "subject", "callback_url")
    @classmethod
    def _check_source(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _label(value, str(info.field_name), MAX_SOURCE_LENGTH)

    @field_validator("error", "message", "unit_of_work")
    @classmethod
    def _check_text(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _text(value, str(info.field_name))

    @field_validator("data", "result")
    @classmethod
    def _check_data(
        cls, value: dict[str, Any] | None, info: ValidationInfo
    ) -> dict[str, Any] | None:
        """Event data is plain JSON, on the way in as on the way out (no NaN, bounded depth)."""
        return None if value is None else _json_object(value, str(info.field_name))

    @field_validator("cost")
    @classmethod
    def _check_cost(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise InvalidEventError(f"cost must be a finite number, got {value!r}")
        return value

    @field_validator("time", "completed_at")
    @classmethod
    def _utc_time(cls, value: datetime | None) -> datetime | None:
        # UTC always: JSON and CloudEvents timestamps cannot carry sub-minute UTC offsets.
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @model_serializer(mode="wrap")
    def _leave_out_unset(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        """Soorma's camelCase form (``by_alias``) leaves out what is unset (see the class)."""
        dumped = handler(self)
        if info.by_alias:
            return {key: value for key, value in dumped.items() if value is not None}
        return dumped

    def to_cloudevent(self) -> dict[str, Any]:
        """CloudEvents 1.0 structured-mode JSON object (extension names lower-case).

        Raises :class:`SerializationError` if ``data`` was changed after construction into
        something JSON cannot carry (NaN, objects of other types).
        """
        if self.data is not None:
            check_json_value(self.data, "data")
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
                event[attribute] = _attribute_value(value)
        if self.data is not None:
            event["data"] = self.data
        return event

    @classmethod
    def from_cloudevent(cls, event: dict[str, Any] | str | bytes) -> Self:
        """Parse a CloudEvents 1.0 structured-mode event (dict or JSON text).

        ``id``, ``source`` and ``type`` are required (as CloudEvents requires), so parsing the
        same event twice gives the same id. Data may come as ``data`` or, base64-encoded JSON,
        as ``data_base64``; it must be a JSON object either way. Every other attribute is
        optional: soorma-common's ``to_cloudevents_dict()`` writes neither ``goalid`` nor
        ``planid`` (nor its subclasses' fields), and what it writes reads back whole.
        """
        if isinstance(event, str | bytes | bytearray):
            event = parse_json(event, "CloudEvent", InvalidEventError)
        elif isinstance(event, dict):
            try:
                check_json_value(event, "CloudEvent")
            except SerializationError as exc:
                raise InvalidEventError(str(exc)) from None
        if not isinstance(event, dict):
            raise InvalidEventError("a CloudEvent must be a JSON object")
        if event.get("specversion") != "1.0":
            raise InvalidEventError(
                f"unsupported CloudEvents specversion {event.get('specversion')!r}"
            )
        missing = [name for name in ("id", "source") if name not in event]
        if missing:
            raise InvalidEventError(f"CloudEvent lacks required attribute(s): {', '.join(missing)}")
        fields: dict[str, Any] = {key: event[key] for key in _CORE_ATTRIBUTES if key in event}
        if "data_base64" in event:
            if "data" in event:
                raise InvalidEventError("a CloudEvent carries data or data_base64, not both")
            fields["data"] = _decode_base64_data(event["data_base64"], event)
        for name, attribute in _EXTENSION_ATTRIBUTE.items():
            if attribute in event:
                fields[name] = event[attribute]
        if isinstance(fields.get("result"), str):
            fields["result"] = parse_json(fields["result"], "result", InvalidEventError)
        return cls.model_validate(fields)


def _attribute_value(value: Any) -> str | bool:
    """An envelope field as a CloudEvents extension attribute: booleans stay booleans, a
    timestamp is RFC 3339 in UTC, an object (``result``) is its compact JSON text, anything
    else its string (CloudEvents attributes have no object or decimal type)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return str(value)


def _decode_base64_data(encoded: Any, event: dict[str, Any]) -> Any:
    """The JSON value a CloudEvent's ``data_base64`` holds (event data is JSON here)."""
    content_type = event.get("datacontenttype", "application/json")
    if not isinstance(content_type, str) or not _is_json_media_type(content_type):
        raise InvalidEventError(
            f"data_base64 of content type {content_type!r} cannot be carried: event data "
            "is a JSON object"
        )
    if not isinstance(encoded, str):
        raise InvalidEventError("data_base64 must be a base64 string")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidEventError(f"data_base64 is not valid base64: {exc}") from None
    return parse_json(raw, "data_base64", InvalidEventError)


def _is_json_media_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json") or media == "text/json"


def definitions_argument(value: Any, what: str) -> list[EventDefinition]:
    """``value`` as a list of EventDefinitions (one definition alone counts as a list); a
    string, a mapping or anything else is :class:`InvalidEventError`."""
    if isinstance(value, EventDefinition):
        return [value]
    items = items_argument(value, what, error=InvalidEventError)
    for item in items:
        if not isinstance(item, EventDefinition):
            raise InvalidEventError(f"{what} takes EventDefinitions, not {type(item).__name__}")
    return items


# The envelope's other fields as CloudEvents extension attributes: CloudEvents requires their
# names to be lower-case letters and digits only, so the underscores are dropped on the wire.
_EXTENSION_ATTRIBUTE = {
    name: name.replace("_", "")
    for name in EventEnvelope.model_fields
    if name not in _CORE_ATTRIBUTES
}
