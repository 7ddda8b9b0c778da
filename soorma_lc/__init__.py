"""soorma-lc: Soorma's autonomous choreography for LangGraph apps.

The names below are the public API; see ARCHITECTURE.md for the contract.
"""

from soorma_lc.config import Settings
from soorma_lc.errors import (
    BackendUnavailableError,
    ConfigurationError,
    InvalidAgentError,
    InvalidEventError,
    InvalidSchemaError,
    PayloadValidationError,
    RegistryError,
    RegistryResponseError,
    RegistryUnavailableError,
    SerializationError,
    SoormaError,
    SoormaValidationError,
    UnknownAgentError,
    UnknownEventError,
)
from soorma_lc.events import (
    AgentCapability,
    AgentDefinition,
    EventDefinition,
    EventEnvelope,
    EventTopic,
)

__version__ = "0.1.0"

__all__ = [
    "AgentCapability",
    "AgentDefinition",
    "BackendUnavailableError",
    "ConfigurationError",
    "EventDefinition",
    "EventEnvelope",
    "EventTopic",
    "InvalidAgentError",
    "InvalidEventError",
    "InvalidSchemaError",
    "PayloadValidationError",
    "RegistryError",
    "RegistryResponseError",
    "RegistryUnavailableError",
    "SerializationError",
    "Settings",
    "SoormaError",
    "SoormaValidationError",
    "UnknownAgentError",
    "UnknownEventError",
]
