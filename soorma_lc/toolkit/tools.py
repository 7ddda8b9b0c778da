"""EventTool: one registry event as a LangChain tool that validates and publishes it.

The tool's argument schema is the event's JSON Schema as a dict, so ``bind_tools`` on any chat
model sends the schema exactly as registered. Invoking the tool validates the arguments with
``jsonschema`` and publishes exactly one envelope; invalid input never reaches the bus.
"""

from __future__ import annotations

import logging
from typing import Any, NoReturn

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, ToolException
from pydantic import ConfigDict, SkipValidation

from soorma_lc.backends.loop_bridge import LoopBridge
from soorma_lc.errors import (
    ConfigurationError,
    PayloadValidationError,
    SerializationError,
    SoormaError,
    SoormaValidationError,
)
from soorma_lc.events import EventDefinition, EventEnvelope
from soorma_lc.toolkit.context import ToolContext, context_for_call
from soorma_lc.toolkit.publishing import PublishReceipt, SupportsPublish, build_envelope
from soorma_lc.toolkit.validation import SchemaValidator, require_object, require_plain_object

logger = logging.getLogger(__name__)

REJECTED_INPUT = (SoormaValidationError, SerializationError)
"""Errors that mean the call's input is unusable (invalid, too large, not JSON): with
``handle_errors`` the model gets them as a message and can fix its call."""


def error_for_llm(tool_name: str, error: SoormaError) -> str:
    """The text an LLM gets back when its tool call was rejected."""
    if isinstance(error, PayloadValidationError):
        problems = "\n".join(f"- {problem}" for problem in error.errors)
        return (
            f"Tool {tool_name} was not called: its arguments are invalid.\n{problems}\n"
            "Fix every problem listed and call the tool again."
        )
    return f"Tool {tool_name} was not called: {error}"


class EventTool(BaseTool):
    """Publishes one registry event; the arguments are the event's payload."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    event: SkipValidation[EventDefinition]
    validator: SkipValidation[SchemaValidator]
    bus: SkipValidation[SupportsPublish | None] = None
    bridge: SkipValidation[LoopBridge]
    context: ToolContext | None = None
    response_format: str = "content_and_artifact"

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        refused = self._check_call(input)
        return refused if refused is not None else super().invoke(input, config, **kwargs)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        refused = self._check_call(input)
        return refused if refused is not None else await super().ainvoke(input, config, **kwargs)

    def _check_call(self, value: Any) -> ToolMessage | str | None:
        """Refuse arguments that are not a plain JSON object before LangChain sees them (it
        copies and prints a call's input before any tool code runs, which fails on values
        nested thousands deep or referring to themselves). With ``handle_errors`` the refusal
        is the answer: an error tool message for a tool call, the error text for plain input."""
        is_call = isinstance(value, dict) and value.get("type") == "tool_call"
        arguments = value.get("args") if is_call else value
        try:
            require_plain_object(arguments, event_name=self.event.event_name, what="arguments")
        except PayloadValidationError as error:
            if not self.handle_tool_error:
                raise
            logger.info("tool %s rejected a call: %s", self.name, error)
            content = error_for_llm(self.name, error)
            if not is_call:
                return content
            return ToolMessage(
                content=content,
                tool_call_id=str(value.get("id") or ""),
                name=self.name,
                status="error",
            )
        return None

    def _check_object(self, arguments: Any) -> None:
        try:
            require_object(arguments, event_name=self.event.event_name, what="arguments")
        except PayloadValidationError as error:
            self._reject(error)

    def _to_args_and_kwargs(
        self, tool_input: str | dict[str, Any], tool_call_id: str | None
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        # The payload travels as one positional argument so that payload fields named like
        # run() parameters ("config", "run_manager") cannot collide with them.
        self._check_object(tool_input)
        return (dict(tool_input),), {}

    def _reject(self, error: SoormaError) -> NoReturn:
        logger.info("tool %s rejected a call: %s", self.name, error)
        if self.handle_tool_error:
            raise ToolException(error_for_llm(self.name, error)) from error
        raise error

    def _prepare(self, payload: Any, config: RunnableConfig | None) -> EventEnvelope:
        if self.bus is None:
            raise ConfigurationError(
                "this EventToolkit has no bus: pass bus=... to EventToolkit to publish events"
            )
        try:
            data = self.validator.validated(payload, event_name=self.event.event_name)
            return build_envelope(
                self.event, data, context_for_call(self.context, config), self.bus
            )
        except REJECTED_INPUT as error:
            self._reject(error)

    async def _publish(self, envelope: EventEnvelope) -> None:
        """Publish on the tool's bus; an event the bus refuses (too large, data it cannot
        carry) is a rejected call, like invalid arguments: nothing was written."""
        bus = self.bus
        try:
            await bus.publish(envelope)  # type: ignore[union-attr]  # _prepare checked it
        except REJECTED_INPUT as error:
            self._reject(error)

    def _run(
        self,
        payload: dict[str, Any],
        *,
        config: RunnableConfig,
        run_manager: CallbackManagerForToolRun | None = None,
    ) -> tuple[str, dict[str, Any]]:
        envelope = self._prepare(payload, config)
        self.bridge.run(self._publish, envelope)
        return self._done(self._receipt(envelope))

    async def _arun(
        self,
        payload: dict[str, Any],
        *,
        config: RunnableConfig,
        run_manager: AsyncCallbackManagerForToolRun | None = None,
    ) -> tuple[str, dict[str, Any]]:
        return self._done(await self.apublish(payload, config))

    async def apublish(self, payload: Any, config: RunnableConfig | None = None) -> PublishReceipt:
        """Validate ``payload`` and publish the event, as a call of this tool does."""
        envelope = self._prepare(payload, config)
        await self.bridge.arun(self._publish, envelope)
        return self._receipt(envelope)

    def _receipt(self, envelope: EventEnvelope) -> PublishReceipt:
        receipt = PublishReceipt.of(envelope)
        logger.debug("tool %s published %s (%s)", self.name, receipt.event_name, receipt.event_id)
        return receipt

    @staticmethod
    def _done(receipt: PublishReceipt) -> tuple[str, dict[str, Any]]:
        return receipt.acknowledgement(), receipt.model_dump()
