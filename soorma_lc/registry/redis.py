"""RedisRegistry: one registry shared by every process that points at the same Redis.

Layout per tenant (one Redis Cluster hash tag, so every script's keys live in one slot)::

    <prefix>{<tenant>}:events    hash  event name -> canonical JSON definition
    <prefix>{<tenant>}:agents    hash  agent id -> canonical JSON definition
    <prefix>{<tenant>}:expiry    zset  agent id -> expiry time (ms, Redis server clock)
    <prefix>{<tenant>}:version   counter bumped by every write a reader can see
    <prefix>{<tenant>}:schemas   hash  "<schema name>\n<version>" -> canonical JSON schema
    <prefix>{<tenant>}:schemas:latest  hash  schema name -> its last registered version's JSON

Every write is one Lua script, so the data and the version counter change together, and all
expiry arithmetic uses the Redis server's ``TIME``: machines with skewed clocks still agree on
which agents are live.
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractContextManager
from typing import Any

import redis.asyncio

from soorma_lc.backends.redis_clients import reply_text
from soorma_lc.backends.redis_component import RedisComponent
from soorma_lc.backends.redis_errors import redis_errors
from soorma_lc.checks import check_label, check_name
from soorma_lc.config import DEFAULT_TENANT_ID, Settings
from soorma_lc.errors import (
    RegistryConflictError,
    RegistryResponseError,
    RegistryUnavailableError,
    UnknownAgentError,
)
from soorma_lc.events import (
    AgentDefinition,
    EventDefinition,
    EventTopic,
    PayloadSchema,
    validate_event_name,
)
from soorma_lc.registry.common import (
    DEFAULT_AGENT_TTL,
    DEFAULT_PURGE_AFTER,
    agent_events,
    check_agent,
    check_agent_id,
    check_event,
    check_lifetimes,
    check_schema,
    check_topic,
    decode,
    encode,
    select_agents,
    select_events,
)
from soorma_lc.registry.schemas import check_schema_key, resolve_schemas

DEFAULT_PREFIX = "soorma:registry:"

# Milliseconds on the server clock, formatted as an integer for ZADD / ZRANGEBYSCORE.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function ms(x) return string.format('%d', x) end
local function is_live(agent_id)
  local expiry = redis.call('ZSCORE', KEYS[3], agent_id)
  return expiry and tonumber(expiry) > now
end
"""

# KEYS: events, agents, expiry, version
# ARGV: agent id ('' = events only), agent JSON, ttl ms, purge ms, then event name/JSON pairs.
_REGISTER = (
    _NOW
    + """
local changed = false
for i = 5, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) ~= ARGV[i + 1] then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    changed = true
  end
end
local agent_id = ARGV[1]
if agent_id ~= '' then
  if not is_live(agent_id) or redis.call('HGET', KEYS[2], agent_id) ~= ARGV[2] then
    changed = true
  end
  redis.call('HSET', KEYS[2], agent_id, ARGV[2])
  redis.call('ZADD', KEYS[3], ms(now + tonumber(ARGV[3])), agent_id)
  local stale = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf',
                           '(' .. ms(now - tonumber(ARGV[4])), 'LIMIT', 0, 100)
  for _, old_id in ipairs(stale) do
    redis.call('HDEL', KEYS[2], old_id)
    redis.call('ZREM', KEYS[3], old_id)
  end
end
if changed then redis.call('INCR', KEYS[4]) end
return changed and 1 or 0
"""
)

# KEYS: events, agents, expiry, version; ARGV: agent id, ttl ms. Returns 0 if unknown.
_HEARTBEAT = (
    _NOW
    + """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
if not is_live(ARGV[1]) then redis.call('INCR', KEYS[4]) end
redis.call('ZADD', KEYS[3], ms(now + tonumber(ARGV[2])), ARGV[1])
return 1
"""
)

# KEYS: events, agents, expiry, version; ARGV: agent id. Returns 1 if it was stored.
_DEREGISTER = """
local removed = redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if removed == 1 then redis.call('INCR', KEYS[4]) end
return removed
"""

# KEYS: events, agents, expiry, version; ARGV: agent id ('' = all). Returns id, JSON, id, ...
_LIVE_AGENTS = (
    _NOW
    + """
local ids
if ARGV[1] ~= '' then
  ids = is_live(ARGV[1]) and {ARGV[1]} or {}
else
  ids = redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. ms(now), '+inf')
end
local out = {}
for _, agent_id in ipairs(ids) do
  local raw = redis.call('HGET', KEYS[2], agent_id)
  if raw then
    out[#out + 1] = agent_id
    out[#out + 1] = raw
  end
end
return out
"""
)

# KEYS: events, agents, expiry, version. Returns "<changes>.<live agents>".
_VERSION = (
    _NOW
    + """
local live = redis.call('ZCOUNT', KEYS[3], '(' .. ms(now), '+inf')
return (redis.call('GET', KEYS[4]) or '0') .. '.' .. live
"""
)


# KEYS: schemas, schemas:latest, version; ARGV: "<name>\n<version>", schema JSON, name.
# Returns 1 when stored, 0 when the same version was stored identically, -1 on a conflict.
_REGISTER_SCHEMA = """
local known = redis.call('HGET', KEYS[1], ARGV[1])
if known then
  if known == ARGV[2] then return 0 end
  return -1
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[2])
redis.call('INCR', KEYS[3])
return 1
"""


def _schema_field(schema_name: str, version: str) -> str:
    """The ``schemas`` hash field of one version (labels never contain a line break)."""
    return f"{schema_name}\n{version}"


class RedisRegistry(RedisComponent):
    """A :class:`~soorma_lc.registry.base.Registry` stored in Redis, scoped by tenant.

    Built like every Redis-backed component (:mod:`soorma_lc.backends.redis_component`):
    ``RedisRegistry(client, ...)`` on an injected ``redis.asyncio`` client, or ``from_url`` /
    ``from_settings`` (the settings' tenant), which own theirs. Agents stay live for
    ``agent_ttl`` seconds after registering or their last heartbeat; expired agents are kept for
    ``purge_after`` seconds so a late heartbeat revives them.
    """

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        tenant_id: str = DEFAULT_TENANT_ID,
        agent_ttl: float = DEFAULT_AGENT_TTL,
        purge_after: float = DEFAULT_PURGE_AFTER,
        owns_client: bool = False,
    ) -> None:
        check_lifetimes(agent_ttl, purge_after)
        check_name(prefix, "prefix")
        check_label(tenant_id, "tenant_id")
        super().__init__(client, owns_client=owns_client)
        self.tenant_id = tenant_id
        self.agent_ttl = agent_ttl
        self.purge_after = purge_after
        base = f"{prefix}{{{self.tenant_id}}}:"
        self._keys = [f"{base}{part}" for part in ("events", "agents", "expiry", "version")]
        self._events_key = self._keys[0]
        self._schema_keys = [f"{base}schemas", f"{base}schemas:latest", self._keys[3]]
        self._register = client.register_script(_REGISTER)
        self._heartbeat = client.register_script(_HEARTBEAT)
        self._deregister = client.register_script(_DEREGISTER)
        self._live_agents = client.register_script(_LIVE_AGENTS)
        self._version = client.register_script(_VERSION)
        self._register_schema = client.register_script(_REGISTER_SCHEMA)

    @classmethod
    def settings_options(cls, settings: Settings) -> dict[str, Any]:
        """The settings' tenant (starting the embedded redis-server, when that is the one
        configured, blocks briefly, once per process and data dir)."""
        return {"tenant_id": settings.tenant_id}

    def _errors(self, operation: str) -> AbstractContextManager[None]:
        """The one Redis error mapping, raising the registry's own error classes."""
        return redis_errors(
            f"Redis registry (tenant {self.tenant_id!r}) {operation}",
            unavailable=RegistryUnavailableError,
            refused=RegistryResponseError,
        )

    @property
    def _ttl_ms(self) -> int:
        return max(1, round(self.agent_ttl * 1000))

    async def _write(self, agent: AgentDefinition | None, events: list[EventDefinition]) -> None:
        args: list[str | int] = [
            agent.agent_id if agent else "",
            encode(agent) if agent else "",
            self._ttl_ms,
            round(self.purge_after * 1000),
        ]
        for event in events:
            args += [event.event_name, encode(event)]
        with self._errors("register"):
            await self._register(keys=self._keys, args=args)

    async def register_event(self, event: EventDefinition) -> None:
        """Create or replace ``event``; the version changes only if its definition did."""
        await self._write(None, [check_event(event)])

    async def get_event(self, event_name: str) -> EventDefinition | None:
        """The definition of ``event_name`` (named schemas filled in), or None."""
        validate_event_name(event_name)
        with self._errors("get_event"):
            raw = await self.client.hget(self._events_key, event_name)
        event = None if raw is None else decode(EventDefinition, raw, event_name)
        return None if event is None else (await resolve_schemas([event], self._latest))[0]

    async def list_events(self, topic: EventTopic | str | None = None) -> list[EventDefinition]:
        """Registered events (named schemas filled in), optionally only those on ``topic``,
        sorted by name."""
        wanted = check_topic(topic)
        with self._errors("list_events"):
            stored = await self.client.hgetall(self._events_key)
        events = (decode(EventDefinition, raw, reply_text(name)) for name, raw in stored.items())
        chosen = select_events((e for e in events if e is not None), wanted)
        return await resolve_schemas(chosen, self._latest)

    async def register_schema(self, schema: PayloadSchema) -> None:
        """Register one version of a named schema (identical again: no-op; different:
        :class:`RegistryConflictError`); it becomes the name's latest version."""
        schema = check_schema(schema)
        args = [_schema_field(schema.schema_name, schema.version), encode(schema)]
        with self._errors("register_schema"):
            stored = await self._register_schema(
                keys=self._schema_keys, args=[*args, schema.schema_name]
            )
        if int(stored) < 0:
            raise RegistryConflictError(
                f"schema {schema.schema_name!r} version {schema.version!r} is registered with "
                "other contents; a version is immutable, register a new one"
            )

    async def get_schema(
        self, schema_name: str, version: str | None = None
    ) -> PayloadSchema | None:
        """That version of ``schema_name``, or its latest; None when unknown."""
        check_schema_key(schema_name, version)
        with self._errors("get_schema"):
            if version is None:
                raw = await self.client.hget(self._schema_keys[1], schema_name)
            else:
                raw = await self.client.hget(
                    self._schema_keys[0], _schema_field(schema_name, version)
                )
        return None if raw is None else decode(PayloadSchema, raw, schema_name)

    async def _latest(self, names: Collection[str]) -> dict[str, PayloadSchema]:
        """The latest version of each named schema that has one (one round trip)."""
        ordered = sorted(names)
        with self._errors("reading schemas"):
            stored = await self.client.hmget(self._schema_keys[1], ordered)
        found = {
            name: decode(PayloadSchema, raw, name)
            for name, raw in zip(ordered, stored, strict=True)
            if raw is not None
        }
        return {name: schema for name, schema in found.items() if schema is not None}

    async def register_agent(self, agent: AgentDefinition) -> None:
        """Create or replace ``agent`` with its capabilities' events, and start its TTL."""
        agent = check_agent(agent)
        await self._write(agent, agent_events(agent))

    async def _fetch_live(self, agent_id: str) -> list[AgentDefinition]:
        with self._errors("reading live agents"):
            flat = await self._live_agents(keys=self._keys, args=[agent_id])
        agents = (
            decode(AgentDefinition, raw, reply_text(key))
            for key, raw in zip(flat[::2], flat[1::2], strict=True)
        )
        return [a for a in agents if a is not None]

    async def get_agent(self, agent_id: str) -> AgentDefinition | None:
        """The live agent ``agent_id``, or None when unknown or expired."""
        found = await self._fetch_live(check_agent_id(agent_id))
        return found[0] if found else None

    async def list_agents(self, consumed_event: str | None = None) -> list[AgentDefinition]:
        """Live agents, optionally only those consuming ``consumed_event``, sorted by id."""
        if consumed_event is not None:
            validate_event_name(consumed_event)
        return select_agents(await self._fetch_live(""), consumed_event)

    async def heartbeat(self, agent_id: str) -> None:
        """Extend ``agent_id``'s TTL (reviving it if it had expired)."""
        check_agent_id(agent_id)
        with self._errors("heartbeat"):
            found = await self._heartbeat(keys=self._keys, args=[agent_id, self._ttl_ms])
        if not found:
            raise UnknownAgentError(agent_id)

    async def deregister_agent(self, agent_id: str) -> bool:
        """Remove ``agent_id``; True if it was stored (live or expired)."""
        check_agent_id(agent_id)
        with self._errors("deregister_agent"):
            return bool(await self._deregister(keys=self._keys, args=[agent_id]))

    async def version(self) -> str:
        """``"<changes>.<live agents>"``: differs whenever anything a reader sees changed.

        The change counter moves on every visible write; within one counter value the set of
        live agents can only shrink (expiry), so the live count pins it down.
        """
        with self._errors("version"):
            return reply_text(await self._version(keys=self._keys))
