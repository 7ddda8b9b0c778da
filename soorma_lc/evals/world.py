"""The simulated world of one trial: registry content, simulated workers and announcements.

Everything here is real (Workers on the bus, the registry in Redis); only what the workers
answer comes from the scenario.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from soorma_lc.agents.context import AgentContext
from soorma_lc.agents.worker import Worker
from soorma_lc.evals.distractors import distractor_events, distractor_reply
from soorma_lc.evals.problems import TrialProblems
from soorma_lc.evals.scenario import Reply, Scenario, WorkerSpec
from soorma_lc.evals.templates import TemplateError, render
from soorma_lc.events import AgentCapability, AgentDefinition, EventDefinition, EventEnvelope
from soorma_lc.registry.base import Registry

DISTRACTOR_AGENT = "distractor-agent"
STEER_POLL_SECONDS = 0.02


class SimulatedFailure(RuntimeError):
    """What a simulated worker raises for a ``fail`` reply (the bus delivers again)."""


class SimulatedWorker:
    """Answers the requests of one :class:`WorkerSpec`: the n-th delivery of an event gets
    the n-th reply (the last one repeats)."""

    def __init__(self, spec: WorkerSpec, problems: TrialProblems) -> None:
        self.spec = spec
        self.problems = problems
        self.deliveries: Counter[str] = Counter()

    def reply_for(self, event: str) -> Reply:
        index = self.deliveries[event]
        self.deliveries[event] += 1
        return self.spec.replies[min(index, len(self.spec.replies) - 1)]

    async def __call__(self, event: EventEnvelope, context: AgentContext) -> None:
        reply = self.reply_for(event.type)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.fail is not None:
            raise SimulatedFailure(reply.fail)
        if reply.silent:
            return
        scope = {"request": dict(event.data or {})}
        try:
            data = render(reply.data or {}, scope)
            memory = render(reply.memory, scope)
        except TemplateError as exc:
            self.problems.add(f"worker {self.spec.name}: reply to {event.type}: {exc}", fatal=True)
            return
        if memory and event.plan_id and event.tenant_id and event.user_id:
            for key, value in memory.items():
                await context.memory.set_plan_state(
                    event.plan_id, key, value, tenant_id=event.tenant_id, user_id=event.user_id
                )
        await context.bus.respond(event, reply.event, data)


def definitions(scenario: Scenario) -> dict[str, EventDefinition]:
    """The scenario's served events by name."""
    return {spec.name: spec.definition() for spec in scenario.registry.events}


def simulated_workers(scenario: Scenario, problems: TrialProblems, **options: Any) -> list[Worker]:
    """One real Worker per worker spec, plus the distractor agent when it answers."""
    events = definitions(scenario)
    workers = []
    for spec in scenario.workers:
        worker = Worker(spec.name, consumes=[events[name] for name in spec.consumes], **options)
        handler = SimulatedWorker(spec, problems)
        for name in spec.consumes:
            worker.add_handler(name, handler)
        workers.append(worker)
    distractors = scenario.registry.distractors
    if distractors is not None and distractors.answered:
        agent = Worker(DISTRACTOR_AGENT, **options)
        for event in distractor_events(distractors.count, distractors.seed):
            agent.add_handler(event, _distractor_handler(event))
        workers.append(agent)
    return workers


def _distractor_handler(definition: EventDefinition) -> Any:
    async def answer(event: EventEnvelope, context: AgentContext) -> None:
        await context.bus.respond(event, data=distractor_reply(definition))

    return answer


async def populate(registry: Registry, scenario: Scenario) -> None:
    """Register what no running worker registers: unserved events, and distractors consumed
    by an agent that never answers."""
    for spec in scenario.registry.unserved:
        await registry.register_event(spec.definition())
    distractors = scenario.registry.distractors
    if distractors is not None and not distractors.answered:
        events = distractor_events(distractors.count, distractors.seed)
        await registry.register_agent(
            AgentDefinition(
                agent_id=DISTRACTOR_AGENT,
                name=DISTRACTOR_AGENT,
                capabilities=[
                    AgentCapability(task_name=e.event_name, consumed_event=e) for e in events
                ],
            )
        )


async def steer_when_waiting(
    planner: Any, memory: Any, scope: dict[str, str], goal_event: str, scenario: Scenario
) -> None:
    """What people and other agents do to the plan, each once the plan waits for it: publish
    the announcements, answer the review request, cancel the plan. Runs until all are done
    (or it is cancelled)."""
    announcements = list(scenario.announce)
    review, cancel = scenario.review, scenario.cancel
    while announcements or review or cancel:
        plans = [p for p in await memory.list_plans(**scope) if p.goal_event == goal_event]
        if plans:
            plan_id = plans[0].plan_id
            snapshot = await planner.graph.aget_state(
                planner.run_config(plan_id, tenant_id=scope["tenant_id"])
            )
            awaiting = (snapshot.values or {}).get("awaiting") or {}
            kind, event = awaiting.get("kind"), awaiting.get("event")
            if not snapshot.interrupts:
                kind = None
            if kind == "event":
                for item in [a for a in announcements if a.event == event]:
                    await planner.bus.announce(item.event, item.data, plan_id=plan_id, **scope)
                    announcements.remove(item)
            elif kind == "review" and review is not None:
                await planner.review(
                    plan_id, approve=review.approve, instruction=review.instruction, **scope
                )
                review = None
            elif kind == "result" and cancel is not None and event == cancel.waiting_for:
                await planner.cancel(plan_id, reason=cancel.reason, **scope)
                cancel = None
        await asyncio.sleep(STEER_POLL_SECONDS)
