"""Worker: Soorma's Worker pattern on the Redis Streams bus.

A worker is one agent name; every running instance joins the consumer group of that name, so
instances share the work and other agents still see every event. On start it subscribes (so
nothing published after registration can be missed), registers its event definitions and its
AgentDefinition, and heartbeats; on stop it deregisters, lets in-flight handlers finish and
acknowledges them.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

from soorma_lc.agents.context import AgentContext
from soorma_lc.agents.lifecycle import serve_until_stopped
from soorma_lc.backends.redis_clients import clients_configured_by
from soorma_lc.bus.consumer import MAX_BATCH_SIZE, MAX_CONCURRENCY, Subscription, check_handler
from soorma_lc.bus.health import SubscriptionHealth, cancel_and_wait, timestamp
from soorma_lc.bus.streams import RedisStreamsBus, check_start_from
from soorma_lc.checks import check_int, check_name, check_seconds, names_argument
from soorma_lc.config import Settings, resolve_settings
from soorma_lc.errors import (
    ConfigurationError,
    InvalidArgumentError,
    InvalidEventError,
    SoormaError,
    UnknownAgentError,
)
from soorma_lc.events import (
    AgentCapability,
    AgentDefinition,
    EventDefinition,
    EventEnvelope,
    EventTopic,
    definitions_argument,
    parse_topic,
)
from soorma_lc.registry.base import Registry

if TYPE_CHECKING:
    from soorma_lc.memory.client import MemoryClient
    from soorma_lc.toolkit import EventToolkit

logger = logging.getLogger(__name__)

EventHandler = Callable[[EventEnvelope, AgentContext], Awaitable[Any]]

DEFAULT_HEARTBEAT_INTERVAL = 30.0  # Soorma SDK agents heartbeat every 30 s (TTL 300 s)


@dataclass(frozen=True)
class WorkerHealth:
    """A worker as :meth:`Worker.health` reports it: ``healthy`` while its consumer reads
    without failing loops and its last heartbeat reached the registry."""

    name: str
    agent_id: str
    running: bool
    healthy: bool
    subscription: SubscriptionHealth | None
    heartbeat_error: str | None
    last_heartbeat_at: datetime | None


@dataclass(frozen=True)
class Route:
    """One handler: the event it consumes and the events it may produce."""

    definition: EventDefinition
    handler: EventHandler
    produces: tuple[EventDefinition, ...]
    declared: bool  # False: only a name was given; the registry's definition is preferred

    @property
    def key(self) -> tuple[str, str]:
        return (str(self.definition.topic), self.definition.event_name)


@dataclass(frozen=True)
class TopicRoute:
    """A handler for whatever arrives on a topic and passes ``accepts`` (event names not known
    in advance, e.g. the results of a planner's requests). Not advertised as a capability."""

    topic: EventTopic | str
    handler: EventHandler
    accepts: Callable[[EventEnvelope], bool] | None = None

    def matches(self, envelope: EventEnvelope) -> bool:
        return envelope.topic == self.topic and (self.accepts is None or self.accepts(envelope))


class Worker:
    """An agent that reacts to events.

    ``capabilities`` are capability names (recorded in the description) or full
    ``AgentCapability`` objects. ``consumes`` / ``produces`` declare event definitions with
    their schemas: handlers registered by name pick their definition from ``consumes``, and
    ``produces`` is advertised on every capability. Collaborators (``bus``, ``registry``,
    ``memory``) default to ones built from ``settings``; those the worker builds it also closes.
    """

    def __init__(
        self,
        name: str,
        *,
        capabilities: Iterable[str | AgentCapability] = (),
        description: str = "",
        consumes: Iterable[EventDefinition] = (),
        produces: Iterable[EventDefinition] = (),
        agent_id: str | None = None,
        bus: RedisStreamsBus | None = None,
        registry: Registry | None = None,
        memory: MemoryClient | None = None,
        settings: Settings | None = None,
        concurrency: int = 16,
        batch_size: int = 64,
        heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL,
        shutdown_timeout: float = 30.0,
        start_from: str = "$",
    ) -> None:
        if not name or not isinstance(name, str):
            raise ConfigurationError("a worker needs a non-empty name")
        self.name = check_name(name, "worker name")
        self.agent_id = agent_id or f"{name}-{uuid.uuid4().hex[:8]}"
        capabilities = names_argument(capabilities, "capabilities")
        if not all(isinstance(c, str | AgentCapability) for c in capabilities):
            raise InvalidArgumentError("capabilities are names or AgentCapability objects")
        self.capability_names = [c for c in capabilities if isinstance(c, str)]
        self.extra_capabilities = [c for c in capabilities if isinstance(c, AgentCapability)]
        self.description = description
        self.consumes = {d.event_name: d for d in definitions_argument(consumes, "consumes")}
        self.produces = tuple(definitions_argument(produces, "produces"))
        self.settings = resolve_settings(settings)
        self.concurrency = check_int(concurrency, "concurrency", minimum=1, maximum=MAX_CONCURRENCY)
        self.batch_size = check_int(batch_size, "batch_size", minimum=1, maximum=MAX_BATCH_SIZE)
        self.heartbeat_interval = check_seconds(
            heartbeat_interval, "heartbeat_interval", positive=True
        )
        self.shutdown_timeout = check_seconds(shutdown_timeout, "shutdown_timeout")
        self.start_from = check_start_from(start_from)
        self._bus = bus
        self._registry = registry
        self._memory = memory
        self._toolkit: EventToolkit | None = None
        self._owned: list[Any] = []
        self._routes: dict[tuple[str, str], Route] = {}
        self._topic_routes: list[TopicRoute] = []
        self._subscription: Subscription | None = None
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._heartbeat_error: str | None = None
        self._last_heartbeat_at: float | None = None
        self._stop_requested: asyncio.Event | None = None

    # -- declaring handlers ------------------------------------------------------------------

    def on_event(
        self,
        event: str | EventDefinition,
        topic: EventTopic | str | None = None,
        *,
        produces: Iterable[EventDefinition] = (),
        description: str | None = None,
    ) -> Callable[[EventHandler], EventHandler]:
        """Register ``async def handler(event, context)`` for an event name or definition.

        With a name, the topic defaults to action-requests and the definition comes from
        ``consumes`` or, at start, from the registry (so a richer registered schema is kept).
        """

        def decorator(handler: EventHandler) -> EventHandler:
            self.add_handler(
                event, handler, topic=topic, produces=produces, description=description
            )
            return handler

        return decorator

    def add_handler(
        self,
        event: str | EventDefinition,
        handler: EventHandler,
        *,
        topic: EventTopic | str | None = None,
        produces: Iterable[EventDefinition] = (),
        description: str | None = None,
    ) -> None:
        """The non-decorator form of :meth:`on_event`."""
        self._check_handler(handler)
        if not isinstance(event, str | EventDefinition):
            raise InvalidEventError(
                f"a handler is for an event name or EventDefinition, not {type(event).__name__}"
            )
        declared = isinstance(event, EventDefinition) or event in self.consumes
        if isinstance(event, EventDefinition):
            definition = event
        elif event in self.consumes:
            definition = self.consumes[event]
        else:
            definition = EventDefinition(
                event_name=event,
                topic=topic or EventTopic.ACTION_REQUESTS,
                description=description or inspect.getdoc(handler) or "",
            )
        if topic is not None and parse_topic(topic) != definition.topic:
            raise ConfigurationError(
                f"event {definition.event_name} is defined on {definition.topic}, "
                f"not {parse_topic(topic)}"
            )
        produced = definitions_argument(produces, "produces")
        route = Route(definition, handler, (*produced, *self.produces), declared)
        if route.key in self._routes:
            raise ConfigurationError(
                f"worker {self.name} already handles {definition.event_name} on {route.key[0]}"
            )
        self._routes[route.key] = route

    def on_topic(
        self, topic: EventTopic | str, *, accepts: Callable[[EventEnvelope], bool] | None = None
    ) -> Callable[[EventHandler], EventHandler]:
        """Register a handler for events on ``topic`` that ``accepts`` (default: all).

        For events whose names are not known in advance. Named handlers (:meth:`on_event`) take
        precedence; among topic handlers, the first registered that accepts an event runs.
        """

        def decorator(handler: EventHandler) -> EventHandler:
            self.add_topic_handler(topic, handler, accepts=accepts)
            return handler

        return decorator

    def add_topic_handler(
        self,
        topic: EventTopic | str,
        handler: EventHandler,
        *,
        accepts: Callable[[EventEnvelope], bool] | None = None,
    ) -> None:
        """The non-decorator form of :meth:`on_topic`."""
        self._check_handler(handler)
        self._topic_routes.append(TopicRoute(parse_topic(topic), handler, accepts))

    def _check_handler(self, handler: EventHandler) -> None:
        if self._subscription is not None:
            raise ConfigurationError(f"worker {self.name} is running; add handlers before start")
        check_handler(handler)

    def _route_for(self, envelope: EventEnvelope) -> EventHandler | None:
        route = self._routes.get((envelope.topic or "", envelope.type))
        if route is not None:
            return route.handler
        return next((r.handler for r in self._topic_routes if r.matches(envelope)), None)

    @property
    def routes(self) -> list[Route]:
        """The handlers, in registration order."""
        return list(self._routes.values())

    # -- collaborators -----------------------------------------------------------------------

    @property
    def bus(self) -> RedisStreamsBus:
        """The bus (built from settings on first use)."""
        if self._bus is None:
            self._bus = self._own(RedisStreamsBus.from_settings(self.settings))
        return self._bus

    @property
    def registry(self) -> Registry:
        """The registry (``registry_from_settings`` on first use)."""
        if self._registry is None:
            from soorma_lc.registry.factory import registry_from_settings

            self._registry = self._own(registry_from_settings(self.settings))
        return self._registry

    @property
    def memory(self) -> MemoryClient:
        """The memory client (``MemoryClient.from_settings`` on first use)."""
        if self._memory is None:
            from soorma_lc.memory.client import MemoryClient

            with clients_configured_by(self.settings):  # the worker's Redis timeouts
                self._memory = self._own(MemoryClient.from_settings(self.settings))
        return self._memory

    @property
    def toolkit(self) -> EventToolkit:
        """One EventToolkit on the worker's registry and bus, made on first use: its registry
        cache and event index last as long as the worker; handlers get views of it."""
        if self._toolkit is None:
            from soorma_lc.toolkit import EventToolkit

            self._toolkit = self._own(EventToolkit(self.registry, self.bus, settings=self.settings))
        return self._toolkit

    def _own(self, resource: Any) -> Any:
        self._owned.append(resource)
        return resource

    # -- the agent definition ----------------------------------------------------------------

    def agent_definition(self) -> AgentDefinition:
        """This worker as the registry sees it: one capability per handler."""
        capabilities = [
            AgentCapability(
                task_name=route.definition.event_name,
                description=route.definition.description,
                consumed_event=route.definition,
                produced_events=list(route.produces),
            )
            for route in self._routes.values()
        ]
        description = self.description
        if self.capability_names:
            tags = "capabilities: " + ", ".join(self.capability_names)
            description = f"{description} ({tags})" if description else tags
        return AgentDefinition(
            agent_id=self.agent_id,
            name=self.name,
            description=description,
            capabilities=[*capabilities, *self.extra_capabilities],
        )

    async def _resolvedefinitions_argument(self) -> None:
        """Prefer the registry's definition for handlers registered by name only."""
        for key, route in list(self._routes.items()):
            if route.declared:
                continue
            registered = await self.registry.get_event(route.definition.event_name)
            if registered is not None and registered.topic == route.definition.topic:
                self._routes[key] = Route(registered, route.handler, route.produces, True)

    # -- running -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Started and not stopped (see :meth:`health` for whether it is consuming)."""
        return self._subscription is not None

    def health(self) -> WorkerHealth:
        """Whether this worker consumes events and heartbeats, and what fails if not."""
        subscription = self._subscription.health() if self._subscription else None
        return WorkerHealth(
            name=self.name,
            agent_id=self.agent_id,
            running=subscription is not None and subscription.running,
            healthy=subscription is not None
            and subscription.healthy
            and self._heartbeat_error is None,
            subscription=subscription,
            heartbeat_error=self._heartbeat_error,
            last_heartbeat_at=timestamp(self._last_heartbeat_at),
        )

    async def start(self) -> None:
        """Subscribe, register in the registry, start heartbeating."""
        if self._subscription is not None:
            return
        if not self._routes and not self._topic_routes:
            raise ConfigurationError(f"worker {self.name} has no handlers (use @worker.on_event)")
        await self._resolvedefinitions_argument()
        topics = {route.definition.topic for route in self._routes.values()}
        topics.update(route.topic for route in self._topic_routes)
        self._subscription = await self.bus.subscribe(
            self.name,
            topics,
            self._handle,
            accepts=lambda envelope: self._route_for(envelope) is not None,
            concurrency=self.concurrency,
            batch_size=self.batch_size,
            start_from=self.start_from,
        )
        try:
            await self.registry.register_agent(self.agent_definition())
        except BaseException:
            subscription, self._subscription = self._subscription, None
            await subscription.stop(self.shutdown_timeout)
            raise
        self._heartbeat_task = asyncio.create_task(self._heartbeat_loop())
        logger.info("worker %s (%s) started", self.name, self.agent_id)

    async def _handle(self, envelope: EventEnvelope) -> None:
        handler = self._route_for(envelope)
        if handler is None:  # accepted when read, but its route is gone: nothing to run
            return
        await handler(envelope, AgentContext(self, envelope))

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            try:
                try:
                    await self.registry.heartbeat(self.agent_id)
                except UnknownAgentError:
                    logger.warning(
                        "agent %s expired from the registry; registering again", self.agent_id
                    )
                    await self.registry.register_agent(self.agent_definition())
            except Exception as exc:  # a registry hiccup must not end the heartbeats
                self._heartbeat_error = f"{type(exc).__name__}: {exc}"
                logger.warning("heartbeat of %s failed: %s", self.agent_id, exc)
            else:
                self._heartbeat_error = None
                self._last_heartbeat_at = time.time()

    async def stop(self) -> None:
        """Deregister, finish in-flight handlers (``shutdown_timeout``), close what we built."""
        subscription, self._subscription = self._subscription, None
        if self._heartbeat_task is not None:
            await cancel_and_wait(self._heartbeat_task)
            self._heartbeat_task = None
        if subscription is not None:
            try:
                await self.registry.deregister_agent(self.agent_id)
            except SoormaError as exc:
                logger.warning("could not deregister %s: %s", self.agent_id, exc)
            await subscription.stop(self.shutdown_timeout)
        owned, self._owned = self._owned, []
        for resource in reversed(owned):
            await resource.aclose()
        if self._bus in owned:
            self._bus = None
        if self._registry in owned:
            self._registry = None
        if self._memory in owned:
            self._memory = None
        self._toolkit = None
        logger.info("worker %s (%s) stopped", self.name, self.agent_id)

    def request_stop(self) -> None:
        """Make :meth:`serve` return (safe to call from a signal handler)."""
        if self._stop_requested is not None:
            self._stop_requested.set()

    async def serve(self) -> None:
        """Start, run until SIGINT/SIGTERM or :meth:`request_stop`, then stop gracefully."""
        self._stop_requested = asyncio.Event()
        await serve_until_stopped(self.start, self.stop, self._stop_requested)

    def run(self) -> None:
        """Blocking: serve until SIGINT/SIGTERM (``asyncio.run(worker.serve())``)."""
        asyncio.run(self.serve())

    # -- adapters ----------------------------------------------------------------------------

    @classmethod
    def from_runnable(
        cls,
        name: str,
        runnable: Any,
        *,
        event: str | EventDefinition,
        response_event: str | None = None,
        topic: EventTopic | str | None = None,
        input_mapper: Callable[[EventEnvelope], Any] | None = None,
        output_mapper: Callable[[Any], Mapping[str, Any]] | None = None,
        thread_key: Callable[[EventEnvelope], str] | None = None,
        **worker_options: Any,
    ) -> Self:
        """A worker whose one handler is a LangChain Runnable or compiled LangGraph graph.

        The event's data is the input, the output (a dict, a pydantic model, messages, or any
        value as ``{"output": value}``) is the response payload sent to ``response_event`` or
        the request's own ``response_event``. ``thread_key`` picks the LangGraph thread per
        event (default: its id); the event's tenant goes to ``configurable["tenant_id"]``.
        See :func:`runnable_handler`.
        """
        from soorma_lc.agents.runnable import runnable_handler

        worker = cls(name, **worker_options)
        handler = runnable_handler(
            runnable,
            response_event=response_event,
            input_mapper=input_mapper,
            output_mapper=output_mapper,
            thread_key=thread_key,
        )
        worker.add_handler(event, handler, topic=topic)
        return worker
