"""How envelopes travel on a stream: one field of compact JSON, checked before anything is sent.

Publishing refuses data JSON cannot carry exactly (non-finite floats, non-string keys, objects
of other types) with :class:`SerializationError`, so what a consumer reads is always what the
publisher meant. Decoding turns anything else found on a stream (garbage, a missing field, an
oversized entry) into :class:`InvalidEventError` for the dead-letter stream.
"""

from __future__ import annotations

from soorma_lc.errors import EventTooLargeError, InvalidEventError, SerializationError
from soorma_lc.events import EventEnvelope
from soorma_lc.jsonvalues import check_json_value

# Stream entry fields: the envelope, and the one consumer group a replayed entry is meant for.
ENVELOPE_FIELD = b"e"
TARGET_GROUP_FIELD = b"g"

DEFAULT_MAX_EVENT_BYTES = 1024 * 1024


def encode(envelope: EventEnvelope, max_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> bytes:
    """Compact JSON of ``envelope`` (unset optional fields left out)."""
    if not isinstance(envelope, EventEnvelope):
        raise InvalidEventError(f"the bus publishes EventEnvelopes, not {type(envelope).__name__}")
    if envelope.topic is None:
        raise InvalidEventError(f"event {envelope.id} has no topic; the bus needs one to route it")
    check_json_value(envelope.data, "data")
    try:
        payload = envelope.model_dump_json(exclude_none=True).encode()
    except ValueError as exc:  # pydantic's PydanticSerializationError is a ValueError
        raise SerializationError(f"event {envelope.id} cannot be serialised: {exc}") from exc
    if len(payload) > max_bytes:
        raise EventTooLargeError(
            f"event {envelope.id} is {len(payload)} bytes encoded; the bus accepts at most "
            f"{max_bytes} (max_event_bytes)"
        )
    return payload


def decode(fields: dict[bytes, bytes], max_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> EventEnvelope:
    """The envelope stored in a stream entry, or :class:`InvalidEventError` saying why not."""
    payload = fields.get(ENVELOPE_FIELD)
    if payload is None:
        raise InvalidEventError(
            f"stream entry has no {ENVELOPE_FIELD.decode()!r} field (fields: "
            f"{sorted(k.decode(errors='replace') for k in fields)})"
        )
    if len(payload) > max_bytes:
        raise EventTooLargeError(
            f"stream entry is {len(payload)} bytes; at most {max_bytes} accepted (max_event_bytes)"
        )
    return EventEnvelope.model_validate_json(payload)
