"""EventToolkit: registry events as LLM tools, with validation and retrieval at scale.

The Chroma event index lives in :mod:`soorma_lc.toolkit.index` (imported on first use).
"""

from soorma_lc.toolkit.context import CONTEXT_CONFIG_KEY, ToolContext
from soorma_lc.toolkit.formats import format_as_prompt_text, format_for_llm
from soorma_lc.toolkit.naming import ToolNameMap, sanitize_tool_name
from soorma_lc.toolkit.publishing import PublishReceipt, SupportsPublish
from soorma_lc.toolkit.toolkit import EventToolkit
from soorma_lc.toolkit.tools import EventTool

__all__ = [
    "CONTEXT_CONFIG_KEY",
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
