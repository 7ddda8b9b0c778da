"""Settings read from ``SOORMA_*`` environment variables, with embedded defaults.

With nothing configured, every component runs on an embedded redis-server and an embedded
Chroma under ``data_dir`` (``./.soorma`` by default); set the URLs to share real servers
between processes and machines.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from soorma_lc.checks import header_problem, label_problem
from soorma_lc.errors import InvalidArgumentError

# litellm downloads a price map at import unless told otherwise; nothing may touch the network
# at import time, so this default is set before anything can import litellm.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

DEFAULT_TENANT_ID = "00000000-0000-0000-0000-000000000000"
DEFAULT_USER_ID = "00000000-0000-0000-0000-000000000001"


class Settings(BaseSettings):
    """Process-wide configuration; every component's ``from_settings`` reads one of these.

    Invalid values (from the environment or given) raise :class:`InvalidArgumentError`.
    """

    model_config = SettingsConfigDict(
        env_prefix="SOORMA_", extra="ignore", frozen=True, allow_inf_nan=False
    )

    redis_url: str | None = Field(
        default=None,
        description="redis://, rediss:// or unix:// URL, or redis+cluster://host:port[,...] "
        "for a Redis Cluster; None starts an embedded redis-server.",
    )
    redis_socket_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds any one Redis command may take before it fails with "
        "BackendUnavailableError (a Redis that stops answering never hangs a caller). Blocking "
        "reads of the bus wait at most half of it per round trip.",
    )
    redis_connect_timeout: float = Field(
        default=5.0, gt=0, description="Seconds to open a connection to Redis."
    )
    redis_health_check_interval: int = Field(
        default=15,
        ge=0,
        description="A pooled Redis connection idle this many seconds is checked with PING "
        "before reuse (0: never), so a restarted server costs no failed command.",
    )
    redis_failover_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a Redis Cluster client keeps retrying a command while the "
        "cluster fails over (a master's replica taking over) before it fails with "
        "BackendUnavailableError; set it above the cluster's node timeout.",
    )
    chroma_url: str | None = Field(
        default=None, description="http(s)://host:port of a Chroma server; None embeds Chroma."
    )
    chroma_retry_timeout: float = Field(
        default=10.0,
        ge=0,
        description="Seconds a Chroma server request whose connection cannot be opened is "
        "retried (a restarting server) before it fails with BackendUnavailableError.",
    )
    chroma_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds any one Chroma server request may take before it fails with "
        "BackendUnavailableError (a server that accepts connections but stopped answering).",
    )
    data_dir: Path = Field(
        default=Path(".soorma"), description="Where embedded Redis and Chroma keep their data."
    )
    llm_model: str | None = Field(default=None, description="litellm model string.")
    llm_fallbacks: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Models tried in order when llm_model stays unavailable or rate limited "
        "(comma-separated or a JSON list).",
    )
    llm_timeout: float = Field(default=60.0, gt=0, description="Seconds per model request.")
    llm_max_retries: int = Field(
        default=2, ge=0, description="Retries per model on 429, 5xx and connection errors."
    )
    embedding_model: str | None = Field(
        default=None, description="litellm embedding model, 'local' for MiniLM, None = offline."
    )
    registry_url: str | None = Field(
        default=None, description="Base URL of a Soorma Registry service; None uses Redis."
    )
    registry_token: SecretStr | None = Field(
        default=None, description="Bearer token (a JWT: the Soorma Registry requires one)."
    )
    registry_headers: dict[str, str] = Field(
        default_factory=dict,
        description="Extra HTTP headers sent to the Soorma Registry (a JSON object), e.g. for "
        "a gateway in front of it.",
    )
    tenant_id: str = DEFAULT_TENANT_ID
    user_id: str = DEFAULT_USER_ID

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            problems = [
                f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
                for error in exc.errors(include_url=False, include_input=False)
            ]
            raise InvalidArgumentError(
                "invalid settings (SOORMA_* variables or arguments): " + "; ".join(problems),
                problems,
            ) from None

    @field_validator("tenant_id", "user_id")
    @classmethod
    def _check_scope(cls, value: str) -> str:
        problem = label_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("registry_token")
    @classmethod
    def _check_token(cls, value: SecretStr | None) -> SecretStr | None:
        """A token goes into an HTTP header: no line breaks or other control characters."""
        if value is not None and any(
            ord(c) < 32 or ord(c) == 127 for c in value.get_secret_value()
        ):
            raise ValueError("the token contains a line break or another control character")
        return value

    @field_validator("registry_headers")
    @classmethod
    def _check_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            problem = header_problem(name, text)
            if problem is not None:
                raise ValueError(problem)
        return value

    @field_validator("llm_fallbacks", mode="before")
    @classmethod
    def _split_fallbacks(cls, value: Any) -> Any:
        """Accept ``a,b`` and ``["a", "b"]`` from the environment; blanks are dropped."""
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if isinstance(value, list):
            stripped = [item.strip() if isinstance(item, str) else item for item in value]
            return [item for item in stripped if item != ""]
        return value


def resolve_settings(settings: Settings | None) -> Settings:
    """Return ``settings`` or, when None, a fresh :class:`Settings` read from the environment."""
    return settings if settings is not None else Settings()
