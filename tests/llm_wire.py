"""Provider HTTP APIs as litellm sees them: the wire formats of OpenAI, Anthropic, Gemini and
Ollama (from their API references) for a reply with one tool call, non-streamed and streamed.

Each :class:`Provider` answers a scripted turn (a tool name and its arguments) in its own
format, and reads back from a request the tool names and tool results litellm sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

INPUT_TOKENS, OUTPUT_TOKENS = 120, 30


@dataclass(frozen=True)
class Turn:
    """What the provider answers: one tool call (``raw`` replaces the JSON of its arguments)."""

    tool: str
    args: dict[str, Any]
    call_id: str = "call_1"
    raw: str | None = None

    @property
    def arguments(self) -> str:
        return self.raw if self.raw is not None else json.dumps(self.args)


def _sse(events: list[Any], *, named: bool = False, done: bool = False) -> str:
    lines = []
    for item in events:
        if named:
            lines.append(f"event: {item['type']}\ndata: {json.dumps(item)}\n\n")
        else:
            lines.append(f"data: {json.dumps(item)}\n\n")
    if done:
        lines.append("data: [DONE]\n\n")
    return "".join(lines)


# --- OpenAI chat completions (also any OpenAI-compatible server) --------------------------------


def openai_reply(turn: Turn, model: str = "gpt-4o-mini-2024-07-18") -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": turn.call_id,
                                "type": "function",
                                "function": {"name": turn.tool, "arguments": turn.arguments},
                            }
                        ],
                    },
                    "finish_reason": "tool_calls",
                }
            ],
            "usage": {
                "prompt_tokens": INPUT_TOKENS,
                "completion_tokens": OUTPUT_TOKENS,
                "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS,
            },
        },
    )


def openai_stream(turn: Turn, model: str = "gpt-4o-mini-2024-07-18") -> httpx.Response:
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": model}
    arguments = turn.arguments
    half = len(arguments) // 2

    def delta(value: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": value, "finish_reason": finish}]}

    def piece(text: str) -> dict[str, Any]:
        return delta({"tool_calls": [{"index": 0, "function": {"arguments": text}}]})

    first_call = {
        "index": 0,
        "id": turn.call_id,
        "type": "function",
        "function": {"name": turn.tool, "arguments": ""},
    }
    chunks = [
        delta({"role": "assistant", "content": None, "tool_calls": [first_call]}),
        piece(arguments[:half]),
        piece(arguments[half:]),
        delta({}, "tool_calls"),
        {
            **base,
            "choices": [],
            "usage": {
                "prompt_tokens": INPUT_TOKENS,
                "completion_tokens": OUTPUT_TOKENS,
                "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS,
            },
        },
    ]
    return httpx.Response(
        200, text=_sse(chunks, done=True), headers={"content-type": "text/event-stream"}
    )


def openai_sent(body: dict[str, Any]) -> tuple[list[str], list[str]]:
    tools = [tool["function"]["name"] for tool in body.get("tools", [])]
    results = [m["content"] for m in body["messages"] if m["role"] == "tool"]
    return tools, [r if isinstance(r, str) else json.dumps(r) for r in results]


# --- Anthropic messages -----------------------------------------------------------------------


def anthropic_reply(turn: Turn, model: str = "claude-haiku-4-5-20251001") -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [
                {"type": "text", "text": "Calling a tool."},
                {"type": "tool_use", "id": turn.call_id, "name": turn.tool, "input": turn.args},
            ],
            "stop_reason": "tool_use",
            "stop_sequence": None,
            "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": OUTPUT_TOKENS},
        },
    )


def anthropic_stream(turn: Turn, model: str = "claude-haiku-4-5-20251001") -> httpx.Response:
    arguments = turn.arguments
    half = len(arguments) // 2
    events = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_01",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": 1},
            },
        },
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {
                "type": "tool_use",
                "id": turn.call_id,
                "name": turn.tool,
                "input": {},
            },
        },
        *[
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": part},
            }
            for part in (arguments[:half], arguments[half:])
        ],
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": None},
            "usage": {"output_tokens": OUTPUT_TOKENS},
        },
        {"type": "message_stop"},
    ]
    return httpx.Response(
        200, text=_sse(events, named=True), headers={"content-type": "text/event-stream"}
    )


def anthropic_sent(body: dict[str, Any]) -> tuple[list[str], list[str]]:
    tools = [tool["name"] for tool in body.get("tools", [])]
    results = [
        block["content"] if isinstance(block["content"], str) else json.dumps(block["content"])
        for message in body["messages"]
        if isinstance(message["content"], list)
        for block in message["content"]
        if block.get("type") == "tool_result"
    ]
    return tools, results


# --- Gemini generateContent -------------------------------------------------------------------


def _gemini_body(turn: Turn, model: str) -> dict[str, Any]:
    return {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [{"functionCall": {"name": turn.tool, "args": turn.args}}],
                },
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": INPUT_TOKENS,
            "candidatesTokenCount": OUTPUT_TOKENS,
            "totalTokenCount": INPUT_TOKENS + OUTPUT_TOKENS,
        },
        "modelVersion": model,
        "responseId": "resp-1",
    }


def gemini_reply(turn: Turn, model: str = "gemini-2.5-flash") -> httpx.Response:
    return httpx.Response(200, json=_gemini_body(turn, model))


def gemini_stream(turn: Turn, model: str = "gemini-2.5-flash") -> httpx.Response:
    return httpx.Response(
        200,
        text=_sse([_gemini_body(turn, model)]),
        headers={"content-type": "text/event-stream"},
    )


def gemini_sent(body: dict[str, Any]) -> tuple[list[str], list[str]]:
    tools = [
        declaration["name"]
        for tool in body.get("tools", [])
        for declaration in tool.get("functionDeclarations", tool.get("function_declarations", []))
    ]
    results = [
        json.dumps(part["function_response"]["response"])
        if "function_response" in part
        else json.dumps(part["functionResponse"]["response"])
        for content in body["contents"]
        for part in content["parts"]
        if "function_response" in part or "functionResponse" in part
    ]
    return tools, results


# --- Ollama /api/chat ---------------------------------------------------------------------


def _ollama_message(turn: Turn) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"function": {"name": turn.tool, "arguments": turn.args}}],
    }


def ollama_reply(turn: Turn, model: str = "llama3.1") -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "model": model,
            "created_at": "2026-11-30T10:00:00.000Z",
            "message": _ollama_message(turn),
            "done_reason": "stop",
            "done": True,
            "prompt_eval_count": INPUT_TOKENS,
            "eval_count": OUTPUT_TOKENS,
        },
    )


def ollama_stream(turn: Turn, model: str = "llama3.1") -> httpx.Response:
    lines = [
        {
            "model": model,
            "created_at": "2026-11-30T10:00:00.000Z",
            "message": _ollama_message(turn),
            "done": False,
        },
        {
            "model": model,
            "created_at": "2026-11-30T10:00:01.000Z",
            "message": {"role": "assistant", "content": ""},
            "done_reason": "stop",
            "done": True,
            "prompt_eval_count": INPUT_TOKENS,
            "eval_count": OUTPUT_TOKENS,
        },
    ]
    text = "".join(json.dumps(line) + "\n" for line in lines)
    return httpx.Response(200, text=text, headers={"content-type": "application/x-ndjson"})


def ollama_sent(body: dict[str, Any]) -> tuple[list[str], list[str]]:
    tools = [tool["function"]["name"] for tool in body.get("tools", [])]
    results = [m["content"] for m in body["messages"] if m["role"] == "tool"]
    return tools, results


@dataclass(frozen=True)
class Provider:
    """One provider: how to call it through litellm and how it answers."""

    name: str
    model: str
    url: re.Pattern[str]
    reply: Callable[[Turn], httpx.Response]
    stream: Callable[[Turn], httpx.Response]
    sent: Callable[[dict[str, Any]], tuple[list[str], list[str]]]
    options: dict[str, Any] = field(default_factory=dict)
    price: str = "paid"
    """What litellm's local cost map says of ``model``: "paid", "free" (local models) or
    "unknown" (not in the map: ``cost_usd`` is None)."""


PROVIDERS = [
    Provider(
        "openai",
        "openai/gpt-4o-mini",
        re.compile(r"^https://api\.openai\.com/v1/chat/completions$"),
        openai_reply,
        openai_stream,
        openai_sent,
        {"api_key": "sk-test"},
    ),
    Provider(
        "anthropic",
        "anthropic/claude-haiku-4-5",
        re.compile(r"^https://api\.anthropic\.com/v1/messages$"),
        anthropic_reply,
        anthropic_stream,
        anthropic_sent,
        {"api_key": "sk-ant-test"},
    ),
    Provider(
        "gemini",
        "gemini/gemini-2.5-flash",
        re.compile(
            r"^https://generativelanguage\.googleapis\.com/v1beta/models/gemini-2\.5-flash:"
            r"(generateContent|streamGenerateContent)"
        ),
        gemini_reply,
        gemini_stream,
        gemini_sent,
        {"api_key": "gemini-test"},
    ),
    Provider(
        "ollama",
        "ollama/llama3.1",
        re.compile(r"^http://ollama\.test:11434/api/chat$"),
        ollama_reply,
        ollama_stream,
        ollama_sent,
        {"api_base": "http://ollama.test:11434"},
        price="free",
    ),
    Provider(
        "openai-compatible",
        "openai/qwen2.5-7b-instruct",
        re.compile(r"^http://llm\.test:8000/v1/chat/completions$"),
        lambda turn: openai_reply(turn, "qwen2.5-7b-instruct"),
        lambda turn: openai_stream(turn, "qwen2.5-7b-instruct"),
        openai_sent,
        {"api_base": "http://llm.test:8000/v1", "api_key": "local"},
        price="unknown",
    ),
]
