"""OfflinePlannerModel: a deterministic chat model that plans with a heuristic, not an LLM.

It runs when no LLM is configured, so demos and examples work on a fresh machine without a
key, and it is the non-LLM baseline eval reports compare real models against. It answers every
call with exactly one tool call chosen by :mod:`soorma_lc.llm.offline.policy`, and says in the
message text and in the call's ``reasoning`` that the decision comes from the offline
heuristic. Usage is zero, ``response_metadata["model_name"]`` is ``"soorma-offline-planner"``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.embeddings import Embeddings
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import tool_call
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict, Field, SkipValidation

from soorma_lc.backends.embeddings import HashingEmbeddings
from soorma_lc.llm.offline.policy import DECISION_TOOLS, OFFLINE_LABEL, Planner, ToolSpec
from soorma_lc.llm.offline.transcript import read_transcript
from soorma_lc.llm.tools import OpenAIToolBinding

OFFLINE_MODEL_NAME = "soorma-offline-planner"
_CALL_ID = re.compile(r"offline_(\d+)")


class OfflinePlannerModel(OpenAIToolBinding):
    """The offline heuristic planner as a LangChain chat model (bind tools, then invoke).

    ``embeddings`` measure relevance; the thresholds are calibrated for the default
    :class:`~soorma_lc.backends.embeddings.HashingEmbeddings` (offline, no download).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    embeddings: SkipValidation[Embeddings] = Field(default_factory=HashingEmbeddings)

    @property
    def _llm_type(self) -> str:
        return OFFLINE_MODEL_NAME

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tools = [ToolSpec.of(tool) for tool in kwargs.get("tools") or []]
        forced = _forced_tool(kwargs.get("tool_choice"))
        if forced is not None:
            tools = [tool for tool in tools if tool.name == forced]
        transcript = read_transcript(messages, DECISION_TOOLS)
        decision = None
        if kwargs.get("tool_choice") != "none":
            decision = Planner(transcript, tools, self.embeddings).decide()
        if decision is None:
            text = "No tool to call: complete_goal is not offered, so nothing can be decided."
            calls = []
        else:
            text = decision.explanation
            calls = [tool_call(name=decision.tool, args=decision.args, id=_next_call_id(messages))]
        message = AIMessage(
            content=f"[{OFFLINE_LABEL}] {text}",
            tool_calls=calls,
            usage_metadata=UsageMetadata(input_tokens=0, output_tokens=0, total_tokens=0),
            response_metadata={
                "model_name": OFFLINE_MODEL_NAME,
                "cost_usd": 0.0,
                "model_provider": "soorma",
            },
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


def _next_call_id(messages: Sequence[BaseMessage]) -> str:
    """``offline_<n>``, one past the highest such id in the conversation (unique even after a
    planner trimmed older messages away)."""
    numbers = [
        int(found.group(1))
        for message in messages
        if isinstance(message, AIMessage)
        for call in message.tool_calls
        if (found := _CALL_ID.fullmatch(call.get("id") or ""))
    ]
    return f"offline_{max(numbers, default=0) + 1}"


def _forced_tool(choice: Any) -> str | None:
    """The tool name an OpenAI-form ``tool_choice`` forces, if it forces one."""
    if isinstance(choice, dict):
        function = choice.get("function")
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            return function["name"]
    return None
