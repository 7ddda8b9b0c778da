"""EventToolkit: registry events as LLM tools, with validation and retrieval at scale."""

from soorma_lc.toolkit.context import CONTEXT_CONFIG_KEY, ToolContext
from soorma_lc.toolkit.formats import format_as_prompt_text, format_for_llm
from soorma_lc.toolkit.index import EventIndex
from soorma_lc.toolkit.naming import ToolNameMap, sanitize_tool_name
from soorma_lc.toolkit.publishing import PublishReceipt, SupportsPublish
from soorma_lc.toolkit.toolkit import EventToolkit
from soorma_lc.toolkit.tools import EventTool

__all__ = [
    "CONTEXT_CONFIG_KEY",
    "EventIndex",
    "EventTool",
    "EventToolkit",
    "PublishReceipt",
    "SupportsPublish",
    "ToolContext",
    "ToolNameMap",
    "format_as_prompt_text",
    "format_for_llm",
    "sanitize_tool_name",
]
