"""Dead letters: stream entries a consumer group gave up on, kept whole for inspection and replay.

A dead-letter entry stores the original entry's fields under ``f:<name>`` plus why it failed,
so replay can put back exactly what was published.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from soorma_lc.bus.codec import DEFAULT_MAX_EVENT_BYTES, decode
from soorma_lc.errors import InvalidEventError
from soorma_lc.events import EventEnvelope

ORIGINAL_FIELD_PREFIX = b"f:"


@dataclass(frozen=True)
class DeadLetter:
    """One entry of the dead-letter stream; ``max_event_bytes`` is the bus's limit, which
    :attr:`envelope` decodes with."""

    id: str
    topic: str
    group: str
    message_id: str
    error: str
    deliveries: int
    failed_at: datetime
    event_id: str | None
    event_type: str | None
    fields: dict[bytes, bytes]
    max_event_bytes: int = field(default=DEFAULT_MAX_EVENT_BYTES, repr=False, compare=False)

    @property
    def envelope(self) -> EventEnvelope | None:
        """The dead event, or None when the entry never was a valid envelope."""
        try:
            return decode(self.fields, self.max_event_bytes)
        except InvalidEventError:
            return None

    @classmethod
    def from_entry(
        cls,
        entry_id: bytes,
        values: dict[bytes, bytes],
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    ) -> DeadLetter:
        """Parse one dead-letter stream entry of a bus accepting ``max_event_bytes``."""

        def text(name: str) -> str | None:
            value = values.get(name.encode())
            return None if value is None else value.decode(errors="replace")

        return cls(
            id=entry_id.decode(),
            topic=text("topic") or "",
            group=text("group") or "",
            message_id=text("message_id") or "",
            error=text("error") or "",
            deliveries=_number(text("deliveries")),
            failed_at=_moment(_number(text("failed_at"))),
            event_id=text("event_id"),
            event_type=text("event_type"),
            fields={
                key.removeprefix(ORIGINAL_FIELD_PREFIX): value
                for key, value in values.items()
                if key.startswith(ORIGINAL_FIELD_PREFIX)
            },
            max_event_bytes=max_event_bytes,
        )


def _number(text: str | None) -> int:
    """A counter field; 0 when missing or not a number (written by some other tool)."""
    try:
        return int(text or 0)
    except ValueError:
        return 0


def _moment(milliseconds: int) -> datetime:
    try:
        return datetime.fromtimestamp(milliseconds / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return datetime.fromtimestamp(0, UTC)


def dead_letter_entry(
    *,
    topic: str,
    group: str,
    message_id: bytes,
    error: str,
    deliveries: int,
    fields: dict[bytes, bytes] | None,
    envelope: EventEnvelope | None,
    failed_at_ms: int,
) -> dict[bytes | str, bytes | str | int]:
    """The fields of a new dead-letter stream entry."""
    entry: dict[bytes | str, bytes | str | int] = {
        "topic": topic,
        "group": group,
        "message_id": message_id,
        "error": error,
        "deliveries": deliveries,
        "failed_at": failed_at_ms,
    }
    if envelope is not None:
        entry["event_id"] = envelope.id
        entry["event_type"] = envelope.type
    for key, value in (fields or {}).items():
        entry[ORIGINAL_FIELD_PREFIX + key] = value
    return entry
