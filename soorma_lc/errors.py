"""Typed errors raised by soorma-lc.

Every error a user can trigger derives from :class:`SoormaError`, so one ``except SoormaError``
catches them all; the subclasses say what went wrong and carry the details needed to fix it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from soorma_lc._lazy import lazy_getattr


class SoormaError(Exception):
    """Base class of every error raised by soorma-lc."""


class ConfigurationError(SoormaError):
    """Settings are missing or inconsistent (e.g. no LLM model configured)."""


class SoormaValidationError(SoormaError, ValueError):
    """Input failed validation; ``errors`` lists each problem in words."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors: list[str] = errors or [message]


class InvalidArgumentError(ConfigurationError, SoormaValidationError):
    """An option, setting or call argument has the wrong type or is out of range (a string
    where a number or a list belongs, a negative size or timeout, NaN, a bool for a count)."""


class InvalidEventError(SoormaValidationError):
    """An event name, topic, definition or envelope is malformed."""


class InvalidSchemaError(InvalidEventError):
    """A payload or response schema is not a valid JSON Schema."""


class EventTooLargeError(InvalidEventError):
    """An encoded event is larger than the bus accepts (``max_event_bytes``)."""


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


class BackendError(SoormaError):
    """A backend (Redis, Chroma, a Soorma service) failed an operation.

    Two kinds, which call for different handling: :class:`BackendUnavailableError` (it could not
    be reached: retrying later may help) and :class:`BackendResponseError` (it was reached and
    refused the request: a bug or a misconfiguration, retrying will not help).
    """


class BackendUnavailableError(BackendError):
    """A backend could not be reached or started (connection refused or lost, timeout)."""


class BackendResponseError(BackendError):
    """A backend was reached but refused the request (e.g. Redis ``WRONGTYPE``, a bad stream
    id, a failing script, an HTTP 4xx): not an outage."""


class RegistryError(SoormaError):
    """A registry operation failed."""


class RegistryUnavailableError(RegistryError, BackendUnavailableError):
    """The registry could not be reached (connection error, timeout, repeated 5xx).

    After repeated 5xx answers, ``status_code`` and ``body`` hold the last one (else None).
    """

    def __init__(self, message: str, *, status_code: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body


class RegistryResponseError(RegistryError, BackendResponseError):
    """The registry refused a request: an HTTP error status or malformed body (with
    ``status_code`` and ``body``), or a command the Redis registry's server rejected."""

    def __init__(self, message: str, *, status_code: int | None = None, body: Any = None) -> None:
        if status_code is not None:
            message = f"{message} (status {status_code}): {body!r}"
        super().__init__(message)
        self.status_code = status_code
        self.body = body


class RegistryConflictError(RegistryResponseError):
    """The registry keeps a definition other than the one being registered: a schema version
    registered before with other content (a version is immutable), or a Soorma Registry
    service that acknowledged an event update but still serves the old definition (it never
    changes a registered event's topic, and drops an update that meets its 30 s read cache)."""


class CheckpointError(SoormaError):
    """A LangGraph checkpoint operation on Redis failed."""


class CheckpointConfigError(CheckpointError, SoormaValidationError):
    """A checkpointer call got an unusable config or argument (no thread_id, NUL in an id, ...)."""


class CheckpointConflictError(CheckpointError):
    """A checkpoint write would overwrite existing data (e.g. copying onto a non-empty thread)."""


class CorruptedDataError(SoormaError):
    """Data read back from Redis is not what soorma-lc writes there (it was changed outside
    soorma-lc: a field overwritten with non-JSON bytes, a record missing its fields, ...).

    Raised on read; nothing stored is modified, so the data can still be inspected and repaired
    (or removed) with Redis tools. ``key`` names the Redis key (and field) when known.
    """

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class CheckpointCorruptedError(CheckpointError, CorruptedDataError):
    """Stored checkpoint data failed its integrity check or cannot be decoded (altered outside
    soorma-lc)."""


class CheckpointSerializationError(CheckpointError, SerializationError):
    """A channel value, metadata or pending write cannot be serialised by the saver's serde
    (a lambda, an open file, a structure nested too deeply); nothing was written."""


class ScopeError(SoormaValidationError):
    """A call lacks its tenant_id or user_id (every stored item is scoped by them)."""


class InvalidIdentifierError(SoormaValidationError):
    """A plan id, session id or state key is empty, not a string, or too long."""


class ValueTooLargeError(SoormaValidationError):
    """A value's JSON encoding exceeds the configured size limit; nothing was written."""

    def __init__(self, message: str, *, size: int, limit: int) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit


class PlanStateTypeError(SoormaError, TypeError):
    """A stored value has the wrong type for the operation (e.g. increment on a string)."""


class ConcurrentUpdateError(SoormaError):
    """An optimistic update kept losing to concurrent writers and gave up; nothing was written."""


class PlanNotFoundError(SoormaError, LookupError):
    """No plan with this id is visible to this tenant and user."""

    def __init__(self, plan_id: str) -> None:
        super().__init__(f"plan {plan_id!r} not found")
        self.plan_id = plan_id


class DuplicatePlanError(SoormaError):
    """A plan with this id already exists in the tenant ((tenant_id, plan_id) is unique)."""

    def __init__(self, plan_id: str) -> None:
        super().__init__(f"plan {plan_id!r} already exists in this tenant")
        self.plan_id = plan_id


class DuplicateSessionError(SoormaError):
    """A session with this id already exists in the tenant ((tenant_id, session_id) is unique)."""

    def __init__(self, session_id: str, message: str | None = None) -> None:
        super().__init__(message or f"session {session_id!r} already exists in this tenant")
        self.session_id = session_id


class InvalidStatusTransitionError(SoormaValidationError):
    """A plan status change that the plan lifecycle does not allow (e.g. completed -> running)."""

    def __init__(self, plan_id: str, current: str, target: str) -> None:
        super().__init__(f"plan {plan_id!r} cannot go from {current!r} to {target!r}")
        self.plan_id = plan_id
        self.current = current
        self.target = target


class EmbeddingError(SoormaError):
    """An embedding model failed or returned malformed vectors (nothing was stored)."""


class EmbeddingInputError(EmbeddingError, SoormaValidationError):
    """Texts given to an embedding model are unusable: not a list of strings (a bare string is
    refused, not split into characters), or text with lone surrogates (not valid Unicode)."""


class InvalidEmbeddingError(EmbeddingError, ValueError):
    """Vectors the store cannot index: wrong count or size, or all zeros (a ValueError, as in
    LangGraph's InMemoryStore)."""


class EmbeddingModelMismatchError(SoormaError):
    """A Chroma collection was built by another embedding model than the one given."""

    def __init__(self, collection: str, stored_model: str, requested_model: str) -> None:
        super().__init__(
            f"collection {collection!r} was built with embedding model {stored_model!r}; "
            f"it cannot be used with {requested_model!r} (use the same model, or another "
            "collection / data_dir)"
        )
        self.collection = collection
        self.stored_model = stored_model
        self.requested_model = requested_model


class InvalidMemoryInputError(SoormaValidationError):
    """Memory input is unusable: empty content, an empty agent_id or role, a bad limit."""


class InvalidMetadataError(InvalidMemoryInputError):
    """Metadata has keys or values Chroma cannot store, or reuses a reserved scope key."""


class InvalidFilterError(InvalidMemoryInputError):
    """A metadata filter uses an unknown operator, a reserved key or a malformed value."""


class StoreFilterTypeError(InvalidFilterError, TypeError):
    """A store filter is not a mapping with string fields, or a range operand is not a number."""


class InvalidStoreItemError(InvalidMemoryInputError):
    """A store key, value, ttl, index spec, limit, offset or depth is unusable (nothing written)."""


class StoreArgumentTypeError(InvalidStoreItemError, TypeError):
    """A store argument has the wrong type: a value that is not a mapping with string keys, a
    key or query that is not a string, a ttl, limit, offset or max_depth that is not a number."""


class BusError(SoormaError):
    """An event bus operation failed."""


class DeadLetterNotFoundError(BusError, LookupError):
    """No dead letter with this id (already replayed, or never existed)."""

    def __init__(self, dead_letter_id: str) -> None:
        super().__init__(f"no dead letter with id {dead_letter_id!r}")
        self.dead_letter_id = dead_letter_id


class WorkerLoadError(ConfigurationError):
    """A ``module:attribute`` worker reference cannot be imported or is not a Worker."""


class DataDirNotFoundError(ConfigurationError):
    """An inspecting command found no data dir where the settings point: nothing has run with
    this ``SOORMA_DATA_DIR`` (it is not created just to look)."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(
            f"no data dir at {data_dir}: nothing has run with this SOORMA_DATA_DIR yet, and "
            "soorma-lc does not create one just to look. Run the command from the folder your "
            "agents run in, set SOORMA_DATA_DIR to their data dir, or set SOORMA_REDIS_URL "
            "for a shared Redis"
        )
        self.data_dir = data_dir


class ModelError(SoormaError):
    """A chat model call failed; ``model`` names the litellm model string that failed."""

    def __init__(
        self, message: str, *, model: str | None = None, status_code: int | None = None
    ) -> None:
        super().__init__(message)
        self.model = model
        self.status_code = status_code


class ModelAuthenticationError(ModelError):
    """The provider refused the credentials (401/403): set or fix the API key."""


class ModelRateLimitError(ModelError):
    """The provider kept answering 429 after every retry and fallback."""


class ModelBadRequestError(ModelError):
    """The provider rejected the request itself (400/404/422): unknown model, bad parameters."""


class ContextWindowExceededError(ModelBadRequestError):
    """The conversation is longer than the model's context window; trim it and call again."""


class MalformedToolCallError(ModelError):
    """The model answered with tool-call arguments that are not a JSON object.

    ``tool_name`` and ``arguments`` hold the offending call as the provider sent it.
    """

    def __init__(
        self, message: str, *, model: str | None, tool_name: str | None, arguments: str
    ) -> None:
        super().__init__(message, model=model)
        self.tool_name = tool_name
        self.arguments = arguments


class ModelUnavailableError(ModelError):
    """The provider stayed unreachable (5xx, connection error, timeout) after every retry and
    fallback."""


class PlannerError(SoormaError):
    """A ChoreographyPlanner operation failed."""


class PlanBusyError(PlannerError):
    """Another step of the plan kept running past the wait (the bus retries the event)."""

    def __init__(self, plan_id: str, waited: float) -> None:
        super().__init__(f"plan {plan_id!r} is busy with another step (waited {waited:g} s)")
        self.plan_id = plan_id
        self.waited = waited


class PlanOutcomeTimeoutError(PlannerError, TimeoutError):
    """No outcome arrived for a submitted goal within the timeout (the plan may still run)."""

    def __init__(self, plan_id: str, timeout: float) -> None:
        super().__init__(f"plan {plan_id!r} reported no outcome within {timeout:g} s")
        self.plan_id = plan_id
        self.timeout = timeout


class EvalError(SoormaError):
    """The eval harness could not run or read something (see the subclasses)."""


class ScenarioError(EvalError, SoormaValidationError):
    """A scenario file is invalid; ``errors`` lists each problem by location in the file."""

    def __init__(self, source: str, errors: list[str]) -> None:
        super().__init__(f"invalid eval scenario {source}: " + "; ".join(errors), errors)
        self.source = source


class ScriptError(EvalError):
    """A scripted model's turn cannot be played (a reference to a result the conversation
    does not hold, or the script ran out): the scenario and the planner disagree."""


class CassetteMissError(EvalError):
    """A replayed run made a provider request that its cassette has no recording of."""

    def __init__(self, cassette: str, request: str) -> None:
        super().__init__(f"cassette {cassette} has no recording of {request} (record it again)")
        self.cassette = cassette
        self.request = request


class ReportError(EvalError):
    """An eval report (or a baseline) cannot be read: not JSON, another version, bad shape."""


# The store's namespace errors derive from LangGraph's InvalidNamespaceError, so they live with
# the store and load on first use: importing this module never loads LangGraph.
__getattr__ = lazy_getattr(
    __name__,
    {
        "InvalidStoreNamespaceError": "soorma_lc.memory.store.errors",
        "StoreNamespaceTypeError": "soorma_lc.memory.store.errors",
    },
)
