"""Per-call token usage (LangChain's ``usage_metadata``) and its price from litellm's cost map."""

from __future__ import annotations

import logging
from typing import Any

import litellm
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata

logger = logging.getLogger(__name__)


def _count(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _field(source: Any, name: str) -> Any:
    return source.get(name) if isinstance(source, dict) else getattr(source, name, None)


def usage_metadata(usage: Any) -> UsageMetadata | None:
    """LangChain's usage record for a litellm ``Usage`` (None when the provider sent none)."""
    if usage is None:
        return None
    input_tokens = _count(_field(usage, "prompt_tokens"))
    output_tokens = _count(_field(usage, "completion_tokens"))
    total = _count(_field(usage, "total_tokens")) or input_tokens + output_tokens
    metadata = UsageMetadata(
        input_tokens=input_tokens, output_tokens=output_tokens, total_tokens=total
    )
    cache_read = _count(_field(_field(usage, "prompt_tokens_details"), "cached_tokens"))
    if cache_read:
        metadata["input_token_details"] = InputTokenDetails(cache_read=cache_read)
    reasoning = _count(_field(_field(usage, "completion_tokens_details"), "reasoning_tokens"))
    if reasoning:
        metadata["output_token_details"] = OutputTokenDetails(reasoning=reasoning)
    return metadata


def cost_usd(usage: Any, *models: str | None) -> float | None:
    """What the call cost in USD by litellm's local price map, or None when no ``models``
    name (tried in order: the model string called, then the provider's own model name) is in
    the map or the provider reported no usage."""
    if usage is None:
        return None
    for model in models:
        if not model:
            continue
        try:
            prompt_cost, completion_cost = litellm.cost_per_token(model=model, usage_object=usage)
        except Exception:  # litellm raises plain Exceptions for models it cannot price
            logger.debug("no price for %s in litellm's cost map", model)
            continue
        return float(prompt_cost) + float(completion_cost)
    return None
