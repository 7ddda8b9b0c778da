"""One trial: a scenario's world and planners on an empty Redis database, one goal, observed.

The planners are real :class:`~soorma_lc.planners.ChoreographyPlanner`\\ s and the workers real
:class:`~soorma_lc.agents.Worker`\\ s on a real bus; only the workers' answers and, in scripted
mode, the model's decisions come from the scenario.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from soorma_lc.bus.streams import RedisStreamsBus
from soorma_lc.config import Settings
from soorma_lc.errors import PlanOutcomeTimeoutError
from soorma_lc.evals.backends import TrialSpace
from soorma_lc.evals.cassettes import Cassette, cassette_path, using
from soorma_lc.evals.checks import evaluate
from soorma_lc.evals.judge import judge_completion
from soorma_lc.evals.metrics import trial_metrics
from soorma_lc.evals.models import DETERMINISTIC, SCRIPTED, planner_model
from soorma_lc.evals.modes import Mode
from soorma_lc.evals.observe import Observation
from soorma_lc.evals.problems import TrialProblems
from soorma_lc.evals.results import JudgeVerdict, TrialResult
from soorma_lc.evals.scenario import GoalSpec, GuardSpec, PlannerSpec, Scenario
from soorma_lc.evals.world import populate, simulated_workers, steer_when_waiting
from soorma_lc.memory.checkpoint.saver import RedisCheckpointSaver
from soorma_lc.memory.client import MemoryClient
from soorma_lc.planners import (
    Budget,
    ChoreographyPlanner,
    EscalationPolicy,
    Guard,
    RepeatedActionGuard,
    RetryPolicy,
    VagueCompletionGuard,
)
from soorma_lc.planners.records import PlanOutcome, StepRecord
from soorma_lc.registry.redis import RedisRegistry

logger = logging.getLogger(__name__)

AGENT_OPTIONS: dict[str, Any] = {"shutdown_timeout": 2.0}
PLANNER_OPTIONS: dict[str, Any] = {"log_episodes": False, "lease_ttl": 2.0, "timer_interval": 0.05}
BUS_OPTIONS: dict[str, Any] = {"claim_idle": 2.0, "retry_backoff": 0.05}
"""Fast redelivery: a failing simulated worker is retried within a fraction of a second."""


@dataclass(frozen=True)
class TrialSetup:
    """How trials of a run are played."""

    mode: Mode = "scripted"
    temperature: float | None = None
    timeout: float | None = None
    """Seconds to wait for each plan's outcome (None: each scenario's own timeout)."""
    cassettes: Path | None = None
    """Replay: where cassettes are read; live: where they are recorded (None: not recorded)."""
    judge: BaseChatModel | None = None
    judge_name: str | None = None


def guards(specs: list[Any] | None) -> list[Guard] | None:
    """The guards a planner spec names (None: the planner's defaults)."""
    if specs is None:
        return None
    built: list[Guard] = []
    for item in specs:
        spec = item if isinstance(item, GuardSpec) else GuardSpec(name=item)
        if spec.name == "repeated_action":
            built.append(RepeatedActionGuard(spec.allowed))
        else:
            built.append(VagueCompletionGuard(substitute=spec.substitute))
    return built


def policies(spec: PlannerSpec) -> dict[str, Any]:
    """The planner's retry, budget and escalation policies a spec names."""
    chosen: dict[str, Any] = {}
    if spec.retry is not None:
        chosen["retry"] = RetryPolicy(attempts=spec.retry.attempts, backoff=spec.retry.backoff)
    if spec.budget is not None:
        chosen["budget"] = Budget(**spec.budget.model_dump())
    if spec.escalation is not None:
        chosen["escalation"] = EscalationPolicy(timeout=spec.escalation.timeout)
    return chosen


def _cassette(
    setup: TrialSetup, model: str, scenario: Scenario, number: int, problems: TrialProblems
) -> Cassette | None:
    if model in DETERMINISTIC or setup.cassettes is None:
        return None
    path = cassette_path(setup.cassettes, model, scenario.id, number)
    return Cassette(path, "replay" if setup.mode == "replay" else "record", problems)


async def run_trial(
    scenario: Scenario, model: str, number: int, space: TrialSpace, setup: TrialSetup
) -> TrialResult:
    """Play trial ``number`` of ``scenario`` with ``model`` in ``space``."""
    problems = TrialProblems()
    expect = scenario.expectations(scripted=model == SCRIPTED)
    cassette = _cassette(setup, model, scenario, number, problems)
    verdict: JudgeVerdict | None = None
    try:
        with using(cassette):
            seen = await _play(scenario, model, space.settings(scenario.id), problems, setup)
            result = seen.outcome.result if seen.outcome else None
            if setup.judge is not None and result:
                verdict = await judge_completion(
                    setup.judge,
                    name=setup.judge_name or "judge",
                    goal=scenario.goal.data,
                    completion=result,
                    rubric=expect.rubric,
                )
    except Exception as exc:  # a harness or backend failure fails this trial, not the run
        logger.exception("trial %d of %s with %s failed", number, scenario.id, model)
        problems.add(f"{type(exc).__name__}: {exc}", fatal=True)
        seen = Observation(outcome=None, fatal=True)
    finally:
        if cassette is not None and cassette.mode == "record":
            cassette.save()
    checks = evaluate(expect, seen)
    unique_problems = list(dict.fromkeys(problems.messages))
    return TrialResult(
        scenario=scenario.id,
        model=model,
        trial=number,
        passed=not unique_problems and all(check.passed for check in checks),
        termination=seen.termination,
        checks=checks,
        problems=unique_problems,
        outcome=seen.outcome.model_dump(mode="json") if seen.outcome else None,
        trajectory=seen.trajectory,
        decisions=seen.decisions,
        actions=seen.actions,
        history=[record.model_dump(mode="json") for record in seen.history],
        metrics=trial_metrics(seen, expect, max_actions=scenario.planner.max_actions),
        judge=verdict,
    )


async def _play(
    scenario: Scenario, model: str, settings: Settings, problems: TrialProblems, setup: TrialSetup
) -> Observation:
    bus = RedisStreamsBus.from_settings(
        settings, max_deliveries=scenario.bus.max_deliveries, **BUS_OPTIONS
    )
    registry = RedisRegistry.from_settings(settings)
    memory = MemoryClient.from_settings(settings)
    checkpointer = RedisCheckpointSaver.from_settings(settings)
    shared = {"bus": bus, "registry": registry, "memory": memory, "settings": settings}
    agents: list[Any] = []
    try:
        await populate(registry, scenario)
        planners = [
            _planner(spec, goal, scenario, model, settings, problems, setup, checkpointer, shared)
            for spec, goal in scenario.planner_goals()
        ]
        workers = simulated_workers(scenario, problems, **shared, **AGENT_OPTIONS)
        for agent in [*workers, *reversed(planners)]:
            await agent.start()
            agents.append(agent)
        return await _submit(scenario, planners[0], memory, settings, problems, setup)
    finally:
        for agent in reversed(agents):
            await agent.stop()
        await checkpointer.aclose()
        for resource in (bus, registry, memory):
            await resource.aclose()


def _planner(
    spec: PlannerSpec,
    goal: GoalSpec,
    scenario: Scenario,
    model: str,
    settings: Settings,
    problems: TrialProblems,
    setup: TrialSetup,
    checkpointer: Any,
    shared: dict[str, Any],
) -> Any:
    chat_model = planner_model(
        model,
        scenario,
        spec,
        mode=setup.mode,
        settings=settings,
        problems=problems,
        temperature=setup.temperature,
    )
    return ChoreographyPlanner(
        spec.name,
        chat_model,
        goal_events=[goal.definition()],
        max_actions=spec.max_actions,
        max_repairs=spec.max_repairs,
        max_steps=spec.max_steps,
        max_tools=spec.max_tools,
        response_timeout=spec.response_timeout,
        system_instructions=spec.instructions,
        guards=guards(spec.guards),
        events=spec.events,
        **policies(spec),
        checkpointer=checkpointer,
        **PLANNER_OPTIONS,
        **AGENT_OPTIONS,
        **shared,
    )


async def _submit(
    scenario: Scenario,
    planner: Any,
    memory: Any,
    settings: Settings,
    problems: TrialProblems,
    setup: TrialSetup,
) -> Observation:
    """Submit the goal, wait for its outcome (or a fatal problem), read the plan back."""
    scope = {"tenant_id": settings.tenant_id, "user_id": settings.user_id}
    goal = scenario.goal
    background: list[asyncio.Task[Any]] = []
    if scenario.announce or scenario.review or scenario.cancel:
        background.append(
            asyncio.create_task(steer_when_waiting(planner, memory, scope, goal.event, scenario))
        )
    timeout = setup.timeout or scenario.timeout
    submitted = asyncio.create_task(planner.submit(goal.event, goal.data, timeout=timeout, **scope))
    fatal = asyncio.create_task(problems.fatal.wait())
    started = time.perf_counter()
    try:
        await asyncio.wait({submitted, fatal}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in [submitted, fatal, *background]:
            task.cancel()
        await asyncio.gather(submitted, fatal, *background, return_exceptions=True)
    latency = time.perf_counter() - started
    outcome: PlanOutcome | None = None
    if submitted.done() and not submitted.cancelled():
        error = submitted.exception()
        if error is None:
            outcome = submitted.result()
        elif not isinstance(error, PlanOutcomeTimeoutError):
            raise error
    return await _observed(planner, memory, scope, goal.event, outcome, problems, latency)


async def _observed(
    planner: Any,
    memory: Any,
    scope: dict[str, str],
    goal_event: str,
    outcome: PlanOutcome | None,
    problems: TrialProblems,
    latency: float,
) -> Observation:
    plans = [p for p in await memory.list_plans(**scope) if p.goal_event == goal_event]
    values: dict[str, Any] = {}
    if plans:
        config = planner.run_config(plans[0].plan_id, tenant_id=scope["tenant_id"])
        values = (await planner.graph.aget_state(config)).values or {}
    return Observation(
        outcome=outcome,
        history=[StepRecord.model_validate(record) for record in values.get("history", [])],
        actions=list(values.get("actions", [])),
        results=list(values.get("results", [])),
        fatal=problems.fatal.is_set(),
        latency_s=latency,
    )
