"""litellm's exceptions as soorma-lc's typed model errors, and which of them are worth a retry.

litellm maps every provider's error answer onto OpenAI-style exception classes (its own classes
subclass ``openai``'s); this module maps those onto :class:`~soorma_lc.errors.ModelError`
subclasses, keeping the provider's message. Only rate limits (429), server errors (5xx),
timeouts and connection errors are transient: the caller retries them and then moves on to the
next fallback model. Everything else (bad key, bad request, context window) fails at once,
because asking again or asking another model would not fix it.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping
from typing import Any

import litellm
import openai

from soorma_lc.errors import (
    ContextWindowExceededError,
    ModelAuthenticationError,
    ModelBadRequestError,
    ModelError,
    ModelRateLimitError,
    ModelUnavailableError,
)


def is_provider_error(error: BaseException) -> bool:
    """Whether ``error`` came from litellm or the provider (else it is a bug to re-raise)."""
    return isinstance(error, openai.OpenAIError)


# litellm reports a key that is not set as a 500 (OpenAI) or a connection error (Gemini) before
# any request is sent; its message is the only sign, so it is recognised by it.
_MISSING_KEY = re.compile(
    r"missing (?:\w+ )*?(?:api[ _-]?key|credential)|api_key client option must be set",
    re.IGNORECASE,
)


def is_missing_key(error: BaseException) -> bool:
    """Whether ``error`` says that no API key was configured for the provider."""
    return bool(_MISSING_KEY.search(str(error)))


def is_transient(error: BaseException) -> bool:
    """Rate limits, 5xx answers, timeouts and connection errors: worth another attempt."""
    if is_missing_key(error):
        return False
    if isinstance(error, openai.RateLimitError | openai.APIConnectionError):
        return True
    status = status_code(error)
    if isinstance(error, openai.APIStatusError | litellm.APIError):
        return status is None or status >= 500
    return False


def status_code(error: BaseException) -> int | None:
    """The HTTP status behind ``error``, when litellm knows it."""
    status = getattr(error, "status_code", None)
    return status if isinstance(status, int) else None


def model_error(error: BaseException, model: str) -> ModelError:
    """The typed error for a failed call of ``model`` (the provider's message is kept)."""
    message = f"{model}: {error}"
    status = status_code(error)
    kind: type[ModelError]
    if isinstance(error, litellm.ContextWindowExceededError):
        kind = ContextWindowExceededError
    elif isinstance(
        error, openai.AuthenticationError | openai.PermissionDeniedError
    ) or is_missing_key(error):
        kind = ModelAuthenticationError
    elif isinstance(error, openai.RateLimitError):
        kind = ModelRateLimitError
    elif is_transient(error):
        kind = ModelUnavailableError
    elif isinstance(error, openai.APIError):
        kind = ModelBadRequestError
    else:
        kind = ModelError
    return kind(message, model=model, status_code=status)


def retry_after_seconds(error: BaseException) -> float | None:
    """The wait a 429/503 answer asked for (``retry-after-ms`` or ``retry-after``), if any."""
    headers = _headers(error)
    if headers is None:
        return None
    milliseconds = _number(headers.get("retry-after-ms"))
    if milliseconds is not None:
        return milliseconds / 1000
    value = headers.get("retry-after")
    seconds = _number(value)
    if seconds is not None or not isinstance(value, str):
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _headers(error: BaseException) -> Mapping[str, Any] | None:
    headers = getattr(error, "litellm_response_headers", None)
    if headers is None:
        response = getattr(error, "response", None)
        headers = getattr(response, "headers", None)
    if headers is None:
        return None
    return {str(key).lower(): value for key, value in dict(headers).items()}


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None
