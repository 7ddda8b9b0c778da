"""ChoreographyPlanner: an LLM-planned, event-driven agent on LangGraph.

The planner is an agent like a :class:`~soorma_lc.agents.Worker`: it consumes its goal events,
and the results of its plans' requests. Each incoming event runs its plan's graph one step
(to the next wait) under a per-plan lease in Redis; between events the plan lives only in its
checkpoint, so any replica continues it and a restarted process picks up where it stood.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from soorma_lc.agents.context import AgentContext
from soorma_lc.agents.lifecycle import serve_until_stopped
from soorma_lc.agents.worker import Worker
from soorma_lc.config import Settings, resolve_settings
from soorma_lc.errors import (
    ConfigurationError,
    PayloadValidationError,
    PlanBusyError,
    PlanNotFoundError,
)
from soorma_lc.events import EventDefinition, EventEnvelope, EventTopic, parse_topic
from soorma_lc.planners.config import PlannerConfig, PlannerServices
from soorma_lc.planners.control import cancel_request, review_answer
from soorma_lc.planners.graph import build_graph
from soorma_lc.planners.guards import Guard, default_guards
from soorma_lc.planners.ledger import PlanLedger
from soorma_lc.planners.offer import GOAL_ROLE_KEY, EventFilter
from soorma_lc.planners.policies import (
    Budget,
    EscalationPolicy,
    RetryPolicy,
)
from soorma_lc.planners.records import PlanOutcome, StepRecord
from soorma_lc.planners.state import GoalState, Outcome
from soorma_lc.planners.submitting import await_outcome, plan_id_for, publish_goal
from soorma_lc.planners.timers import PlanTimer, PlanTimers
from soorma_lc.planners.waiting import answer, awaits, timeout_answer, waiting_for
from soorma_lc.toolkit import EventToolkit
from soorma_lc.toolkit.schema import object_schema
from soorma_lc.toolkit.validation import SchemaValidator

if TYPE_CHECKING:
    from soorma_lc.bus.streams import RedisStreamsBus
    from soorma_lc.memory.client import MemoryClient
    from soorma_lc.registry.base import Registry

logger = logging.getLogger(__name__)

DEFAULT_LISTEN_TOPICS = (
    EventTopic.ACTION_RESULTS,
    EventTopic.BUSINESS_FACTS,
    EventTopic.PLAN_EVENTS,
)
"""Topics on which a planner listens for its plans' results and awaited events."""


class ChoreographyPlanner:
    """A planner agent whose every decision is a native tool call of ``model``.

    ``model`` is a litellm model string, any LangChain chat model, or None (``SOORMA_LLM_MODEL``,
    else the offline planner model). ``goal_events`` are the events that start a plan (names or
    definitions; registered as this agent's capabilities). ``max_actions`` is the circuit
    breaker: the plan publishes at most that many events, then completes with the best content
    it has, marked forced. ``events`` limits the planner to a fixed list of event names or a
    predicate (the Trinity pattern) instead of open discovery. ``guards`` replace the default
    :func:`~soorma_lc.planners.guards.default_guards`. ``response_timeout`` (seconds) bounds how
    long a plan waits for each result; ``retry`` publishes a request again when it passes.
    ``budget`` limits tokens, cost and wall-clock time per plan (then a forced completion);
    ``escalation`` pauses a plan for a person's review instead of failing it when its model keeps
    deciding badly or a guard finds it stuck. A failed or cancelled plan publishes the
    compensations its completed actions declare (``compensation`` metadata), newest first.
    ``context_tokens`` bounds the conversation sent to the model (the oldest steps are left
    out first) and ``result_chars`` each result as the model sees it (the plan keeps it whole).
    ``registry_refresh`` (seconds) is how stale the planner's
    view of the registry may be (0: asked at every decision). Collaborators default to ones
    built from ``settings``.
    """

    def __init__(
        self,
        name: str,
        model: str | BaseChatModel | None = None,
        *,
        goal_events: Iterable[str | EventDefinition] = (),
        max_actions: int = 10,
        system_instructions: str | None = None,
        guards: Sequence[Guard] | None = None,
        events: EventFilter | None = None,
        max_tools: int = 12,
        max_repairs: int = 3,
        max_steps: int | None = None,
        response_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        budget: Budget | None = None,
        escalation: EscalationPolicy | None = None,
        compensation_timeout: float = 60.0,
        context_tokens: int = 12_000,
        result_chars: int = 8_000,
        cleanup_on_completion: bool = False,
        log_episodes: bool = True,
        listen_topics: Iterable[EventTopic | str] = DEFAULT_LISTEN_TOPICS,
        description: str = "",
        bus: RedisStreamsBus | None = None,
        registry: Registry | None = None,
        memory: MemoryClient | None = None,
        toolkit: EventToolkit | None = None,
        checkpointer: BaseCheckpointSaver | None = None,
        settings: Settings | None = None,
        lease_ttl: float = 30.0,
        lease_wait: float = 60.0,
        timer_interval: float = 1.0,
        registry_refresh: float = 1.0,
        **worker_options: Any,
    ) -> None:
        _check_limits(
            max_actions=max_actions,
            max_tools=max_tools,
            context_tokens=context_tokens,
            result_chars=result_chars,
        )
        _check_limits(minimum=0, max_repairs=max_repairs)
        if registry_refresh < 0:
            raise ConfigurationError(f"registry_refresh must be >= 0 (got {registry_refresh!r})")
        for label, value in (
            ("lease_ttl", lease_ttl),
            ("lease_wait", lease_wait),
            ("timer_interval", timer_interval),
            ("compensation_timeout", compensation_timeout),
        ):
            if not value > 0:
                raise ConfigurationError(f"{label} must be positive (got {value!r})")
        if max_steps is not None:
            _check_limits(max_steps=max_steps)
        if response_timeout is not None and not response_timeout > 0:
            raise ConfigurationError(
                f"response_timeout must be positive (got {response_timeout!r})"
            )
        self.settings = resolve_settings(settings)
        self.goal_definitions = [_goal_definition(goal, name) for goal in goal_events]
        if not self.goal_definitions:
            raise ConfigurationError(f"planner {name!r} needs at least one goal event")
        self.config = PlannerConfig(
            name=name,
            goal_events=frozenset(d.event_name for d in self.goal_definitions),
            max_actions=max_actions,
            max_repairs=max_repairs,
            max_steps=max_steps,
            max_tools=max_tools,
            system_instructions=system_instructions,
            response_timeout=response_timeout,
            retry=retry,
            budget=budget,
            escalation=escalation,
            compensation_timeout=compensation_timeout,
            context_tokens=context_tokens,
            result_chars=result_chars,
            cleanup_on_completion=cleanup_on_completion,
            log_episodes=log_episodes,
            allow=events,
        )
        self.lease_ttl = lease_ttl
        self.lease_wait = lease_wait
        self.timer_interval = timer_interval
        self.registry_refresh = registry_refresh
        self.worker = Worker(
            name,
            description=description or f"ChoreographyPlanner {name}",
            bus=bus,
            registry=registry,
            memory=memory,
            settings=self.settings,
            **worker_options,
        )
        for definition in self.goal_definitions:
            self.worker.add_handler(definition, self._on_goal)
        goal_names = self.config.goal_events
        for topic in dict.fromkeys(parse_topic(t) for t in listen_topics):
            self.worker.add_topic_handler(
                topic,
                self._on_plan_event,
                accepts=lambda e: (
                    e.plan_id is not None and e.type not in goal_names and e.source != name
                ),
            )
        self._model_spec = model
        self._guards = list(default_guards() if guards is None else guards)
        self._toolkit = toolkit
        self._owned_toolkit = False
        self._checkpointer = checkpointer
        self._owned_checkpointer = False
        self._graph: CompiledStateGraph | None = None
        self._services: PlannerServices | None = None
        self._timer_task: asyncio.Task[None] | None = None
        self._stop_requested: asyncio.Event | None = None

    # -- collaborators -----------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def bus(self) -> RedisStreamsBus:
        return self.worker.bus

    @property
    def memory(self) -> MemoryClient:
        return self.worker.memory

    @property
    def services(self) -> PlannerServices:
        """What the graph runs on (model, toolkit, bus, memory, ledger, timers), built once."""
        if self._services is None:
            working = self.memory.working
            self._services = PlannerServices(
                config=self.config,
                model=_resolve_model(self._model_spec, self.settings),
                toolkit=self._toolkit or self._own_toolkit(),
                bus=self.worker.bus,
                memory=self.memory,
                ledger=PlanLedger(working),
                timers=PlanTimers(working.client, self.name),
                guards=self._guards,
            )
        return self._services

    def _own_toolkit(self) -> EventToolkit:
        """The planner's toolkit on its worker's registry and bus; it revalidates the registry at
        most every ``registry_refresh`` seconds instead of on every decision."""
        self._toolkit = EventToolkit(
            self.worker.registry,
            self.worker.bus,
            settings=self.settings,
            revalidate_after=self.registry_refresh,
        )
        self._owned_toolkit = True
        return self._toolkit

    @property
    def graph(self) -> CompiledStateGraph:
        """The compiled graph (Redis checkpointer; thread_id = plan_id, tenant in configurable).

        Usable as a subgraph of another LangGraph app: the parent's checkpointer then applies.
        """
        if self._graph is None:
            if self._checkpointer is None:
                from soorma_lc.memory.checkpoint.saver import RedisCheckpointSaver

                self._checkpointer = RedisCheckpointSaver.from_settings(self.settings)
                self._owned_checkpointer = True
            self._graph = build_graph(self.services).compile(
                checkpointer=self._checkpointer, name=self.name
            )
        return self._graph

    def run_config(self, plan_id: str, *, tenant_id: str) -> dict[str, Any]:
        """The LangGraph config of plan ``plan_id`` (for ``graph.aget_state`` and friends)."""
        return {
            "configurable": {"thread_id": plan_id, "tenant_id": tenant_id},
            "recursion_limit": 4 * self.config.step_limit + 20,
        }

    @staticmethod
    def plan_id_for(goal_event_id: str) -> str:
        """The plan a goal event opens (derived from its id, so redelivery finds the plan)."""
        return plan_id_for(goal_event_id)

    # -- running ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe, register, heartbeat (as a Worker) and serve due plan timers."""
        _ = self.graph  # build the graph before taking events
        await self.worker.start()
        if self._timer_task is None:
            self._timer_task = asyncio.create_task(self._timer_loop())
        logger.info(
            "planner %s started (goals: %s)", self.name, ", ".join(sorted(self.config.goal_events))
        )

    async def stop(self) -> None:
        """Stop taking events, finish in-flight steps, close what the planner built."""
        if self._timer_task is not None:
            self._timer_task.cancel()
            await asyncio.gather(self._timer_task, return_exceptions=True)
            self._timer_task = None
        await self.worker.stop()
        self._services = None
        self._graph = None
        if self._owned_toolkit and self._toolkit is not None:
            await self._toolkit.aclose()
            self._toolkit, self._owned_toolkit = None, False
        if self._owned_checkpointer and self._checkpointer is not None:
            await self._checkpointer.aclose()  # type: ignore[attr-defined]
            self._checkpointer, self._owned_checkpointer = None, False

    async def serve(self) -> None:
        """Start, run until SIGINT/SIGTERM or :meth:`request_stop`, then stop gracefully."""
        self._stop_requested = asyncio.Event()
        await serve_until_stopped(self.start, self.stop, self._stop_requested)

    def request_stop(self) -> None:
        """Make :meth:`serve` return (safe to call from a signal handler)."""
        if self._stop_requested is not None:
            self._stop_requested.set()

    def run(self) -> None:
        """Blocking: serve until SIGINT/SIGTERM."""
        asyncio.run(self.serve())

    async def __aenter__(self) -> ChoreographyPlanner:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- clients -----------------------------------------------------------------------------

    async def submit(
        self,
        goal_event: str,
        data: Mapping[str, Any] | None = None,
        *,
        tenant_id: str | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
        timeout: float = 300.0,
    ) -> PlanOutcome:
        """Publish a goal and wait for its plan's outcome (whichever replica serves it).

        Raises :class:`PlanOutcomeTimeoutError` after ``timeout`` seconds (the plan may still
        finish later; its id is on the error).
        """
        definition = next((d for d in self.goal_definitions if d.event_name == goal_event), None)
        submitted = await publish_goal(
            self.bus,
            definition or goal_event,
            data,
            tenant_id=tenant_id or self.settings.tenant_id,
            user_id=user_id or self.settings.user_id,
            session_id=session_id,
            source=f"{self.name}.client",
        )
        return await await_outcome(self.bus, submitted, timeout=timeout)

    async def cancel(
        self, plan_id: str, *, tenant_id: str, user_id: str, reason: str = "cancelled by request"
    ) -> str:
        """Ask whichever replica serves the plan to cancel it: it publishes nothing more, runs
        the compensations its completed actions declare, and fails with ``reason``. Returns the
        cancel event's id (a finished plan ignores it)."""
        request = cancel_request(
            plan_id,
            tenant_id=tenant_id,
            user_id=user_id,
            reason=reason,
            source=f"{self.name}.client",
        )
        return await self.bus.publish(request)

    async def review(
        self,
        plan_id: str,
        *,
        tenant_id: str,
        user_id: str,
        approve: bool,
        instruction: str | None = None,
    ) -> str:
        """Answer a plan paused for review (see ``escalation``): approved, it goes on with the
        ``instruction`` given to its model; not approved, it fails. Returns the event's id."""
        answer_ = review_answer(
            plan_id,
            tenant_id=tenant_id,
            user_id=user_id,
            approve=approve,
            instruction=instruction,
            source=f"{self.name}.client",
        )
        return await self.bus.publish(answer_)

    async def history(self, plan_id: str, *, tenant_id: str, user_id: str) -> list[StepRecord]:
        """The plan's step history, oldest first (:class:`PlanNotFoundError` if not visible)."""
        if await self.memory.get_plan(plan_id, tenant_id=tenant_id, user_id=user_id) is None:
            raise PlanNotFoundError(plan_id)
        snapshot = await self.graph.aget_state(self.run_config(plan_id, tenant_id=tenant_id))
        records = (snapshot.values or {}).get("history", [])
        return [StepRecord.model_validate(record) for record in records]

    # -- handling events ---------------------------------------------------------------------

    async def handle(self, envelope: EventEnvelope) -> None:
        """Process one event as the running agent would (goals, results, awaited events)."""
        if envelope.type in self.config.goal_events:
            await self._start_plan(envelope)
        elif envelope.plan_id is not None:
            await self._continue_plan(envelope)

    async def _on_goal(self, envelope: EventEnvelope, context: AgentContext) -> None:
        await self._start_plan(envelope)

    async def _on_plan_event(self, envelope: EventEnvelope, context: AgentContext) -> None:
        await self._continue_plan(envelope)

    def _goal(self, envelope: EventEnvelope) -> GoalState:
        tenant_id, user_id = envelope.tenant_id, envelope.user_id
        if not tenant_id or not user_id:
            logger.warning(
                "goal %s (%s) names no %s; using the default scope from settings",
                envelope.id,
                envelope.type,
                "tenant_id" if not tenant_id else "user_id",
            )
        return GoalState(
            event=envelope.type,
            data=dict(envelope.data or {}),
            plan_id=self.plan_id_for(envelope.id),
            tenant_id=tenant_id or self.settings.tenant_id,
            user_id=user_id or self.settings.user_id,
            session_id=envelope.session_id,
            correlation_id=envelope.correlation_id,
            response_event=envelope.response_event,
            response_topic=str(envelope.response_topic) if envelope.response_topic else None,
            envelope_id=envelope.id,
            parent_plan_id=envelope.plan_id,
            goal_id=envelope.goal_id,
            trace_id=envelope.trace_id,
        )

    def _goal_problem(self, goal: GoalState) -> str | None:
        """Why the goal's data does not fit its event's schema, if it does not."""
        definition = next(d for d in self.goal_definitions if d.event_name == goal["event"])
        if definition.payload_schema is None:
            return None
        validator = SchemaValidator(
            object_schema(definition.payload_schema, event_name=definition.event_name)
        )
        try:
            validator.validated(goal["data"], event_name=definition.event_name)
        except PayloadValidationError as exc:
            return f"the goal's data is invalid: {'; '.join(exc.errors)}"
        return None

    async def _start_plan(self, envelope: EventEnvelope) -> None:
        goal = self._goal(envelope)
        config = self.run_config(goal["plan_id"], tenant_id=goal["tenant_id"])
        async with self._lease(goal["plan_id"], goal["tenant_id"]):
            owner = self._owner(goal["user_id"])
            ledger = self.services.ledger
            if not await ledger.claim(goal["plan_id"], tenant_id=goal["tenant_id"], owner=owner):
                logger.warning("plan %s belongs to another planner or user", goal["plan_id"])
                return
            snapshot = await self.graph.aget_state(config)
            if not snapshot.values:
                problem = self._goal_problem(goal)
                inputs: dict[str, Any] = {"goal": goal}
                if problem:
                    logger.warning("goal %s refused: %s", envelope.id, problem)
                    inputs["outcome"] = Outcome(
                        status="failed", termination="invalid_goal", result=None, reason=problem
                    )
                await self.graph.ainvoke(inputs, config, durability="sync")
            elif snapshot.next and not snapshot.interrupts:
                await self.graph.ainvoke(None, config, durability="sync")  # a crashed run
            else:
                logger.info("goal %s already opened plan %s", envelope.id, goal["plan_id"])

    async def _continue_plan(self, envelope: EventEnvelope) -> None:
        plan_id, tenant_id, user_id = envelope.plan_id, envelope.tenant_id, envelope.user_id
        if not plan_id or not tenant_id or not user_id:
            return
        config = self.run_config(plan_id, tenant_id=tenant_id)
        resume = Command(resume=answer(envelope))
        async with self._lease(plan_id, tenant_id, owner=self._owner(user_id)) as ours:
            if not ours:
                return  # another planner's plan (or another user's): not for us
            values = await self.graph.ainvoke(resume, config, durability="sync")
            waiting = waiting_for(values)
            if waiting is not None and awaits(waiting, envelope):
                # The plan was not waiting yet (a run that crashed before it could wait has
                # just finished): now it waits for exactly this event.
                await self.graph.ainvoke(resume, config, durability="sync")

    # -- timers ------------------------------------------------------------------------------

    async def _timer_loop(self) -> None:
        timers = self.services.timers
        while True:
            try:
                for timer in await timers.claim_due():
                    await self._fire(timer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a timer round that fails is tried again next round
                logger.warning("planner %s: timer round failed: %s", self.name, exc)
            await asyncio.sleep(self.timer_interval)

    async def _fire(self, timer: PlanTimer) -> None:
        """Tell a plan that what it waits for timed out (if it still waits for it)."""
        config = self.run_config(timer.plan_id, tenant_id=timer.tenant_id)
        try:
            async with self._lease(
                timer.plan_id, timer.tenant_id, owner=self._owner(timer.user_id)
            ) as ours:
                if ours:  # a timer of a plan this planner does not own is dropped
                    resume = Command(resume=timeout_answer(timer.token))
                    await self.graph.ainvoke(resume, config, durability="sync")
        except PlanBusyError:
            return  # the claim expires and another round fires it again
        await self.services.timers.done(timer)

    def _lease(
        self, plan_id: str, tenant_id: str, *, owner: str | None = None
    ) -> contextlib.AbstractAsyncContextManager[bool]:
        return self.services.ledger.lease(
            plan_id, tenant_id=tenant_id, ttl=self.lease_ttl, wait=self.lease_wait, owner=owner
        )

    def _owner(self, user_id: str) -> str:
        """Who a plan belongs to: this planner (by name), for this user."""
        return f"{self.name}/{user_id}"


def _goal_definition(goal: str | EventDefinition, planner: str) -> EventDefinition:
    """A goal event's definition, marked as a planner goal (so others delegate to it)."""
    if isinstance(goal, str):
        goal = EventDefinition(
            event_name=goal,
            topic=EventTopic.ACTION_REQUESTS,
            description=f"A goal for the planner {planner}",
        )
    if goal.topic != EventTopic.ACTION_REQUESTS:
        raise ConfigurationError(f"goal event {goal.event_name} must be on action-requests")
    metadata = {**goal.metadata, GOAL_ROLE_KEY: "goal", "planner": planner}
    return goal.model_copy(update={"metadata": metadata})


def _check_limits(*, minimum: int = 1, **limits: int) -> None:
    for label, value in limits.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigurationError(f"{label} must be an integer >= {minimum} (got {value!r})")


def _resolve_model(spec: str | BaseChatModel | None, settings: Settings) -> BaseChatModel:
    if isinstance(spec, BaseChatModel):
        return spec
    from soorma_lc.llm import resolve_model

    return resolve_model(spec, settings)
