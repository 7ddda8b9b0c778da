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

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# litellm downloads a price map at import unless told otherwise; nothing may touch the network
# at import time, so this default is set before anything can import litellm.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

DEFAULT_TENANT_ID = "00000000-0000-0000-0000-000000000000"
DEFAULT_USER_ID = "00000000-0000-0000-0000-000000000001"


class Settings(BaseSettings):
    """Process-wide configuration; every component's ``from_settings`` reads one of these."""

    model_config = SettingsConfigDict(env_prefix="SOORMA_", extra="ignore", frozen=True)

    redis_url: str | None = Field(
        default=None,
        description="redis://, rediss:// or unix:// URL; None starts an embedded redis-server.",
    )
    chroma_url: str | None = Field(
        default=None, description="http(s)://host:port of a Chroma server; None embeds Chroma."
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
    registry_token: SecretStr | None = Field(default=None, description="Bearer token.")
    tenant_id: str = DEFAULT_TENANT_ID
    user_id: str = DEFAULT_USER_ID

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
