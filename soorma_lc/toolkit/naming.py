"""Tool names for events: what LLM providers accept, unique, and mapped back to event names.

Providers accept tool names matching ``^[A-Za-z0-9_-]{1,64}$``; Soorma event names use dots
(``research.requested``). Every other character becomes ``_``; a name that then collides with
another event's tool name, or is longer than 64 characters, gets a short hash of the full event
name so that the same set of events always yields the same names, whatever the input order.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from soorma_lc.errors import InvalidEventError, UnknownEventError

MAX_TOOL_NAME_LENGTH = 64
_INVALID = re.compile(r"[^A-Za-z0-9_-]")
_HASH_LENGTH = 8


def sanitize_tool_name(event_name: str) -> str:
    """``event_name`` with every character outside ``[A-Za-z0-9_-]`` replaced by ``_``."""
    if not isinstance(event_name, str):
        raise InvalidEventError(f"an event name is a string, not {type(event_name).__name__}")
    return _INVALID.sub("_", event_name)


def _hashed(base: str, event_name: str, salt: int) -> str:
    digest = hashlib.sha256(f"{event_name}\x00{salt}".encode()).hexdigest()[:_HASH_LENGTH]
    return f"{base[: MAX_TOOL_NAME_LENGTH - _HASH_LENGTH - 1]}_{digest}"


class ToolNameMap:
    """Bidirectional mapping between event names and unique, provider-safe tool names."""

    def __init__(self, event_names: Iterable[str]) -> None:
        names = sorted(set(event_names))
        bases = {name: sanitize_tool_name(name) for name in names}
        counts: dict[str, int] = {}
        for base in bases.values():
            counts[base] = counts.get(base, 0) + 1
        self._to_tool: dict[str, str] = {}
        self._to_event: dict[str, str] = {}
        # Names that need no change keep themselves: they are claimed first.
        for name in names:
            if bases[name] == name and len(name) <= MAX_TOOL_NAME_LENGTH:
                self._claim(name, name)
        for name in names:
            if name in self._to_tool:
                continue
            base = bases[name]
            candidate = base
            salt = 0
            while (
                counts[base] > 1
                or len(candidate) > MAX_TOOL_NAME_LENGTH
                or candidate in self._to_event
            ):
                candidate = _hashed(base, name, salt)
                if candidate not in self._to_event:
                    break
                salt += 1
            self._claim(name, candidate)

    def _claim(self, event_name: str, tool_name: str) -> None:
        self._to_tool[event_name] = tool_name
        self._to_event[tool_name] = event_name

    def tool_name(self, event_name: str) -> str:
        """The tool name of ``event_name``; raises :class:`UnknownEventError` if not mapped."""
        try:
            return self._to_tool[event_name]
        except KeyError:
            raise UnknownEventError(event_name) from None

    def event_name(self, tool_name: str) -> str:
        """The event behind ``tool_name``; raises :class:`UnknownEventError` if not mapped."""
        try:
            return self._to_event[tool_name]
        except KeyError:
            raise UnknownEventError(
                tool_name, f"no event tool named {tool_name!r}; use one of the offered tools"
            ) from None

    def event_names(self) -> set[str]:
        """Every event name in the map."""
        return set(self._to_tool)

    def __contains__(self, event_name: object) -> bool:
        return event_name in self._to_tool

    def __len__(self) -> int:
        return len(self._to_tool)
