"""Chat models: litellm model strings with retries, fallbacks, usage and cost, and the offline
planner model that runs when no LLM is configured.

``resolve_model(spec, settings, **options)`` is the one entry point; see its docstring. Names
load on first access, so the offline model never imports litellm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from soorma_lc._lazy import lazy_getattr

if TYPE_CHECKING:
    from soorma_lc.llm.chat_model import LiteLLMChatModel
    from soorma_lc.llm.offline import OFFLINE_MODEL_NAME, OfflinePlannerModel
    from soorma_lc.llm.resolve import resolve_model

_LAZY_EXPORTS: dict[str, str] = {
    "LiteLLMChatModel": "soorma_lc.llm.chat_model",
    "OFFLINE_MODEL_NAME": "soorma_lc.llm.offline",
    "OfflinePlannerModel": "soorma_lc.llm.offline",
    "resolve_model": "soorma_lc.llm.resolve",
}

__getattr__ = lazy_getattr(__name__, _LAZY_EXPORTS)

__all__ = ["OFFLINE_MODEL_NAME", "LiteLLMChatModel", "OfflinePlannerModel", "resolve_model"]
