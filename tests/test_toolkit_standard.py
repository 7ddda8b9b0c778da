"""LangChain's standard tool suites (langchain-tests) run against a generated event tool."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from langchain_core.tools import BaseTool
from langchain_tests.integration_tests import ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests

from soorma_lc.bus import RedisStreamsBus
from soorma_lc.registry.memory import InMemoryRegistry
from soorma_lc.toolkit import EventToolkit, ToolContext
from tests.toolkit_helpers import ORDER, VALID_ORDER

_OFFLINE_TOOLKIT = EventToolkit(InMemoryRegistry())
_CONTEXT = ToolContext(tenant_id="tenant-std", plan_id="plan-std")


class _OrderTool:
    """The tool under test for both suites: the ORDER event's tool and a valid call."""

    @property
    def tool_constructor(self) -> BaseTool:
        [tool] = _OFFLINE_TOOLKIT.as_tools([ORDER], context=_CONTEXT)
        return tool

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return VALID_ORDER


class TestEventToolUnit(_OrderTool, ToolsUnitTests):
    pass


class TestEventToolIntegration(_OrderTool, ToolsIntegrationTests):
    """Invocations publish for real on the module's embedded Redis."""

    @pytest.fixture
    async def tool(self, redis_url: str) -> AsyncIterator[BaseTool]:
        toolkit = EventToolkit(
            InMemoryRegistry(), RedisStreamsBus.from_url(redis_url), context=_CONTEXT
        )
        [tool] = toolkit.as_tools([ORDER])
        yield tool
        await toolkit.aclose(close_bus=True)
