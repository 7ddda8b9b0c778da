"""The metadata an event tool stamps on what it publishes, and where a call finds it.

A caller sets a default :class:`ToolContext` when building tools; a LangGraph node can override
it per call, either through the run config (``config["configurable"]["soorma_context"]``) or as
the graph's runtime context (``graph.ainvoke(..., context=ToolContext(...))`` with
``context_schema=ToolContext``). Later sources override earlier ones field by field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from langchain_core.runnables import RunnableConfig
from pydantic import ConfigDict

from soorma_lc.errors import ConfigurationError
from soorma_lc.events import EventRouting

CONTEXT_CONFIG_KEY = "soorma_context"
_RUNTIME_CONFIG_KEY = "__pregel_runtime"  # where LangGraph keeps its Runtime in the config


class ToolContext(EventRouting):
    """Metadata stamped on published events: the routing fields (tenant, user, session, plan,
    goal, correlation, trace; see :class:`~soorma_lc.events.EventRouting`), plus the event's
    parent, source and the result event to ask for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    parent_event_id: str | None = None
    source: str | None = None
    response_event: str | None = None
    """Overrides the result event name the toolkit would choose for request events."""

    def merged(self, other: ToolContext | None) -> Self:
        """This context with every field that ``other`` sets replacing ours."""
        if other is None:
            return self
        return self.model_copy(update=other.model_dump(exclude_none=True))


def coerce_context(value: Any) -> ToolContext | None:
    """``value`` as a ToolContext (a ToolContext, a mapping of its fields, or None)."""
    if value is None or isinstance(value, ToolContext):
        return value
    if isinstance(value, Mapping):
        try:
            return ToolContext.model_validate(dict(value))
        except ValueError as exc:
            raise ConfigurationError(f"invalid tool context: {exc}") from exc
    raise ConfigurationError(
        f"tool context must be a ToolContext or a mapping, not {type(value).__name__}"
    )


def context_for_call(default: ToolContext | None, config: RunnableConfig | None) -> ToolContext:
    """The effective context of one tool call: default < LangGraph runtime context < config."""
    context = default or ToolContext()
    configurable = (config or {}).get("configurable") or {}
    runtime = configurable.get(_RUNTIME_CONFIG_KEY)
    runtime_context = getattr(runtime, "context", None)
    if isinstance(runtime_context, ToolContext):
        context = context.merged(runtime_context)
    return context.merged(coerce_context(configurable.get(CONTEXT_CONFIG_KEY)))
