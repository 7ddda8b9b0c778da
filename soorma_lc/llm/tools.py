"""Tools and ``tool_choice`` in OpenAI function format, the form litellm and the offline
planner both read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

ToolLike = dict[str, Any] | type | Callable[..., Any] | BaseTool
_KEYWORD_CHOICES = frozenset({"auto", "none", "required"})


def openai_tools(tools: Sequence[ToolLike]) -> list[dict[str, Any]]:
    """Tools (LangChain tools, pydantic models, functions, dicts) in OpenAI function format."""
    return [convert_to_openai_tool(tool) for tool in tools]


def openai_tool_choice(choice: Any) -> Any:
    """LangChain's ``tool_choice`` conventions in OpenAI form.

    ``"any"``/``True`` force some tool (``"required"``); a tool name forces that tool;
    ``"auto"``, ``"none"``, ``"required"`` and dicts pass through; None/False leave it unset.
    """
    if choice is None or choice is False:
        return None
    if choice is True or choice == "any":
        return "required"
    if isinstance(choice, str) and choice not in _KEYWORD_CHOICES:
        return {"type": "function", "function": {"name": choice}}
    return choice


class OpenAIToolBinding(BaseChatModel):
    """``bind_tools`` for chat models that take OpenAI-format tools (LangChain tools or dicts)
    and an optional ``tool_choice``; both our models share it."""

    def bind_tools(
        self,
        tools: Sequence[ToolLike],
        *,
        tool_choice: str | dict[str, Any] | bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind ``tools`` (and ``tool_choice``) in OpenAI function format."""
        choice = openai_tool_choice(tool_choice)
        if choice is not None:
            kwargs["tool_choice"] = choice
        return super().bind(tools=openai_tools(tools), **kwargs)
