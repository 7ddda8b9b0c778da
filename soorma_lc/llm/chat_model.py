"""LiteLLMChatModel: one LangChain chat model for every provider litellm speaks to.

Why not langchain-litellm's ``ChatLiteLLM`` (0.11.2, evaluated against respx-mocked OpenAI and
Anthropic APIs): tool calls, streamed tool-call chunks, async and usage all work, but after a
fallback it still names the primary model in ``response_metadata`` while the cost is the
fallback's, its fallbacks surface a bare ``Exception`` (litellm's fallback helper), errors are
litellm's own classes, and it pulls in ``litellm[mcp]``. Each of those is what the planner needs
(which model answered, typed errors), so this thin model calls ``litellm.acompletion`` itself.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import litellm
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field, SecretStr

from soorma_lc.llm.attempts import AttemptPlan, Backoff
from soorma_lc.llm.failures import is_provider_error, model_error
from soorma_lc.llm.messages import StreamAssembler, ai_message, openai_messages
from soorma_lc.llm.tools import OpenAIToolBinding

# litellm prints "Give Feedback / Get Help" banners to stdout on every error; library code must
# not print, so they are switched off once for the process.
litellm.suppress_debug_info = True


def litellm_route(model: str) -> str:
    """The model string litellm is called with.

    ``ollama/...`` is sent to Ollama's chat API (``ollama_chat/...``): litellm's ``ollama/``
    route uses ``/api/generate``, which has no native tool calls.
    """
    if model.startswith("ollama/"):
        return "ollama_chat/" + model.removeprefix("ollama/")
    return model


def _provider(model: str) -> str:
    return litellm_route(model).partition("/")[0] if "/" in model else ""


class LiteLLMChatModel(OpenAIToolBinding):
    """A litellm model string as a LangChain chat model, with retries and ordered fallbacks.

    Each call tries ``model`` and then each of ``fallbacks`` in order; a model is retried up to
    ``max_retries`` times (exponential backoff, or the provider's ``Retry-After``) on 429, 5xx,
    timeout and connection errors. Other failures raise at once as typed
    :class:`~soorma_lc.errors.ModelError` subclasses. Answers carry token usage in
    ``usage_metadata`` and ``model_name`` (the model string that answered) and ``cost_usd``
    (None when litellm has no price for it) in ``response_metadata``.

    ``api_base`` and ``api_key`` go with ``model`` and with the fallbacks of the same provider
    (the prefix before ``/``); other fallbacks use their provider's usual environment
    variables (``ANTHROPIC_API_KEY``, ``GEMINI_API_KEY``, ``OLLAMA_API_BASE``, ...).
    """

    model: str
    fallbacks: list[str] = Field(default_factory=list)
    timeout: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=2, ge=0)
    retry_base_delay: float = Field(default=0.5, ge=0)
    retry_max_delay: float = Field(default=8.0, ge=0)
    api_base: str | None = None
    api_key: SecretStr | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra litellm arguments for every call (e.g. ``{"top_p": 0.9}``)."""

    @property
    def _llm_type(self) -> str:
        return "soorma-litellm"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model, "fallbacks": self.fallbacks, "api_base": self.api_base}

    # --- one request ------------------------------------------------------------------------

    def _plan(self) -> AttemptPlan:
        models = list(dict.fromkeys([self.model, *self.fallbacks]))
        return AttemptPlan(
            models, self.max_retries, Backoff(self.retry_base_delay, self.retry_max_delay)
        )

    def _request(
        self,
        model: str,
        messages: list[BaseMessage],
        stop: list[str] | None,
        stream: bool,
        kwargs: dict[str, Any],
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            **self.model_kwargs,
            "model": litellm_route(model),
            "messages": openai_messages(messages),
            "timeout": self.timeout,
            "num_retries": 0,  # retries are the AttemptPlan's (see attempts.py)
            "max_retries": 0,  # and not the OpenAI SDK's either
            **kwargs,
        }
        own = _provider(model) == _provider(self.model)
        optional = {
            "api_base": self.api_base if own else None,
            "api_key": self.api_key.get_secret_value() if self.api_key and own else None,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "stop": stop,
        }
        request.update({key: value for key, value in optional.items() if value is not None})
        if stream:
            request["stream"] = True
            request["stream_options"] = {"include_usage": True}
        return request

    # --- LangChain's four entry points ------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        def send(model: str) -> Any:
            return litellm.completion(**self._request(model, messages, stop, False, kwargs))

        response, model = self._plan().call(send)
        return ChatResult(generations=[ChatGeneration(message=ai_message(response, model))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        async def send(model: str) -> Any:
            return await litellm.acompletion(**self._request(model, messages, stop, False, kwargs))

        response, model = await self._plan().acall(send)
        return ChatResult(generations=[ChatGeneration(message=ai_message(response, model))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        # The stream is opened and its first chunk read inside the plan, so that errors the
        # provider reports on opening are retried and fall back like any other call.
        def send(model: str) -> Iterator[Any]:
            stream = iter(litellm.completion(**self._request(model, messages, stop, True, kwargs)))
            first = next(stream, None)
            return itertools.chain([] if first is None else [first], stream)

        stream, model = self._plan().call(send)
        assembler = StreamAssembler(model)
        with _typed_errors(model):
            for raw in stream:
                yield from _shown(assembler.chunk(raw))
        yield ChatGenerationChunk(message=assembler.finish())

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        async def send(model: str) -> tuple[Any, AsyncIterator[Any]]:
            request = self._request(model, messages, stop, True, kwargs)
            stream = aiter(await litellm.acompletion(**request))
            return await anext(stream, None), stream

        (first, stream), model = await self._plan().acall(send)
        assembler = StreamAssembler(model)
        with _typed_errors(model):
            if first is not None:
                for chunk in _shown(assembler.chunk(first)):
                    yield chunk
            async for raw in stream:
                for chunk in _shown(assembler.chunk(raw)):
                    yield chunk
        yield ChatGenerationChunk(message=assembler.finish())


def _shown(message: AIMessageChunk) -> list[ChatGenerationChunk]:
    """The chunk to pass on, if it carries content or a tool-call piece (usage-only and
    keep-alive chunks carry nothing yet: their data goes out on the closing chunk)."""
    if message.content or message.tool_call_chunks:
        return [ChatGenerationChunk(message=message)]
    return []


@contextmanager
def _typed_errors(model: str) -> Iterator[None]:
    """Provider errors raised mid-stream, as typed errors. They are not retried: the caller
    has already seen part of the answer, which cannot be replayed from another attempt."""
    try:
        yield
    except Exception as error:
        if is_provider_error(error):
            raise model_error(error, model) from error
        raise
