"""The planner's resilience policies: budgets, request retries, escalation to a person.

Each is a small frozen object with a documented rule, passed to
:class:`~soorma_lc.planners.ChoreographyPlanner`; every time one acts it is logged and recorded
in the plan's history.
"""

from __future__ import annotations

from dataclasses import dataclass

from soorma_lc.errors import ConfigurationError, InvalidEventError
from soorma_lc.events import EventTopic, parse_topic

CANCEL_EVENT = "plan.cancel.requested"
"""Published (on plan-events, with the plan's id and scope) to cancel a plan."""
REVIEW_REQUESTED_EVENT = "plan.review.requested"
"""What a plan publishes (on plan-events) when it pauses for a person's review."""
REVIEW_COMPLETED_EVENT = "plan.review.completed"
"""The answer to a review request: ``{"approved": bool, "instruction": str}``."""


def _positive(name: str, value: float | None) -> None:
    if value is not None and (isinstance(value, bool) or not value > 0):
        raise ConfigurationError(f"{name} must be positive (got {value!r})")


@dataclass(frozen=True)
class Budget:
    """Limits per plan besides the action count. Past one, the plan publishes nothing more and
    completes (forced) with the best content it has, the reason naming the limit.

    ``tokens``: input plus output tokens over all model calls; ``cost_usd``: model cost (as
    litellm prices it); ``seconds``: wall-clock time from the goal, enforced by a durable timer
    even while the plan waits.
    """

    tokens: int | None = None
    cost_usd: float | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        _positive("Budget.tokens", self.tokens)
        _positive("Budget.cost_usd", self.cost_usd)
        _positive("Budget.seconds", self.seconds)

    def exceeded(self, *, tokens: int, cost_usd: float, elapsed: float) -> str | None:
        """Which limit the plan is over, in words (None when within every limit)."""
        if self.tokens is not None and tokens >= self.tokens:
            return f"token budget exhausted ({tokens} of {self.tokens} tokens used)"
        if self.cost_usd is not None and cost_usd >= self.cost_usd:
            return f"cost budget exhausted (${cost_usd:.4f} of ${self.cost_usd:.4f} spent)"
        if self.seconds is not None and elapsed >= self.seconds:
            return f"time budget exhausted ({elapsed:.1f} s of {self.seconds:g} s)"
        return None


@dataclass(frozen=True)
class RetryPolicy:
    """What happens when a request's response deadline passes: it is published again (same
    payload, a new id) up to ``attempts`` more times, each deadline ``backoff`` times longer
    than the last; then the model is told that the request timed out. A result of any attempt
    is accepted, once."""

    attempts: int = 2
    backoff: float = 2.0

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            raise ConfigurationError(f"RetryPolicy.attempts must be an int (got {self.attempts!r})")
        if self.attempts < 0:
            raise ConfigurationError("RetryPolicy.attempts must be >= 0")
        _positive("RetryPolicy.backoff", self.backoff)

    def timeout(self, base: float, attempt: int) -> float:
        """The response deadline of attempt ``attempt`` (0 = the first publication)."""
        return base * self.backoff**attempt


@dataclass(frozen=True)
class EscalationPolicy:
    """When a plan stops to ask a person instead of failing or forcing a completion.

    With this policy, a plan whose model keeps deciding badly (``max_repairs`` exceeded) or that
    a guard says is stuck (a stall or a loop) pauses: its status becomes paused, it publishes
    ``plan.review.requested`` on ``topic`` with the evidence, and its graph waits. A
    ``plan.review.completed`` event (``ChoreographyPlanner.review``) resumes it: approved, the
    instruction is given to the model and the plan goes on; not approved, the plan fails. With
    no answer within ``timeout`` seconds, the plan fails.
    """

    timeout: float = 24 * 3600
    topic: EventTopic | str = EventTopic.PLAN_EVENTS
    """One of the eight topics or a custom one (``soorma_lc.events.TOPIC_PATTERN``)."""

    def __post_init__(self) -> None:
        _positive("EscalationPolicy.timeout", self.timeout)
        try:
            object.__setattr__(self, "topic", parse_topic(self.topic))
        except InvalidEventError as exc:
            raise ConfigurationError(f"EscalationPolicy.topic: {exc}") from exc
