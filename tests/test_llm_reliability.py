"""Retries, ordered fallbacks, per-call usage and cost, and the typed errors a provider's
answers turn into (respx on the providers' HTTP APIs; no waiting: retry_base_delay=0)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx
from langchain_core.messages import HumanMessage

from soorma_lc.errors import (
    ContextWindowExceededError,
    MalformedToolCallError,
    ModelAuthenticationError,
    ModelBadRequestError,
    ModelRateLimitError,
    ModelUnavailableError,
)
from soorma_lc.llm import LiteLLMChatModel
from soorma_lc.llm.attempts import Backoff
from tests.llm_wire import Turn, anthropic_reply, anthropic_stream, openai_reply, openai_stream

OPENAI = "https://api.openai.com/v1/chat/completions"
ANTHROPIC = "https://api.anthropic.com/v1/messages"
TURN = Turn("search_docs", {"query": "docker"})
TOOL = {
    "type": "function",
    "function": {
        "name": "search_docs",
        "description": "Search the docs.",
        "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
    },
}
ASK = [HumanMessage("find docker docs")]


@pytest.fixture(autouse=True)
def anthropic_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """Fallbacks of another provider take their key from its environment variable."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "anthropic-env-key")
    return "anthropic-env-key"


def openai_error(status: int, message: str, code: str | None = None, **headers: str) -> Any:
    error = {"message": message, "type": "invalid_request_error", "code": code}
    return httpx.Response(status, json={"error": error}, headers=headers)


def anthropic_error(status: int, kind: str, message: str) -> httpx.Response:
    return httpx.Response(
        status, json={"type": "error", "error": {"type": kind, "message": message}}
    )


def chain(max_retries: int = 2) -> Any:
    """OpenAI first, Anthropic as its fallback; retries without waiting."""
    model = LiteLLMChatModel(
        model="openai/gpt-4o-mini",
        fallbacks=["anthropic/claude-haiku-4-5"],
        api_key="test-key",
        max_retries=max_retries,
        retry_base_delay=0,
    )
    return model.bind_tools([TOOL])


async def test_a_server_error_is_retried_then_falls_back() -> None:
    with respx.mock() as router:
        primary = router.post(OPENAI).mock(return_value=openai_error(500, "internal error"))
        fallback = router.post(ANTHROPIC).mock(return_value=anthropic_reply(TURN))
        reply = await chain().ainvoke(ASK)
    assert primary.call_count == 3  # the first try and two retries
    assert fallback.call_count == 1
    # The primary's key stays with its provider; the fallback uses its own from the env.
    assert primary.calls[0].request.headers["authorization"] == "Bearer test-key"
    assert fallback.calls[0].request.headers["x-api-key"] == "anthropic-env-key"
    assert reply.tool_calls[0]["args"] == {"query": "docker"}
    assert reply.response_metadata["model_name"] == "anthropic/claude-haiku-4-5"
    assert reply.response_metadata["provider_model"] == "claude-haiku-4-5-20251001"


async def test_a_rate_limit_is_retried_on_the_same_model() -> None:
    with respx.mock(assert_all_called=False) as router:
        primary = router.post(OPENAI).mock(
            side_effect=[openai_error(429, "slow down", "rate_limit_exceeded"), openai_reply(TURN)]
        )
        fallback = router.post(ANTHROPIC)
        reply = await chain().ainvoke(ASK)
    assert primary.call_count == 2
    assert not fallback.called
    assert reply.response_metadata["model_name"] == "openai/gpt-4o-mini"


async def test_exhausted_rate_limits_fall_back_in_order() -> None:
    model = LiteLLMChatModel(
        model="openai/gpt-4o-mini",
        fallbacks=["openai/gpt-4o", "anthropic/claude-haiku-4-5"],
        api_key="test-key",
        max_retries=1,
        retry_base_delay=0,
    )
    with respx.mock() as router:
        openai = router.post(OPENAI).mock(return_value=openai_error(429, "slow down"))
        anthropic = router.post(ANTHROPIC).mock(return_value=anthropic_reply(TURN))
        reply = await model.ainvoke(ASK)
    models = [json.loads(call.request.content)["model"] for call in openai.calls]
    assert models == ["gpt-4o-mini", "gpt-4o-mini", "gpt-4o", "gpt-4o"]
    assert anthropic.call_count == 1
    assert reply.response_metadata["model_name"] == "anthropic/claude-haiku-4-5"


async def test_usage_and_cost_are_those_of_each_call() -> None:
    model = chain()
    with respx.mock() as router:
        overloaded = [openai_error(503, "overloaded")] * 3
        router.post(OPENAI).mock(side_effect=[openai_reply(TURN), *overloaded])
        router.post(ANTHROPIC).mock(return_value=anthropic_reply(TURN))
        first = await model.ainvoke(ASK)
        second = await model.ainvoke(ASK)
    assert first.response_metadata["model_name"] == "openai/gpt-4o-mini"
    assert second.response_metadata["model_name"] == "anthropic/claude-haiku-4-5"
    for reply in (first, second):
        assert reply.usage_metadata == {
            "input_tokens": 120,
            "output_tokens": 30,
            "total_tokens": 150,
        }
    # Same tokens, different price lists: gpt-4o-mini is cheaper than claude-haiku-4-5.
    assert 0 < first.response_metadata["cost_usd"] < second.response_metadata["cost_usd"]
    assert first.response_metadata["cost_usd"] == pytest.approx(120 * 0.15e-6 + 30 * 0.6e-6)


async def test_a_stream_that_cannot_open_falls_back() -> None:
    with respx.mock() as router:
        primary = router.post(OPENAI).mock(return_value=openai_error(502, "bad gateway"))
        router.post(ANTHROPIC).mock(return_value=anthropic_stream(TURN))
        chunks = [chunk async for chunk in chain(max_retries=0).astream(ASK)]
    merged = sum(chunks[1:], chunks[0])
    assert primary.call_count == 1
    assert merged.tool_calls[0]["args"] == {"query": "docker"}
    assert merged.response_metadata["model_name"] == "anthropic/claude-haiku-4-5"
    assert merged.usage_metadata is not None and merged.usage_metadata["output_tokens"] == 30


def test_sync_calls_retry_and_fall_back_too() -> None:
    with respx.mock() as router:
        primary = router.post(OPENAI).mock(side_effect=httpx.ConnectError("refused"))
        router.post(ANTHROPIC).mock(return_value=anthropic_reply(TURN))
        reply = chain(max_retries=1).invoke(ASK)
    assert primary.call_count == 2
    assert reply.response_metadata["model_name"] == "anthropic/claude-haiku-4-5"


# --- typed errors -------------------------------------------------------------------------


async def test_a_bad_key_is_an_authentication_error_at_once() -> None:
    with respx.mock(assert_all_called=False) as router:
        primary = router.post(OPENAI).mock(
            return_value=openai_error(401, "Incorrect API key provided: sk-...", "invalid_api_key")
        )
        fallback = router.post(ANTHROPIC)
        with pytest.raises(ModelAuthenticationError, match="Incorrect API key") as caught:
            await chain().ainvoke(ASK)
    assert primary.call_count == 1  # never retried, never handed to a fallback
    assert not fallback.called
    assert caught.value.model == "openai/gpt-4o-mini"
    assert caught.value.status_code == 401


@pytest.mark.parametrize(
    ("model", "variable"),
    [
        ("openai/gpt-4o-mini", "OPENAI_API_KEY"),
        ("anthropic/claude-haiku-4-5", "ANTHROPIC_API_KEY"),
        ("gemini/gemini-2.5-flash", "GEMINI_API_KEY"),
    ],
)
async def test_a_missing_key_is_an_authentication_error(
    monkeypatch: pytest.MonkeyPatch, model: str, variable: str
) -> None:
    for name in (variable, "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with respx.mock(assert_all_called=False) as router:
        anywhere = router.route()
        with pytest.raises(ModelAuthenticationError, match=r"(?i)missing|api_key"):
            await LiteLLMChatModel(model=model, retry_base_delay=0).ainvoke(ASK)
    assert not anywhere.called  # litellm refused before sending; nothing was retried


async def test_an_unknown_provider_is_a_bad_request() -> None:
    with pytest.raises(ModelBadRequestError, match="LLM Provider NOT provided"):
        await LiteLLMChatModel(model="no-such-model-xyz").ainvoke(ASK)


async def test_rate_limits_everywhere_are_a_rate_limit_error() -> None:
    with respx.mock() as router:
        primary = router.post(OPENAI).mock(return_value=openai_error(429, "Rate limit reached"))
        fallback = router.post(ANTHROPIC).mock(
            return_value=anthropic_error(429, "rate_limit_error", "Number of requests exceeded")
        )
        with pytest.raises(ModelRateLimitError) as caught:
            await chain().ainvoke(ASK)
    assert (primary.call_count, fallback.call_count) == (3, 3)
    message = str(caught.value)
    assert "Rate limit reached" in message and "Number of requests exceeded" in message
    assert caught.value.model == "anthropic/claude-haiku-4-5"


@pytest.mark.parametrize(
    ("url", "answer"),
    [
        (
            OPENAI,
            openai_error(
                400,
                "This model's maximum context length is 128000 tokens. However, your messages "
                "resulted in 131000 tokens.",
                "context_length_exceeded",
            ),
        ),
        (
            ANTHROPIC,
            anthropic_error(
                400, "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum"
            ),
        ),
    ],
    ids=["openai", "anthropic"],
)
async def test_a_long_conversation_is_a_context_window_error(
    url: str, answer: httpx.Response
) -> None:
    model = LiteLLMChatModel(
        model="openai/gpt-4o-mini" if url == OPENAI else "anthropic/claude-haiku-4-5",
        fallbacks=["openai/gpt-4o"] if url == ANTHROPIC else ["anthropic/claude-haiku-4-5"],
        api_key="k",
        retry_base_delay=0,
    )
    with respx.mock() as router:
        route = router.post(url).mock(return_value=answer)
        with pytest.raises(ContextWindowExceededError, match=r"too long|context length"):
            await model.ainvoke(ASK)
    assert route.call_count == 1
    assert issubclass(ContextWindowExceededError, ModelBadRequestError)


async def test_a_rejected_request_is_a_bad_request_error() -> None:
    with respx.mock() as router:
        router.post(OPENAI).mock(
            return_value=openai_error(400, "Invalid value for 'tool_choice'", "invalid_value")
        )
        with pytest.raises(ModelBadRequestError, match="tool_choice") as caught:
            await chain().ainvoke(ASK)
    assert not isinstance(caught.value, ContextWindowExceededError)


BROKEN = '{"query": "docker'


@pytest.mark.parametrize(
    "answer",
    [
        openai_reply(Turn("search_docs", {}, raw=BROKEN)),
        openai_stream(Turn("search_docs", {}, raw=BROKEN)),
        anthropic_stream(Turn("search_docs", {}, raw=BROKEN)),
    ],
    ids=["openai", "openai-stream", "anthropic-stream"],
)
async def test_tool_arguments_that_are_not_json_are_a_malformed_tool_call(
    answer: httpx.Response,
) -> None:
    streamed = answer.headers["content-type"] == "text/event-stream"
    openai = "chatcmpl" in answer.text
    model = LiteLLMChatModel(
        model="openai/gpt-4o-mini" if openai else "anthropic/claude-haiku-4-5", api_key="k"
    ).bind_tools([TOOL])
    with respx.mock() as router:
        route = router.post(OPENAI if openai else ANTHROPIC).mock(return_value=answer)
        with pytest.raises(MalformedToolCallError) as caught:
            if streamed:
                _ = [chunk async for chunk in model.astream(ASK)]
            else:
                await model.ainvoke(ASK)
    assert route.call_count == 1
    assert caught.value.tool_name == "search_docs"
    assert caught.value.arguments == BROKEN


@pytest.mark.parametrize(
    "failure",
    [openai_error(503, "The server is overloaded"), httpx.ConnectError("Connection refused")],
    ids=["503", "connection-refused"],
)
async def test_an_unreachable_provider_is_unavailable(failure: Any) -> None:
    model = LiteLLMChatModel(
        model="openai/gpt-4o-mini", api_key="k", max_retries=2, retry_base_delay=0
    )
    with respx.mock() as router:
        route = router.post(OPENAI)
        if isinstance(failure, httpx.Response):
            route.mock(return_value=failure)
        else:
            route.mock(side_effect=failure)
        with pytest.raises(ModelUnavailableError) as caught:
            await model.ainvoke(ASK)
    assert route.call_count == 3
    assert "3 attempt(s)" in str(caught.value)


async def test_a_timeout_is_retried_and_then_unavailable() -> None:
    model = LiteLLMChatModel(
        model="openai/gpt-4o-mini", api_key="k", timeout=5, max_retries=1, retry_base_delay=0
    )
    with respx.mock() as router:
        route = router.post(OPENAI).mock(side_effect=httpx.ReadTimeout("timed out"))
        with pytest.raises(ModelUnavailableError):
            await model.ainvoke(ASK)
    assert route.call_count == 2
    assert route.calls[0].request.extensions["timeout"]["read"] == 5  # the model's timeout


# --- backoff ---------------------------------------------------------------------------


class _Answered(Exception):
    def __init__(self, **headers: str) -> None:
        self.response = httpx.Response(429, headers=headers)


def test_backoff_grows_exponentially_up_to_its_cap() -> None:
    backoff = Backoff(base=1.0, cap=5.0)
    error = Exception("no headers")
    for retry, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 5.0), (8, 5.0)]:
        delay = backoff.delay(retry, error)
        assert ceiling / 2 <= delay <= ceiling


def test_backoff_waits_what_the_provider_asks_within_the_cap() -> None:
    backoff = Backoff(base=1.0, cap=10.0)
    assert backoff.delay(0, _Answered(**{"retry-after": "3"})) == 3.0
    assert backoff.delay(0, _Answered(**{"retry-after-ms": "250"})) == 0.25
    assert backoff.delay(0, _Answered(**{"retry-after": "120"})) == 10.0
