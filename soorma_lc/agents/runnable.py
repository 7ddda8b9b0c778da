"""A LangChain Runnable (or compiled LangGraph graph) as a Worker handler.

The event's data is the input; the output becomes the response payload. Each event runs on its
own LangGraph thread (``thread_id`` = event id), so a redelivered event resumes its own
checkpoint rather than another event's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from langchain_core.messages import BaseMessage, message_to_dict
from pydantic import BaseModel

from soorma_lc.agents.context import AgentContext
from soorma_lc.agents.worker import EventHandler
from soorma_lc.errors import ConfigurationError, InvalidEventError
from soorma_lc.events import EventEnvelope


def to_payload(output: Any) -> dict[str, Any]:
    """A JSON-ready payload for a runnable's output (dicts kept, other values as ``output``)."""
    value = _jsonable(output)
    return value if isinstance(value, dict) else {"output": value}


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseMessage):
        return message_to_dict(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def runnable_handler(
    runnable: Any,
    *,
    response_event: str | None = None,
    input_mapper: Callable[[EventEnvelope], Any] | None = None,
    output_mapper: Callable[[Any], Mapping[str, Any]] | None = None,
    thread_key: Callable[[EventEnvelope], str] | None = None,
) -> EventHandler:
    """A handler that ``ainvoke``s ``runnable`` and responds with its output.

    The LangGraph thread is ``thread_key(event)`` (default: the event id, so a redelivered
    event resumes its own checkpoint; e.g. ``lambda e: e.session_id`` keeps one conversation
    per session), and the event's tenant is ``configurable["tenant_id"]``, where
    :class:`~soorma_lc.memory.RedisCheckpointSaver` scopes its keys.
    """
    if not callable(getattr(runnable, "ainvoke", None)):
        raise ConfigurationError(f"{runnable!r} is not a Runnable (it has no ainvoke)")

    async def handle(event: EventEnvelope, context: AgentContext) -> None:
        answer = response_event or event.response_event
        if not answer:
            raise InvalidEventError(
                f"event {event.id} names no response_event and the worker sets none"
            )
        inputs = input_mapper(event) if input_mapper else dict(event.data or {})
        thread_id = thread_key(event) if thread_key else event.id
        if not isinstance(thread_id, str) or not thread_id:
            raise InvalidEventError(f"thread_key gave no thread id for event {event.id}")
        configurable = {"thread_id": thread_id}
        if event.tenant_id:
            configurable["tenant_id"] = event.tenant_id
        config = {
            "configurable": configurable,
            "run_name": context.worker.name,
            "metadata": {
                "event_id": event.id,
                "event_type": event.type,
                "plan_id": event.plan_id,
                "correlation_id": event.correlation_id,
                "tenant_id": event.tenant_id,
            },
        }
        output = await runnable.ainvoke(inputs, config=config)
        payload = dict(output_mapper(output)) if output_mapper else to_payload(output)
        await context.bus.respond(event, answer, payload)

    return handle
