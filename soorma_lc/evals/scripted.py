"""The scripted model: a scenario's turns played back as a chat model with native tool calls.

Each model call takes the next turn, whatever the conversation says, as a recorded LLM would:
the scenario's author writes what a plausible model decides at each step, wrong choices
included, and the expectations test what the planner and its guards make of it. Arguments may
refer to the conversation (``${goal.topic}``, ``${last.findings}``,
``${result[draft.completed].draft}``; see :mod:`soorma_lc.evals.templates`), so payloads are
built from earlier results the way a model builds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from pydantic import ConfigDict, PrivateAttr, SkipValidation

from soorma_lc.errors import (
    ContextWindowExceededError,
    ModelAuthenticationError,
    ModelError,
    ModelRateLimitError,
    ModelUnavailableError,
)
from soorma_lc.evals.problems import TrialProblems
from soorma_lc.evals.scenario import ModelFailure, ScriptCall, ScriptTurn
from soorma_lc.evals.templates import TemplateError, render
from soorma_lc.llm.offline.transcript import json_objects, message_text
from soorma_lc.llm.tools import ToolLike, openai_tools
from soorma_lc.planners.decisions import DECISION_TOOLS
from soorma_lc.toolkit.naming import sanitize_tool_name

SCRIPTED_MODEL_NAME = "scripted"

_FAILURES: dict[ModelFailure, type[ModelError]] = {
    "unavailable": ModelUnavailableError,
    "rate_limit": ModelRateLimitError,
    "authentication": ModelAuthenticationError,
    "context_window": ContextWindowExceededError,
}


def conversation_scope(messages: Sequence[BaseMessage]) -> dict[str, Any]:
    """What a script may refer to: ``goal`` (the goal data), ``last`` (the latest result's
    data), ``result`` (the latest data per result event: results of requests, delegated goals
    and awaited events alike) and ``memory`` (the plan's working memory)."""
    humans = [m for m in messages if isinstance(m, HumanMessage)]
    goal = json_objects(message_text(humans[0])) if humans else []
    results = [
        m.artifact
        for m in messages
        if isinstance(m, ToolMessage) and isinstance(m.artifact, dict) and "event" in m.artifact
    ]
    memory = [
        found
        for m in messages
        if isinstance(m, SystemMessage)
        for found in json_objects(message_text(m))
    ]
    return {
        "goal": goal[0] if goal else None,
        "last": results[-1].get("data") if results else None,
        "result": {r["event"]: r.get("data") for r in results},
        "memory": memory[-1] if memory else None,
    }


def tool_for(name: str) -> str:
    """The tool a script's ``call`` means: a decision tool as is, an event by its tool name."""
    return name if name in DECISION_TOOLS else sanitize_tool_name(name)


class ScriptedPlannerModel(BaseChatModel):
    """Plays ``turns`` in order, one per call; ``problems`` hears about broken turns.

    When the turns run out it answers without a tool call (the planner rejects that) and
    reports it; usage is estimated from the messages, the cost is zero.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    turns: list[ScriptTurn]
    problems: SkipValidation[TrialProblems | None] = None
    planner: str = "planner"
    _position: int = PrivateAttr(default=0)

    @property
    def _llm_type(self) -> str:
        return SCRIPTED_MODEL_NAME

    def bind_tools(
        self, tools: Sequence[ToolLike], **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return super().bind(tools=openai_tools(tools), **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = self._next(messages)
        text = str(message.content) + "".join(str(c["args"]) for c in message.tool_calls)
        message.usage_metadata = UsageMetadata(
            input_tokens=count_tokens_approximately(messages),
            output_tokens=max(1, len(text) // 4),
            total_tokens=count_tokens_approximately(messages) + max(1, len(text) // 4),
        )
        message.response_metadata = {"model_name": SCRIPTED_MODEL_NAME, "cost_usd": 0.0}
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        # Played on the event loop: a turn is cheap, and problems are reported in order.
        return self._generate(messages, stop, None, **kwargs)

    def _next(self, messages: list[BaseMessage]) -> AIMessage:
        number = self._position + 1
        if self._position >= len(self.turns):
            self._report(f"{self.planner}: the script ran out after {len(self.turns)} turns")
            return AIMessage("(the script has no more turns)")
        turn = self.turns[self._position]
        self._position += 1
        if turn.error:
            raise _FAILURES[turn.error](f"scripted {turn.error} failure", model=SCRIPTED_MODEL_NAME)
        try:
            return _reply(turn, conversation_scope(messages), number)
        except TemplateError as exc:
            self._report(f"{self.planner}: script turn {number}: {exc}", fatal=True)
            return AIMessage(f"(script error: {exc})")

    def _report(self, message: str, *, fatal: bool = False) -> None:
        if self.problems is not None:
            self.problems.add(message, fatal=fatal)


def _reply(turn: ScriptTurn, scope: dict[str, Any], number: int) -> AIMessage:
    say = str(render(turn.say, scope))
    if turn.call is None:
        return AIMessage(say)
    first = ScriptCall(call=turn.call, args=turn.args, raw=turn.raw)
    calls, invalid = [], []
    for index, item in enumerate([first, *turn.also]):
        call_id = f"script_{number}" + (f"_{index}" if index else "")
        if item.raw is not None:
            invalid.append(
                {
                    "type": "invalid_tool_call",
                    "name": tool_for(item.call),
                    "args": item.raw,
                    "id": call_id,
                    "error": "the arguments are not valid JSON",
                }
            )
            continue
        args = render(item.args, scope)
        calls.append(
            {"name": tool_for(item.call), "args": args, "id": call_id, "type": "tool_call"}
        )
    return AIMessage(say, tool_calls=calls, invalid_tool_calls=invalid)
