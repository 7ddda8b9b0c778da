"""resolve_model: the one way every part of soorma-lc gets a chat model."""

from __future__ import annotations

import logging
from typing import Any

from langchain_core.language_models import BaseChatModel
from pydantic import ValidationError

from soorma_lc.config import Settings, resolve_settings
from soorma_lc.errors import ConfigurationError

logger = logging.getLogger(__name__)
_told_offline = False


def resolve_model(
    spec: str | BaseChatModel | None = None, settings: Settings | None = None, **options: Any
) -> BaseChatModel:
    """A chat model with tool calling for ``spec``.

    - a LangChain :class:`BaseChatModel`: returned as is (``options`` must be empty);
    - a litellm model string (``"openai/gpt-4o-mini"``, ``"anthropic/claude-haiku-4-5"``,
      ``"gemini/gemini-2.5-flash"``, ``"ollama/llama3.1"``, ``"openai/<name>"`` with
      ``api_base=`` for an OpenAI-compatible server): a :class:`LiteLLMChatModel` with the
      settings' fallbacks, timeout and retries; ``options`` (``api_base``, ``api_key``,
      ``fallbacks``, ``timeout``, ``max_retries``, ``temperature``, ...) override them;
    - None: ``settings.llm_model`` (``SOORMA_LLM_MODEL``); with none configured, the
      :class:`OfflinePlannerModel` (logged once at INFO), so everything runs without a key.
    """
    if isinstance(spec, BaseChatModel):
        if options:
            raise ConfigurationError(
                f"options {sorted(options)} apply to litellm model strings, not to a "
                f"{type(spec).__name__} instance: configure the instance instead"
            )
        return spec
    if spec is not None and not isinstance(spec, str):
        raise ConfigurationError(
            f"model must be a litellm model string or a LangChain BaseChatModel, got {spec!r}"
        )
    settings = resolve_settings(settings)
    name = (spec if spec is not None else settings.llm_model or "").strip()
    if not name:
        if spec is not None:
            raise ConfigurationError("model string is empty")
        return _offline_model(**options)
    from soorma_lc.llm.chat_model import LiteLLMChatModel

    configured: dict[str, Any] = {
        "fallbacks": list(settings.llm_fallbacks),
        "timeout": settings.llm_timeout,
        "max_retries": settings.llm_max_retries,
    }
    return _built(LiteLLMChatModel, model=name, **(configured | options))


def _built(kind: type[BaseChatModel], **fields: Any) -> BaseChatModel:
    """``kind(**fields)``, with unknown or invalid options as a :class:`ConfigurationError`."""
    unknown = sorted(set(fields) - set(kind.model_fields))
    if unknown:
        raise ConfigurationError(
            f"{kind.__name__} has no option(s) {unknown}; known: {sorted(kind.model_fields)}"
        )
    try:
        return kind(**fields)
    except ValidationError as error:
        raise ConfigurationError(f"invalid {kind.__name__} options: {error}") from error


def _offline_model(**options: Any) -> BaseChatModel:
    global _told_offline
    from soorma_lc.llm.offline import OfflinePlannerModel

    if not _told_offline:
        _told_offline = True
        logger.info(
            "no LLM configured (SOORMA_LLM_MODEL is unset): using the offline heuristic "
            "planner model, which is not an LLM"
        )
    return _built(OfflinePlannerModel, **options)
