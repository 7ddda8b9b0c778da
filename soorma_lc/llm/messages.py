"""LangChain messages to litellm's OpenAI format, and litellm's answers back.

Requests go out in OpenAI chat format (litellm translates them for every provider); answers
come back as :class:`AIMessage` / :class:`AIMessageChunk` with tool calls, token usage in
``usage_metadata`` and, in ``response_metadata``, the model string that answered
(``model_name``) and the price of the call (``cost_usd``, None when litellm has no price).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import ToolCall, tool_call, tool_call_chunk
from langchain_core.messages.utils import convert_to_openai_messages

from soorma_lc.errors import MalformedToolCallError
from soorma_lc.llm.usage import cost_usd, usage_metadata


def openai_messages(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """The conversation in OpenAI chat format."""
    converted = convert_to_openai_messages(list(messages))
    return converted if isinstance(converted, list) else [converted]


def _field(source: Any, name: str) -> Any:
    return source.get(name) if isinstance(source, dict) else getattr(source, name, None)


def _arguments(raw: Any, *, model: str, name: str | None) -> dict[str, Any]:
    """A tool call's arguments as a dict; raises :class:`MalformedToolCallError` otherwise."""
    if isinstance(raw, dict):
        return raw
    text = raw if isinstance(raw, str) else ""
    try:
        parsed = json.loads(text) if text.strip() else {}
        problem = "" if isinstance(parsed, dict) else "are not a JSON object"
    except json.JSONDecodeError as error:
        problem = f"are not valid JSON ({error})"
    if problem:
        raise MalformedToolCallError(
            f"{model}: the arguments of tool call {name!r} {problem}: {text[:500]!r}",
            model=model,
            tool_name=name,
            arguments=text,
        )
    return parsed


def _tool_calls(raw_calls: Any, *, model: str) -> list[ToolCall]:
    calls = []
    for raw in raw_calls or []:
        function = _field(raw, "function")
        name = _field(function, "name")
        args = _arguments(_field(function, "arguments"), model=model, name=name)
        calls.append(tool_call(name=name or "", args=args, id=_field(raw, "id")))
    return calls


def response_metadata(
    model: str, provider_model: str | None, usage: Any, finish_reason: Any = None
) -> dict[str, Any]:
    """``model_name`` (the model string that answered), ``cost_usd`` and provider details."""
    metadata: dict[str, Any] = {
        "model_name": model,
        "cost_usd": cost_usd(usage, model, provider_model),
        "model_provider": "litellm",
    }
    if provider_model:
        metadata["provider_model"] = provider_model
    if finish_reason:
        metadata["finish_reason"] = finish_reason
    return metadata


def ai_message(response: Any, model: str) -> AIMessage:
    """The first choice of a litellm ``ModelResponse`` as an :class:`AIMessage`."""
    choice = response.choices[0]
    message = choice.message
    usage = _field(response, "usage")
    return AIMessage(
        content=_field(message, "content") or "",
        tool_calls=_tool_calls(_field(message, "tool_calls"), model=model),
        usage_metadata=usage_metadata(usage),
        response_metadata=response_metadata(
            model, _field(response, "model"), usage, _field(choice, "finish_reason")
        ),
        id=_field(response, "id"),
    )


class StreamAssembler:
    """Turns litellm stream chunks into :class:`AIMessageChunk`s and checks the tool calls.

    Content and tool-call pieces go out as they arrive. Usage, price, finish reason and the
    model name go out once, on the closing chunk from :meth:`finish` (LangChain adds chunks up,
    so a value sent twice would be counted twice). :meth:`finish` also parses each assembled
    tool call and raises :class:`MalformedToolCallError` if one is not a JSON object.
    """

    def __init__(self, model: str) -> None:
        self.model = model
        self._arguments: dict[int, str] = {}
        self._names: dict[int, str | None] = {}
        self._usage: Any = None
        self._provider_model: str | None = None
        self._finish_reason: Any = None

    def chunk(self, raw: Any) -> AIMessageChunk:
        """One litellm ``ModelResponseStream`` as a LangChain message chunk."""
        choices = _field(raw, "choices") or []
        delta = _field(choices[0], "delta") if choices else None
        if choices and _field(choices[0], "finish_reason"):
            self._finish_reason = _field(choices[0], "finish_reason")
        if _field(raw, "usage") is not None:
            self._usage = _field(raw, "usage")
        self._provider_model = _field(raw, "model") or self._provider_model
        pieces = [
            self._tool_call_piece(position, call)
            for position, call in enumerate(_field(delta, "tool_calls") or [])
        ]
        return AIMessageChunk(
            content=_field(delta, "content") or "", tool_call_chunks=pieces, id=_field(raw, "id")
        )

    def _tool_call_piece(self, position: int, call: Any) -> Any:
        index = _field(call, "index")
        index = index if isinstance(index, int) else position
        function = _field(call, "function")
        name, arguments = _field(function, "name"), _field(function, "arguments")
        if isinstance(arguments, dict):  # some adapters send whole argument objects
            arguments = json.dumps(arguments)
        if name:
            self._names[index] = name
        self._arguments[index] = self._arguments.get(index, "") + (arguments or "")
        return tool_call_chunk(name=name, args=arguments, id=_field(call, "id"), index=index)

    def finish(self) -> AIMessageChunk:
        """The closing chunk with usage and metadata, once every tool call parsed."""
        for index in sorted(self._arguments):
            _arguments(self._arguments[index], model=self.model, name=self._names.get(index))
        return AIMessageChunk(
            content="",
            usage_metadata=usage_metadata(self._usage),
            response_metadata=response_metadata(
                self.model, self._provider_model, self._usage, self._finish_reason
            ),
            chunk_position="last",
        )
