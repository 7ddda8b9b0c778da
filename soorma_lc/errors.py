"""Typed errors raised by soorma-lc.

Every error a user can trigger derives from :class:`SoormaError`, so one ``except SoormaError``
catches them all; the subclasses say what went wrong and carry the details needed to fix it.
"""

from __future__ import annotations

from typing import Any


class SoormaError(Exception):
    """Base class of every error raised by soorma-lc."""


class ConfigurationError(SoormaError):
    """Settings are missing or inconsistent (e.g. no LLM model configured)."""


class SoormaValidationError(SoormaError, ValueError):
    """Input failed validation; ``errors`` lists each problem in words."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors: list[str] = errors or [message]


class InvalidEventError(SoormaValidationError):
    """An event name, topic, definition or envelope is malformed."""


class InvalidSchemaError(InvalidEventError):
    """A payload or response schema is not a valid JSON Schema."""


class InvalidAgentError(SoormaValidationError):
    """An agent or capability definition is malformed."""


class PayloadValidationError(SoormaValidationError):
    """Event data does not match the event's schema (one message per violation, by JSON path)."""

    def __init__(
        self, message: str, errors: list[str] | None = None, *, event_name: str | None = None
    ) -> None:
        super().__init__(message, errors)
        self.event_name = event_name


class SerializationError(SoormaError, TypeError):
    """A value cannot be stored or sent because it is not JSON-serialisable."""


class UnknownEventError(SoormaError, LookupError):
    """No event with this name is registered."""

    def __init__(self, event_name: str, message: str | None = None) -> None:
        super().__init__(message or f"unknown event {event_name!r}")
        self.event_name = event_name


class UnknownAgentError(SoormaError, LookupError):
    """No agent with this id is registered."""

    def __init__(self, agent_id: str) -> None:
        super().__init__(f"unknown agent {agent_id!r}")
        self.agent_id = agent_id


class RegistryError(SoormaError):
    """A registry operation failed."""


class RegistryUnavailableError(RegistryError):
    """The registry could not be reached (connection error, timeout, repeated 5xx)."""


class RegistryResponseError(RegistryError):
    """The registry answered with an error status or a malformed body."""

    def __init__(self, message: str, *, status_code: int | None, body: Any) -> None:
        super().__init__(f"{message} (status {status_code}): {body!r}")
        self.status_code = status_code
        self.body = body


class BackendUnavailableError(SoormaError):
    """Redis or Chroma could not be reached or started."""
