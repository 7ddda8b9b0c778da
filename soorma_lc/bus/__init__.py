"""The event bus: Redis Streams, at-least-once with idempotent handlers and dead letters."""

from soorma_lc.bus.consumer import Subscription
from soorma_lc.bus.dead_letters import DeadLetter
from soorma_lc.bus.health import SubscriptionHealth
from soorma_lc.bus.publisher import BusPublisher
from soorma_lc.bus.streams import GroupStats, RedisStreamsBus, StreamStats

__all__ = [
    "BusPublisher",
    "DeadLetter",
    "GroupStats",
    "RedisStreamsBus",
    "StreamStats",
    "Subscription",
    "SubscriptionHealth",
]
