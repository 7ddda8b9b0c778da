"""soorma-lc: Soorma's autonomous choreography for LangGraph apps.

The names below are the public API (see ARCHITECTURE.md). The event model, settings and errors
load with the package; the components load on first access, so ``import soorma_lc`` (and the
CLI) never pays for LangGraph, Chroma or litellm unless they are used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from soorma_lc._lazy import lazy_getattr
from soorma_lc.config import Settings
from soorma_lc.errors import (
    BackendError,
    BackendResponseError,
    BackendUnavailableError,
    BusError,
    CheckpointConfigError,
    CheckpointConflictError,
    CheckpointCorruptedError,
    CheckpointError,
    ConcurrentUpdateError,
    ConfigurationError,
    DeadLetterNotFoundError,
    DuplicatePlanError,
    DuplicateSessionError,
    EmbeddingError,
    EmbeddingModelMismatchError,
    EventTooLargeError,
    InvalidAgentError,
    InvalidEventError,
    InvalidFilterError,
    InvalidIdentifierError,
    InvalidMemoryInputError,
    InvalidMetadataError,
    InvalidSchemaError,
    InvalidStatusTransitionError,
    InvalidStoreItemError,
    InvalidStoreNamespaceError,
    PayloadValidationError,
    PlanNotFoundError,
    PlanStateTypeError,
    RegistryError,
    RegistryResponseError,
    RegistryUnavailableError,
    ScopeError,
    SerializationError,
    SoormaError,
    SoormaValidationError,
    UnknownAgentError,
    UnknownEventError,
    ValueTooLargeError,
    WorkerLoadError,
)
from soorma_lc.events import (
    AgentCapability,
    AgentDefinition,
    EventDefinition,
    EventEnvelope,
    EventTopic,
)

if TYPE_CHECKING:
    from soorma_lc.agents import (
        AgentContext,
        Worker,
    )
    from soorma_lc.bus import (
        DeadLetter,
        RedisStreamsBus,
    )
    from soorma_lc.memory import (
        EpisodicMemory,
        MemoryClient,
        Plan,
        PlanStatus,
        RedisCheckpointSaver,
        SemanticMemory,
        Session,
        SoormaStore,
        WorkflowState,
        episodic_retriever,
        resolve_embeddings,
        semantic_retriever,
    )
    from soorma_lc.registry import (
        InMemoryRegistry,
        RedisRegistry,
        Registry,
        SoormaRegistryClient,
        registry_from_settings,
    )
    from soorma_lc.toolkit import (
        EventTool,
        EventToolkit,
        PublishReceipt,
        ToolContext,
    )

__version__ = "0.1.0"

_LAZY_EXPORTS: dict[str, str] = {
    "InMemoryRegistry": "soorma_lc.registry",
    "RedisRegistry": "soorma_lc.registry",
    "Registry": "soorma_lc.registry",
    "SoormaRegistryClient": "soorma_lc.registry",
    "registry_from_settings": "soorma_lc.registry",
    "DeadLetter": "soorma_lc.bus",
    "RedisStreamsBus": "soorma_lc.bus",
    "AgentContext": "soorma_lc.agents",
    "Worker": "soorma_lc.agents",
    "EventTool": "soorma_lc.toolkit",
    "EventToolkit": "soorma_lc.toolkit",
    "PublishReceipt": "soorma_lc.toolkit",
    "ToolContext": "soorma_lc.toolkit",
    "EpisodicMemory": "soorma_lc.memory",
    "MemoryClient": "soorma_lc.memory",
    "Plan": "soorma_lc.memory",
    "PlanStatus": "soorma_lc.memory",
    "RedisCheckpointSaver": "soorma_lc.memory",
    "SemanticMemory": "soorma_lc.memory",
    "Session": "soorma_lc.memory",
    "SoormaStore": "soorma_lc.memory",
    "WorkflowState": "soorma_lc.memory",
    "episodic_retriever": "soorma_lc.memory",
    "resolve_embeddings": "soorma_lc.memory",
    "semantic_retriever": "soorma_lc.memory",
}


__getattr__ = lazy_getattr(__name__, _LAZY_EXPORTS)


__all__ = [
    "AgentCapability",
    "AgentContext",
    "AgentDefinition",
    "BackendError",
    "BackendResponseError",
    "BackendUnavailableError",
    "BusError",
    "CheckpointConfigError",
    "CheckpointConflictError",
    "CheckpointCorruptedError",
    "CheckpointError",
    "ConcurrentUpdateError",
    "ConfigurationError",
    "DeadLetter",
    "DeadLetterNotFoundError",
    "DuplicatePlanError",
    "DuplicateSessionError",
    "EmbeddingError",
    "EmbeddingModelMismatchError",
    "EpisodicMemory",
    "EventDefinition",
    "EventEnvelope",
    "EventTooLargeError",
    "EventTool",
    "EventToolkit",
    "EventTopic",
    "InMemoryRegistry",
    "InvalidAgentError",
    "InvalidEventError",
    "InvalidFilterError",
    "InvalidIdentifierError",
    "InvalidMemoryInputError",
    "InvalidMetadataError",
    "InvalidSchemaError",
    "InvalidStatusTransitionError",
    "InvalidStoreItemError",
    "InvalidStoreNamespaceError",
    "MemoryClient",
    "PayloadValidationError",
    "Plan",
    "PlanNotFoundError",
    "PlanStateTypeError",
    "PlanStatus",
    "PublishReceipt",
    "RedisCheckpointSaver",
    "RedisRegistry",
    "RedisStreamsBus",
    "Registry",
    "RegistryError",
    "RegistryResponseError",
    "RegistryUnavailableError",
    "ScopeError",
    "SemanticMemory",
    "SerializationError",
    "Session",
    "Settings",
    "SoormaError",
    "SoormaRegistryClient",
    "SoormaStore",
    "SoormaValidationError",
    "ToolContext",
    "UnknownAgentError",
    "UnknownEventError",
    "ValueTooLargeError",
    "Worker",
    "WorkerLoadError",
    "WorkflowState",
    "episodic_retriever",
    "registry_from_settings",
    "resolve_embeddings",
    "semantic_retriever",
]
