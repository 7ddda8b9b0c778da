"""EventToolkit: registry events for an LLM planner: discovery, formats, tools, validation,
and semantic selection of the few tools that matter for a goal."""

from __future__ import annotations

import asyncio
import copy
import fnmatch
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

from langchain_core.embeddings import Embeddings
from langchain_core.utils.function_calling import convert_to_openai_tool

from soorma_lc.backends.loop_bridge import LoopBridge
from soorma_lc.checks import (
    check_int,
    check_label,
    check_name,
    check_seconds,
    names_argument,
    shown,
    text_problem,
)
from soorma_lc.config import Settings, resolve_settings
from soorma_lc.errors import (
    ConfigurationError,
    InvalidArgumentError,
    InvalidEventError,
    UnknownEventError,
)
from soorma_lc.events import (
    EventDefinition,
    EventTopic,
    definitions_argument,
    parse_topic,
    validate_event_name,
)
from soorma_lc.registry.base import Registry
from soorma_lc.toolkit import formats
from soorma_lc.toolkit.context import ToolContext, coerce_context
from soorma_lc.toolkit.naming import ToolNameMap
from soorma_lc.toolkit.publishing import PublishReceipt, SupportsPublish
from soorma_lc.toolkit.schema import (
    check_schema_resolved,
    object_schema,
    unresolved_payload_schema,
)
from soorma_lc.toolkit.tools import EventTool
from soorma_lc.toolkit.validation import SchemaValidator, ValidatorCache

if TYPE_CHECKING:  # chromadb loads only when retrieval is first used
    from soorma_lc.toolkit.index import EventIndex

logger = logging.getLogger(__name__)

DEFAULT_CACHE_TTL = 5.0
MAX_SELECTED = 1000
"""Most events :meth:`EventToolkit.select_events` returns besides the pinned ones."""
MAX_QUERY_LENGTH = 10_000


@dataclass
class _Snapshot:
    """Registry content as of one version (or one fetch time when the version is unknown)."""

    version: str | None
    fetched_at: float
    events: dict[str, EventDefinition] = field(default_factory=dict)
    checked_at: float = 0.0
    """When the registry last confirmed this snapshot (its version unchanged)."""
    consumed: frozenset[str] | None = None
    consumed_at: float = 0.0


@dataclass
class _Caches:
    """What a toolkit and its :meth:`EventToolkit.bound` views share: the registry snapshot,
    the tool-name map, compiled validators and the event index."""

    snapshot: _Snapshot | None = None
    names: ToolNameMap = field(default_factory=lambda: ToolNameMap(()))
    validators: ValidatorCache = field(default_factory=ValidatorCache)
    index: EventIndex | None = None
    indexed: _Snapshot | None = None
    unresolved: set[tuple[str, str]] = field(default_factory=set)
    """(event, schema name) pairs already reported as unresolvable."""


class EventToolkit:
    """Registry events as LLM tools, with validation, caching and retrieval at scale.

    ``registry`` is any :class:`~soorma_lc.registry.base.Registry`; ``bus`` anything with
    ``async publish(envelope) -> id`` (e.g. ``RedisStreamsBus``), needed only to invoke tools.
    ``context`` is the default metadata stamped on published events. Discovery results are
    cached and revalidated with one ``registry.version()`` call, at most once every
    ``revalidate_after`` seconds (0: on every call); when the registry cannot tell its version,
    and for agent liveness (heartbeats expire without a version change), results are reused
    for ``cache_ttl`` seconds.
    """

    def __init__(
        self,
        registry: Registry,
        bus: SupportsPublish | None = None,
        *,
        context: ToolContext | Mapping[str, Any] | None = None,
        embeddings: Embeddings | str | None = None,
        settings: Settings | None = None,
        tenant_id: str | None = None,
        cache_ttl: float = DEFAULT_CACHE_TTL,
        revalidate_after: float = 0.0,
    ) -> None:
        check_seconds(cache_ttl, "cache_ttl")
        check_seconds(revalidate_after, "revalidate_after")
        if not isinstance(registry, Registry):
            raise ConfigurationError(f"registry must be a Registry, not {type(registry).__name__}")
        if bus is not None and not callable(getattr(bus, "publish", None)):
            raise ConfigurationError(f"bus must have an async publish(), got {type(bus).__name__}")
        if tenant_id is not None:
            check_label(tenant_id, "tenant_id")
        self.registry = registry
        self.bus = bus
        self.settings = resolve_settings(settings)
        self.context = coerce_context(context)
        registry_tenant = getattr(registry, "tenant_id", None)
        self.tenant_id: str = (
            tenant_id
            or (self.context.tenant_id if self.context else None)
            or (registry_tenant if isinstance(registry_tenant, str) else None)
            or self.settings.tenant_id
        )
        self.cache_ttl = cache_ttl
        self.revalidate_after = revalidate_after
        self._embeddings_spec = embeddings
        self._caches = _Caches()
        self._view_of: EventToolkit | None = None
        self._bridge = LoopBridge(
            "the event bus",
            hint="use 'await tool.ainvoke(...)' in async code",
            timeout=60.0,
            thread_name="soorma-lc-loop-bridge",
        )
        self._owns_backends = False

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **options: Any) -> Self:
        """A toolkit on the configured registry and Redis Streams bus, which it owns.

        The default context carries the settings' tenant and user; ``aclose`` closes both.
        """
        from soorma_lc.bus import RedisStreamsBus
        from soorma_lc.registry import registry_from_settings

        settings = resolve_settings(settings)
        options.setdefault(
            "context", ToolContext(tenant_id=settings.tenant_id, user_id=settings.user_id)
        )
        toolkit = cls(
            registry_from_settings(settings),
            RedisStreamsBus.from_settings(settings),
            settings=settings,
            **options,
        )
        toolkit._owns_backends = True
        return toolkit

    def bound(
        self,
        *,
        context: ToolContext | Mapping[str, Any] | None = None,
        bus: SupportsPublish | None = None,
    ) -> EventToolkit:
        """A view that publishes with ``context`` merged over this toolkit's (and on ``bus``),
        sharing its registry cache, validators and event index: what a Worker hands each
        handler, so discovery and retrieval stay warm across events. Closing a view closes
        nothing; the toolkit it came from owns the shared parts."""
        view = copy.copy(self)
        if context is not None:
            view.context = (self.context or ToolContext()).merged(coerce_context(context))
        if bus is not None:
            view.bus = bus
        view._owns_backends = False
        view._view_of = self
        return view

    # --- discovery -------------------------------------------------------------------------

    async def _current(self) -> _Snapshot:
        """The cached snapshot if the registry is unchanged, else a fresh one (one list call)."""
        snapshot = self._caches.snapshot
        now = time.monotonic()
        if snapshot is not None and now - snapshot.checked_at < self.revalidate_after:
            return snapshot
        version = await self.registry.version()
        if snapshot is not None and (
            (version is not None and version == snapshot.version)
            or (version is None and now - snapshot.fetched_at < self.cache_ttl)
        ):
            snapshot.checked_at = now
            return snapshot
        events = await self.registry.list_events()
        snapshot = _Snapshot(version, now, {event.event_name: event for event in events}, now)
        self._caches.snapshot = snapshot
        self._remember_names(snapshot.events)
        logger.debug("registry snapshot %s: %d events", version, len(events))
        return snapshot

    def _remember_names(self, names: Iterable[str]) -> None:
        """Extend the tool-name map when new events appear (names are resolved over all)."""
        known = self._caches.names.event_names()
        new = set(names) - known
        if new:
            self._caches.names = ToolNameMap(known | new)

    async def discover_events(
        self, topic: EventTopic | str | None = None, event_name_pattern: str | None = None
    ) -> list[EventDefinition]:
        """Registered events, optionally on ``topic`` and matching ``event_name_pattern``.

        The pattern matches case-insensitively as a substring (Soorma's behaviour) or, when it
        contains ``*``, ``?`` or ``[``, as a glob (``research.*``).
        """
        if event_name_pattern is not None:
            check_name(event_name_pattern, "event_name_pattern", error=InvalidEventError)
        wanted = None if topic is None else parse_topic(topic)
        return _on_topic(await self._current(), wanted, event_name_pattern)

    async def discover_actionable_events(
        self, topic: EventTopic | str | None = EventTopic.ACTION_REQUESTS
    ) -> list[EventDefinition]:
        """Events on ``topic`` (None = any, custom topics included) that at least one live
        agent consumes. An event whose payload schema is only named, by a name the registry
        holds no schema for, is left out (its tool could check nothing): a warning says so."""
        snapshot = await self._current()
        now = time.monotonic()
        # A versioned registry's version also moves when agents expire; otherwise use the TTL.
        stale = snapshot.version is None and now - snapshot.consumed_at >= self.cache_ttl
        if snapshot.consumed is None or stale:
            agents = await self.registry.list_agents()
            snapshot.consumed = frozenset(n for agent in agents for n in agent.consumed_events)
            snapshot.consumed_at = now
        consumed = snapshot.consumed
        return [
            e
            for e in _on_topic(snapshot, topic)
            if e.event_name in consumed and self._payload_schema_known(e)
        ]

    def _payload_schema_known(self, event: EventDefinition) -> bool:
        """False (and a warning, once) when ``event`` names a payload schema it lacks."""
        name = unresolved_payload_schema(event)
        if name is None:
            return True
        if (event.event_name, name) not in self._caches.unresolved:
            self._caches.unresolved.add((event.event_name, name))
            logger.warning(
                "event %r is not offered: its payload schema %r is not registered",
                event.event_name,
                name,
            )
        return False

    async def get_event_info(self, event_name: str) -> EventDefinition | None:
        """The definition of ``event_name`` (from the revalidated cache), or None."""
        return (await self._current()).events.get(validate_event_name(event_name))

    async def _require(self, event_name: str) -> EventDefinition:
        event = await self.get_event_info(event_name)
        if event is None:
            raise UnknownEventError(event_name)
        return event

    # --- formats ---------------------------------------------------------------------------

    def format_for_llm(self, events: Iterable[EventDefinition]) -> list[dict[str, Any]]:
        """Soorma's descriptor dicts (name, description, topic, fields, example, response)."""
        return formats.format_for_llm(definitions_argument(events, "events"))

    def format_as_prompt_text(
        self,
        events: Iterable[Mapping[str, Any]],
        include_metadata: bool = True,
        numbered: bool = True,
        include_fields: bool = False,
    ) -> str:
        """Soorma's prompt text for descriptor dicts from :meth:`format_for_llm`."""
        return formats.format_as_prompt_text(events, include_metadata, numbered, include_fields)

    def format_as_openai_tools(self, events: Iterable[EventDefinition]) -> list[dict[str, Any]]:
        """OpenAI / litellm ``tools=`` entries: exactly what ``bind_tools`` sends for our tools.

        Local ``$ref`` are inlined (some providers reject ``$defs``); names as in :meth:`as_tools`.
        """
        return [convert_to_openai_tool(tool) for tool in self.as_tools(events)]

    # --- names -----------------------------------------------------------------------------

    def tool_name(self, event_name: str) -> str:
        """The tool name of a known event; raises :class:`UnknownEventError` otherwise."""
        return self._caches.names.tool_name(_lookup_key(event_name))

    def event_for_tool(self, tool_name: str) -> str:
        """The event name behind ``tool_name``; raises :class:`UnknownEventError` otherwise."""
        return self._caches.names.event_name(_lookup_key(tool_name))

    # --- tools -----------------------------------------------------------------------------

    def _validator(self, event: EventDefinition) -> SchemaValidator:
        check_schema_resolved(event, "payload")
        schema = object_schema(event.payload_schema, event_name=event.event_name)
        return self._caches.validators.get(schema)

    def as_tools(
        self,
        events: Iterable[EventDefinition],
        *,
        context: ToolContext | Mapping[str, Any] | None = None,
        handle_errors: bool = False,
    ) -> list[EventTool]:
        """One :class:`EventTool` per event.

        ``context`` is merged over the toolkit's default context. With ``handle_errors`` a
        rejected call returns the validation messages to the LLM as an error tool message
        (status ``error``) instead of raising :class:`PayloadValidationError`.
        """
        events = definitions_argument(events, "events")
        self._remember_names(e.event_name for e in events)
        base = self.context or ToolContext()
        merged = base.merged(coerce_context(context))
        tools = []
        for event in events:
            validator = self._validator(event)
            tools.append(
                EventTool(
                    name=self._caches.names.tool_name(event.event_name),
                    description=formats.tool_description(event),
                    args_schema=validator.schema,
                    event=event,
                    validator=validator,
                    bus=self.bus,
                    bridge=self._bridge,
                    context=merged,
                    handle_tool_error=handle_errors,
                )
            )
        return tools

    # --- validation and publishing -----------------------------------------------------------

    async def create_payload(self, event_name: str, data: Any) -> dict[str, Any]:
        """``data`` validated against the event's schema, with schema defaults filled in.

        Raises :class:`UnknownEventError` or :class:`PayloadValidationError` (every violation,
        by JSON path).
        """
        event = await self._require(event_name)
        return self._validator(event).validated(data, event_name=event_name)

    async def validate_response(self, event_name: str, data: Any) -> dict[str, Any]:
        """``data`` validated against the event's response schema (any object if it has none)."""
        event = await self._require(event_name)
        check_schema_resolved(event, "response")
        schema = object_schema(event.response_schema, event_name=event_name)
        return self._caches.validators.get(schema).validated(
            data, event_name=event_name, what="response"
        )

    async def publish(
        self,
        event_name: str,
        data: Any,
        *,
        context: ToolContext | Mapping[str, Any] | None = None,
    ) -> PublishReceipt:
        """Validate ``data`` and publish ``event_name`` exactly as its tool would."""
        [tool] = self.as_tools([await self._require(event_name)], context=context)
        return await tool.apublish(data)

    # --- retrieval -------------------------------------------------------------------------

    async def _event_index(self) -> EventIndex:
        if self._caches.index is None:
            from soorma_lc.backends.chroma import chroma_client
            from soorma_lc.backends.embeddings import resolve_embeddings
            from soorma_lc.toolkit.index import EventIndex

            embeddings = resolve_embeddings(self._embeddings_spec, self.settings)
            client = await asyncio.to_thread(chroma_client, self.settings)
            self._caches.index = EventIndex(client, embeddings, tenant_id=self.tenant_id)
        return self._caches.index

    async def sync_index(self) -> int:
        """Bring the event index in step with the registry; returns how many were embedded."""
        embedded, _ = await self._sync_with(())
        return embedded

    async def _sync_with(self, candidates: Iterable[EventDefinition]) -> tuple[int, EventIndex]:
        """Make the index hold the registry's events plus any unregistered ``candidates``.

        One sync for both, so candidates that stay the same are not deleted and re-embedded
        on every call. Returns how many were embedded, and the index.
        """
        snapshot = await self._current()
        index = await self._event_index()
        extra = [e for e in candidates if snapshot.events.get(e.event_name) != e]
        if not extra and self._caches.indexed is snapshot:
            return 0, index
        embedded = await index.sync([*snapshot.events.values(), *extra])
        self._caches.indexed = None if extra else snapshot
        return embedded, index

    async def select_events(
        self,
        query: str,
        k: int = 8,
        *,
        always_include: Sequence[str] = (),
        events: Iterable[EventDefinition] | None = None,
    ) -> list[EventDefinition]:
        """The ``k`` events most relevant to ``query`` among ``events`` (default: actionable).

        Events named in ``always_include`` come first and do not count towards ``k``. When
        there are no more candidates than ``k``, all of them are returned without ranking.
        """
        check_int(k, "k", minimum=0, maximum=MAX_SELECTED)
        problem = text_problem(query, max_length=MAX_QUERY_LENGTH)
        if problem is not None:
            raise InvalidArgumentError(f"query {problem}")
        pinned_names = [
            validate_event_name(name) for name in names_argument(always_include, "always_include")
        ]
        if events is not None:
            events = definitions_argument(events, "events")
        candidates = {
            e.event_name: e
            for e in (await self.discover_actionable_events() if events is None else events)
        }
        pinned: list[EventDefinition] = []
        for name in dict.fromkeys(pinned_names):
            event = candidates.get(name) or await self.get_event_info(name)
            if event is None:
                raise UnknownEventError(name)
            pinned.append(event)
        pinned_names = {e.event_name for e in pinned}
        rest = [name for name in candidates if name not in pinned_names]
        if len(rest) <= k:
            return pinned + [candidates[name] for name in rest]
        _, index = await self._sync_with(candidates.values())
        ranked = await index.rank(query, k, among=rest)
        return pinned + [candidates[name] for name, _ in ranked]

    async def select_tools(
        self,
        query: str,
        k: int = 8,
        *,
        always_include: Sequence[str] = (),
        events: Iterable[EventDefinition] | None = None,
        context: ToolContext | Mapping[str, Any] | None = None,
        handle_errors: bool = False,
    ) -> list[EventTool]:
        """Tools for the events :meth:`select_events` picks for ``query``."""
        selected = await self.select_events(query, k, always_include=always_include, events=events)
        return self.as_tools(selected, context=context, handle_errors=handle_errors)

    def close(self, *, close_bus: bool = False) -> None:
        """Stop the toolkit's private loop thread; the registry and bus stay open (not ours).

        ``close_bus=True`` also closes the bus, on the event loop it lives on: the way for
        synchronous programs, whose bus lives on the toolkit's private loop, to release it.
        """
        if self._view_of is not None:
            return
        if close_bus:
            self._bridge.run(self._close_bus)
        self._bridge.close()

    async def aclose(self, *, close_bus: bool = False) -> None:
        """:meth:`close` from async code; a toolkit made by ``from_settings`` closes both."""
        if self._view_of is not None:
            return
        if close_bus or self._owns_backends:
            await self._bridge.arun(self._close_bus)
        if self._owns_backends:
            await self.registry.aclose()
        await asyncio.to_thread(self._bridge.close)

    async def _close_bus(self) -> None:
        closer = getattr(self.bus, "aclose", None)
        if closer is not None:
            await closer()


def _lookup_key(name: Any) -> str:
    """A name to look up; anything but a string is unknown, not a TypeError."""
    if not isinstance(name, str):
        raise UnknownEventError(shown(name), f"no event or tool named {shown(name)}")
    return name


def _on_topic(
    snapshot: _Snapshot, topic: EventTopic | str | None, pattern: str | None = None
) -> list[EventDefinition]:
    """The snapshot's events on ``topic`` (None = any) matching ``pattern``, by name."""
    wanted_topic = None if topic is None else parse_topic(topic)
    return [
        event
        for event in sorted(snapshot.events.values(), key=lambda e: e.event_name)
        if (wanted_topic is None or event.topic == wanted_topic)
        and (not pattern or _name_matches(event.event_name, pattern))
    ]


def _name_matches(name: str, pattern: str) -> bool:
    if any(ch in pattern for ch in "*?["):
        return fnmatch.fnmatchcase(name.lower(), pattern.lower())
    return pattern.lower() in name.lower()
