"""The event bus: Redis Streams, at-least-once with idempotent handlers and dead letters."""

from soorma_lc.bus.consumer import Subscription
from soorma_lc.bus.dead_letters import DeadLetter
from soorma_lc.bus.health import SubscriptionHealth
from soorma_lc.bus.publisher import BusPublisher
from soorma_lc.bus.streams import ConsumerStats, GroupStats, RedisStreamsBus, StreamStats

__all__ = [
    "BusPublisher",
    "ConsumerStats",
    "DeadLetter",
    "GroupStats",
    "RedisStreamsBus",
    "StreamStats",
    "Subscription",
    "SubscriptionHealth",
]
