"""Hypothesis: arbitrary envelopes come out of a consumer group exactly as they were published."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soorma_lc.bus import RedisStreamsBus
from soorma_lc.events import EventEnvelope, EventTopic

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)
# Names and ids are visible text (no control, invisible or separator characters).
_name = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Co", "Cn", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=60,
)
# ISO 8601 offsets are whole minutes: that is what a JSON timestamp can carry.
_zones = st.integers(min_value=-23 * 60, max_value=23 * 60).map(
    lambda minutes: UTC if minutes == 0 else timezone(timedelta(minutes=minutes))
)
_optional = st.none() | _name

envelopes = st.builds(
    EventEnvelope,
    id=st.uuids().map(str) | _name,
    source=_name,
    type=_name,
    time=st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=_zones
    ),
    data=st.none() | st.dictionaries(_text, _json, max_size=5),
    topic=st.sampled_from(list(EventTopic)),
    subject=_optional,
    correlation_id=_optional,
    tenant_id=_optional,
    user_id=_optional,
    session_id=_optional,
    goal_id=_optional,
    plan_id=_optional,
    response_event=st.none() | _name,
    response_topic=st.none() | st.sampled_from(list(EventTopic)),
    trace_id=_optional,
    parent_event_id=_optional,
)


async def _round_trip(url: str, envelope: EventEnvelope) -> EventEnvelope:
    bus = RedisStreamsBus.from_url(url, prefix=f"rt-{uuid.uuid4().hex}:")
    received: asyncio.Future[EventEnvelope] = asyncio.get_running_loop().create_future()

    async def handler(event: EventEnvelope) -> None:
        received.set_result(event)

    try:
        await bus.subscribe("roundtrip", [envelope.topic or ""], handler, block=0.05)
        assert await bus.publish(envelope) == envelope.id
        return await asyncio.wait_for(received, 10)
    finally:
        await bus.aclose()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(envelope=envelopes)
def test_arbitrary_envelopes_round_trip_unchanged(
    redis_server: str, envelope: EventEnvelope
) -> None:
    received = asyncio.run(_round_trip(redis_server, envelope))
    assert received == envelope
    assert received.model_dump(mode="json") == envelope.model_dump(mode="json") or (
        received.time == envelope.time
    )
