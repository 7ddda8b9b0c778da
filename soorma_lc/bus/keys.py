"""Redis key names of the bus, all under one prefix so several deployments can share a server."""

from __future__ import annotations

from dataclasses import dataclass

from soorma_lc.events import EventTopic, parse_topic

DEFAULT_PREFIX = "soorma:bus:"


@dataclass(frozen=True)
class BusKeys:
    """Stream per topic, one dead-letter stream, and per-group bookkeeping keys."""

    prefix: str = DEFAULT_PREFIX

    def stream(self, topic: EventTopic | str) -> str:
        """The stream carrying ``topic``: one of the eight standard topics or a custom topic
        (:data:`~soorma_lc.events.TOPIC_PATTERN`, so it adds no Redis Cluster hash tag)."""
        return f"{self.prefix}stream:{parse_topic(topic)}"

    @property
    def streams_pattern(self) -> str:
        """A ``SCAN MATCH`` pattern for every topic stream (custom topics included)."""
        escaped = "".join(f"\\{c}" if c in "*?[]\\" else c for c in self.prefix)
        return f"{escaped}stream:*"

    def topic_of(self, stream: bytes | str) -> str:
        """The topic a stream key carries."""
        name = stream.decode() if isinstance(stream, bytes) else stream
        return name.removeprefix(f"{self.prefix}stream:")

    @property
    def dead_letters(self) -> str:
        """The stream of entries no consumer group could process."""
        return f"{self.prefix}dead-letters"

    def completed(self, group: str, bucket: int) -> str:
        """Hash of the event ids ``group`` completed in time bucket ``bucket``.

        The group is a Redis Cluster hash tag, shared with :meth:`errors`, so one script can
        read several buckets and clear errors.
        """
        return f"{self.prefix}completed:{{{group}}}:{bucket}"

    def errors(self, group: str) -> str:
        """Hash of the last handler error per pending entry of ``group`` (hash tag: the group)."""
        return f"{self.prefix}errors:{{{group}}}"
