"""The planner's policy and the services its graph runs on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from langchain_core.language_models import BaseChatModel

from soorma_lc.planners.guards import Guard
from soorma_lc.planners.ledger import PlanLedger
from soorma_lc.planners.offer import EventFilter
from soorma_lc.planners.policies import Budget, EscalationPolicy, RetryPolicy
from soorma_lc.planners.timers import PlanTimers

if TYPE_CHECKING:
    from soorma_lc.bus.publisher import BusPublisher
    from soorma_lc.memory.client import MemoryClient
    from soorma_lc.toolkit import EventToolkit


@dataclass(frozen=True)
class PlannerConfig:
    """The planner's policy (see :class:`~soorma_lc.planners.ChoreographyPlanner`)."""

    name: str
    goal_events: frozenset[str]
    max_actions: int = 10
    max_repairs: int = 3
    max_steps: int | None = None
    max_tools: int = 12
    max_model_failures: int = 3
    system_instructions: str | None = None
    response_timeout: float | None = None
    compensation_timeout: float = 60.0
    context_tokens: int = 12_000
    result_chars: int = 8_000
    cleanup_on_completion: bool = False
    log_episodes: bool = True
    allow: EventFilter | None = None
    budget: Budget | None = None
    retry: RetryPolicy | None = None
    escalation: EscalationPolicy | None = None

    @property
    def step_limit(self) -> int:
        """Decisions a plan may make in all (actions, rejections, searches, waits)."""
        return self.max_steps or 4 * self.max_actions + 10


@dataclass
class PlannerServices:
    """What the graph's nodes use; the planner builds these from its settings."""

    config: PlannerConfig
    model: BaseChatModel
    toolkit: EventToolkit
    bus: BusPublisher
    memory: MemoryClient
    ledger: PlanLedger
    timers: PlanTimers
    guards: Sequence[Guard]
