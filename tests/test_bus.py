"""RedisStreamsBus on a real redis-server (and, where a test takes the ``bus`` fixture, on a
Redis Cluster too): verbs, groups, retries, dead letters, trimming."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from soorma_lc.bus import RedisStreamsBus
from soorma_lc.bus.codec import decode
from soorma_lc.errors import (
    BackendUnavailableError,
    BusError,
    DeadLetterNotFoundError,
    EventTooLargeError,
    InvalidEventError,
    SerializationError,
    SoormaValidationError,
)
from soorma_lc.events import EventEnvelope, EventTopic
from tests.bus_helpers import eventually

REQUESTS = EventTopic.ACTION_REQUESTS


@pytest.fixture(params=["redis_url", "cluster_url"], ids=["redis", "cluster"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[RedisStreamsBus]:
    """A bus on one Redis server, and on a Redis Cluster (topic streams in different slots)."""
    bus = RedisStreamsBus.from_url(
        request.getfixturevalue(request.param),
        claim_idle=0.5,
        retry_backoff=0.01,
        max_retry_backoff=0.05,
    )
    yield bus
    await bus.aclose()


async def stream_envelopes(bus: RedisStreamsBus, topic: EventTopic) -> list[EventEnvelope]:
    entries = await bus.client.xrange(bus.keys.stream(topic))
    return [decode(fields) for _, fields in entries]


class Recorder:
    """A handler recording what it saw; optionally failing on chosen event types."""

    def __init__(self, fail_types: set[str] | None = None) -> None:
        self.events: list[EventEnvelope] = []
        self.attempts: Counter[str] = Counter()
        self.fail_types = fail_types or set()

    async def __call__(self, envelope: EventEnvelope) -> None:
        self.attempts[envelope.id] += 1
        if envelope.type in self.fail_types:
            raise RuntimeError(f"cannot handle {envelope.type}")
        self.events.append(envelope)

    @property
    def ids(self) -> list[str]:
        return [event.id for event in self.events]


# -- verbs -----------------------------------------------------------------------------------


async def test_request_respond_announce_set_soorma_fields(bus: RedisStreamsBus) -> None:
    request_id = await bus.request(
        "report.requested",
        {"topic": "ai"},
        response_event="report.completed",
        tenant_id="t1",
        user_id="u1",
        session_id="s1",
        plan_id="p1",
        goal_id="g1",
        trace_id="tr1",
    )
    [request] = await stream_envelopes(bus, REQUESTS)
    assert request.id == request_id
    assert request.response_event == "report.completed"
    assert request.correlation_id  # a fresh one was made
    assert (request.tenant_id, request.user_id, request.plan_id) == ("t1", "u1", "p1")

    response_id = await bus.respond(request, data={"text": "done"})
    [response] = await stream_envelopes(bus, EventTopic.ACTION_RESULTS)
    assert response.id == response_id
    assert response.type == "report.completed"  # the request's response_event
    assert response.parent_event_id == request.id
    for field in ("correlation_id", "plan_id", "tenant_id", "user_id", "session_id", "goal_id"):
        assert getattr(response, field) == getattr(request, field), field
    assert response.trace_id == "tr1"
    assert response.data == {"text": "done"}

    await bus.announce("report.published", {"url": "x"}, tenant_id="t1")
    [fact] = await stream_envelopes(bus, EventTopic.BUSINESS_FACTS)
    assert fact.type == "report.published"
    assert fact.tenant_id == "t1"


async def test_respond_uses_response_topic_and_request_id_as_correlation(
    bus: RedisStreamsBus,
) -> None:
    request = EventEnvelope(
        type="a.requested", topic=REQUESTS, response_topic=EventTopic.PLAN_EVENTS
    )
    await bus.respond(request, "a.completed", {"ok": True})
    [response] = await stream_envelopes(bus, EventTopic.PLAN_EVENTS)
    assert response.correlation_id == request.id


async def test_request_keeps_given_correlation_id(bus: RedisStreamsBus) -> None:
    await bus.request("a.requested", {}, response_event="a.completed", correlation_id="c-7")
    [request] = await stream_envelopes(bus, REQUESTS)
    assert request.correlation_id == "c-7"


async def test_verb_errors_are_typed(bus: RedisStreamsBus) -> None:
    with pytest.raises(InvalidEventError, match="response_event"):
        await bus.request("a.requested", {}, response_event="")
    with pytest.raises(InvalidEventError, match="no response_event"):
        await bus.respond(EventEnvelope(type="a.requested", topic=REQUESTS), data={})
    with pytest.raises(InvalidEventError):
        await bus.announce("has space", {})
    assert await bus.client.keys("*") == []


# -- bad input on the publishing side --------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"x": float("nan")}, "non-finite"),
        ({"x": [1, float("inf")]}, r"data\.x\[1\]"),
        ({"x": {1, 2}}, "set"),
        ({"x": {"when": object()}}, r"data\.x\.when"),
        ({"x": {3: "three"}}, "non-string key"),
    ],
)
async def test_data_json_cannot_carry_is_refused_before_writing(
    bus: RedisStreamsBus, data: dict[str, object], match: str
) -> None:
    with pytest.raises(SerializationError, match=match):
        await bus.announce("a.happened", data)
    envelope = EventEnvelope(type="a.happened", topic=REQUESTS)
    envelope.data = data  # type: ignore[assignment]  # bypasses validation, as users can
    with pytest.raises(SerializationError):
        await bus.publish(envelope)
    with pytest.raises(SerializationError):
        await bus.publish_many([EventEnvelope(type="ok.event", topic=REQUESTS), envelope])
    assert await bus.client.keys("*") == []


async def test_self_referencing_data_is_refused_before_writing(bus: RedisStreamsBus) -> None:
    loop: dict[str, object] = {}
    loop["self"] = loop
    with pytest.raises(SerializationError, match="refers to itself"):
        await bus.announce("a.happened", loop)
    assert await bus.client.keys("*") == []


async def test_envelope_without_topic_or_too_large_is_refused(redis_url: str) -> None:
    bus = RedisStreamsBus.from_url(redis_url, max_event_bytes=500)
    try:
        with pytest.raises(InvalidEventError, match="no topic"):
            await bus.publish(EventEnvelope(type="a.happened"))
        with pytest.raises(EventTooLargeError, match="at most 500"):
            await bus.announce("a.happened", {"text": "x" * 600})
        assert await bus.client.keys("*") == []
    finally:
        await bus.aclose()


# -- consumer groups ---------------------------------------------------------------------------


async def test_every_group_sees_every_event_and_instances_of_a_group_split_them(
    bus: RedisStreamsBus,
) -> None:
    planner, auditor_a, auditor_b = Recorder(), Recorder(), Recorder()
    subs = [
        await bus.subscribe("planner", [REQUESTS], planner, block=0.05),
        await bus.subscribe("auditor", [REQUESTS], auditor_a, batch_size=5, block=0.05),
        await bus.subscribe("auditor", [REQUESTS], auditor_b, batch_size=5, block=0.05),
    ]
    published = []
    for _ in range(10):
        batch = [EventEnvelope(type="job.requested", topic=REQUESTS) for _ in range(20)]
        published += await bus.publish_many(batch)
        await asyncio.sleep(0.01)
    await eventually(lambda: len(planner.events) == 200)
    await eventually(lambda: len(auditor_a.events) + len(auditor_b.events) == 200)
    assert sorted(planner.ids) == sorted(published)
    assert sorted(auditor_a.ids + auditor_b.ids) == sorted(published)
    assert not set(auditor_a.ids) & set(auditor_b.ids)
    assert auditor_a.events and auditor_b.events  # both instances got work
    for sub in subs:
        await sub.stop()
    for group in await bus.client.xinfo_groups(bus.keys.stream(REQUESTS)):
        assert group["pending"] == 0


async def test_a_group_started_later_sees_only_new_events_unless_asked(
    bus: RedisStreamsBus,
) -> None:
    early = await bus.announce("a.happened", {})
    await bus.ensure_group("from-start", [EventTopic.BUSINESS_FACTS], start_from="0")
    late_group, full_group = Recorder(), Recorder()
    await bus.subscribe("late", [EventTopic.BUSINESS_FACTS], late_group, block=0.05)
    await bus.subscribe("from-start", [EventTopic.BUSINESS_FACTS], full_group, block=0.05)
    later = await bus.announce("a.happened", {})
    await eventually(lambda: len(full_group.events) == 2 and len(late_group.events) == 1)
    assert late_group.ids == [later]
    assert sorted(full_group.ids) == sorted([early, later])


async def test_events_published_while_a_group_is_down_are_delivered_on_restart(
    bus: RedisStreamsBus,
) -> None:
    first = Recorder()
    sub = await bus.subscribe("billing", [REQUESTS], first, block=0.05)
    await sub.stop()
    ids = [await bus.request("bill.requested", {"n": n}, response_event="b.done") for n in range(5)]
    second = Recorder()
    await bus.subscribe("billing", [REQUESTS], second, block=0.05)
    await eventually(lambda: sorted(second.ids) == sorted(ids))


async def test_events_not_accepted_are_acknowledged_without_running(
    bus: RedisStreamsBus,
) -> None:
    recorder = Recorder()
    await bus.subscribe(
        "picky", [REQUESTS], recorder, accepts=lambda e: e.type == "wanted.event", block=0.05
    )
    await bus.request("other.event", {}, response_event="x.done")
    wanted = await bus.request("wanted.event", {}, response_event="x.done")
    await eventually(lambda: recorder.ids == [wanted])
    await eventually(_no_pending(bus, "picky"))
    other = next(e for e in await stream_envelopes(bus, REQUESTS) if e.type == "other.event")
    assert await bus.completions.completed("picky", [wanted, other.id]) == [True, False]


def _no_pending(
    bus: RedisStreamsBus, group: str, topic: EventTopic = REQUESTS
) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        summary = await bus.client.xpending(bus.keys.stream(topic), group)
        return summary["pending"] == 0

    return check


# -- idempotency and reclaiming ----------------------------------------------------------------


async def test_the_same_event_published_twice_runs_once_per_group(bus: RedisStreamsBus) -> None:
    recorder = Recorder()
    other = Recorder()
    await bus.subscribe("once", [REQUESTS], recorder, block=0.05)
    await bus.subscribe("also-once", [REQUESTS], other, block=0.05)
    envelope = EventEnvelope(type="pay.requested", topic=REQUESTS)
    await bus.publish(envelope)
    await eventually(lambda: recorder.ids == [envelope.id] and other.ids == [envelope.id])
    await eventually(_no_pending(bus, "once"))
    await bus.publish(envelope)  # e.g. a publisher retrying after a lost reply
    marker = await bus.request("marker.event", {}, response_event="m.done")
    await eventually(lambda: marker in recorder.ids and marker in other.ids)
    assert recorder.attempts[envelope.id] == 1
    assert other.attempts[envelope.id] == 1


async def test_entries_of_a_dead_consumer_are_reclaimed_and_completed_ones_not_rerun(
    bus: RedisStreamsBus,
) -> None:
    await bus.ensure_group("reclaim", [REQUESTS])
    done_before = EventEnvelope(type="job.requested", topic=REQUESTS)
    unfinished = EventEnvelope(type="job.requested", topic=REQUESTS)
    await bus.publish_many([done_before, unfinished])
    stream = bus.keys.stream(REQUESTS)
    # A consumer that read both entries, completed the first (marker written), then died.
    read = await bus.client.xreadgroup("reclaim", "dead-consumer", {stream: ">"}, count=10)
    assert len(read[0][1]) == 2
    await bus.completions.record("reclaim", [done_before.id])

    recorder = Recorder()
    sub = await bus.subscribe("reclaim", [REQUESTS], recorder, block=0.05)
    await eventually(lambda: recorder.ids == [unfinished.id])
    await eventually(_no_pending(bus, "reclaim"))
    assert recorder.attempts[done_before.id] == 0
    assert sub.name != "dead-consumer"


async def test_a_slow_handler_is_not_taken_over_by_another_consumer(redis_url: str) -> None:
    bus = RedisStreamsBus.from_url(redis_url, claim_idle=0.3)
    try:
        runs: Counter[str] = Counter()

        async def slow(envelope: EventEnvelope) -> None:
            runs[envelope.id] += 1
            await asyncio.sleep(1.5)  # five times claim_idle

        await bus.subscribe("slow", [REQUESTS], slow, block=0.05)
        await bus.subscribe("slow", [REQUESTS], slow, block=0.05)
        event_id = await bus.request("slow.requested", {}, response_event="s.done")
        await eventually(lambda: runs[event_id] > 0)
        await eventually(_no_pending(bus, "slow"))
        assert runs == {event_id: 1}
    finally:
        await bus.aclose()


# -- failures, dead letters, replay ------------------------------------------------------------


async def test_poison_event_is_dead_lettered_after_max_deliveries_and_replay_works(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    bus = RedisStreamsBus.from_url(redis_url, max_deliveries=3, retry_backoff=0.01, claim_idle=0.5)
    try:
        recorder = Recorder(fail_types={"poison.requested"})
        bystander = Recorder()
        await bus.subscribe("fragile", [REQUESTS], recorder, block=0.05)
        await bus.subscribe("bystander", [REQUESTS], bystander, block=0.05)
        with caplog.at_level(logging.ERROR, logger="soorma_lc.bus"):
            poison = await bus.request("poison.requested", {"n": 1}, response_event="p.done")
            healthy = await bus.request("fine.requested", {}, response_event="f.done")
            await eventually(lambda: recorder.attempts[poison] == 3)
            await eventually(lambda: healthy in recorder.ids)  # the consumer kept running
            await eventually(_no_pending(bus, "fragile"))
        assert any(poison in record.getMessage() for record in caplog.records)

        [letter] = await bus.dead_letters()
        assert (letter.group, letter.topic, letter.event_id) == ("fragile", REQUESTS, poison)
        assert letter.event_type == "poison.requested"
        assert letter.deliveries == 3
        assert "RuntimeError: cannot handle poison.requested" in letter.error
        assert letter.envelope is not None and letter.envelope.data == {"n": 1}
        assert await bus.dead_letters(group="other") == []
        assert await bus.client.hlen(bus.keys.errors("fragile")) == 0

        recorder.fail_types.clear()  # the bug is fixed; replay
        await eventually(lambda: poison in bystander.ids)
        [new_entry] = await bus.replay(letter.id)
        assert new_entry
        await eventually(lambda: poison in recorder.ids)
        assert await bus.dead_letters() == []
        marker = await bus.request("marker.event", {}, response_event="m.done")
        await eventually(lambda: marker in bystander.ids)
        assert bystander.attempts[poison] == 1  # the replay was only for "fragile"

        with pytest.raises(DeadLetterNotFoundError):
            await bus.replay([letter.id])
    finally:
        await bus.aclose()


async def test_garbage_entries_go_to_dead_letters_and_the_consumer_keeps_going(
    redis_url: str,
) -> None:
    bus = RedisStreamsBus.from_url(redis_url, max_event_bytes=2000)
    try:
        recorder = Recorder()
        await bus.subscribe("robust", [REQUESTS], recorder, block=0.05)
        stream = bus.keys.stream(REQUESTS)
        await bus.client.xadd(stream, {"unexpected": "field"})
        await bus.client.xadd(stream, {"e": b"\xff\xfe not json"})
        await bus.client.xadd(stream, {"e": b'{"id": "x", "data": {}}'})  # no type
        await bus.client.xadd(stream, {"e": b'{"type": "' + b"a" * 3000 + b'"}'})
        good = await bus.request("good.requested", {}, response_event="g.done")
        await eventually(lambda: recorder.ids == [good])
        await eventually(_no_pending(bus, "robust"))
        letters = await bus.dead_letters()
        assert len(letters) == 4
        errors = sorted(letter.error for letter in letters)
        assert all(error.startswith("invalid envelope") for error in errors)
        assert any("no 'e' field" in error for error in errors)
        assert any("type" in error and "Field required" in error for error in errors)
        assert any("at most 2000" in error for error in errors)
        assert all(letter.envelope is None and letter.event_id is None for letter in letters)
        original = {letter.fields.get(b"unexpected") for letter in letters}
        assert b"field" in original  # the original entry is kept whole
    finally:
        await bus.aclose()


async def test_dead_letters_decode_with_the_bus_limit(redis_url: str) -> None:
    bus = RedisStreamsBus.from_url(redis_url, max_event_bytes=2 * 1024 * 1024, max_deliveries=1)
    try:
        await bus.subscribe("strict", [REQUESTS], Recorder({"big.requested"}), block=0.05)
        big = {"blob": "x" * (1024 * 1024)}  # over the codec's 1 MiB default, within the bus's
        event_id = await bus.request("big.requested", big, response_event="big.done")
        await eventually(_xlen_is(bus, 1))
        [letter] = await bus.dead_letters()
        assert letter.envelope is not None and letter.envelope.id == event_id
    finally:
        await bus.aclose()


async def test_dead_letters_are_filtered_and_paged(bus: RedisStreamsBus) -> None:
    stream = bus.keys.stream(REQUESTS)
    for group in ("a", "b"):
        await bus.subscribe(group, [REQUESTS], Recorder(), block=0.05)
    for n in range(150):
        await bus.client.xadd(stream, {"junk": str(n)})
    await eventually(_xlen_is(bus, 300))
    assert len(await bus.dead_letters(count=1000)) == 300
    only_a = await bus.dead_letters(group="a", count=1000)
    assert len(only_a) == 150 and {letter.group for letter in only_a} == {"a"}
    newest = await bus.dead_letters(count=5)
    assert [letter.id for letter in newest] == sorted((x.id for x in newest), reverse=True)
    assert await bus.dead_letters(topic=EventTopic.BUSINESS_FACTS) == []
    assert await bus.dead_letter_count() == 300


def _xlen_is(bus: RedisStreamsBus, size: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await bus.client.xlen(bus.keys.dead_letters) == size

    return check


async def test_stop_waits_for_running_handlers_then_flushes_their_acks(
    bus: RedisStreamsBus,
) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def patient(envelope: EventEnvelope) -> None:
        started.set()
        await release.wait()

    sub = await bus.subscribe("patient", [REQUESTS], patient, block=0.05)
    event_id = await bus.request("slow.requested", {}, response_event="s.done")
    await asyncio.wait_for(started.wait(), 10)
    stopping = asyncio.create_task(sub.stop())
    for _ in range(50):  # let stop() get as far as it can on its own
        await asyncio.sleep(0)
    assert not stopping.done(), "stop() returned while a handler was still running"
    release.set()
    await stopping
    summary = await bus.client.xpending(bus.keys.stream(REQUESTS), "patient")
    assert summary["pending"] == 0
    assert await bus.completions.completed("patient", [event_id]) == [True]


async def test_consumer_stop_leaves_unfinished_work_pending_for_others(redis_url: str) -> None:
    bus = RedisStreamsBus.from_url(redis_url, claim_idle=0.3)
    try:
        started = asyncio.Event()

        async def stuck(envelope: EventEnvelope) -> None:
            started.set()
            await asyncio.sleep(60)

        sub = await bus.subscribe("handover", [REQUESTS], stuck, block=0.05)
        event_id = await bus.request("long.requested", {}, response_event="l.done")
        await asyncio.wait_for(started.wait(), 10)
        await sub.stop(timeout=0.1)  # the handler is cancelled; its entry stays pending
        summary = await bus.client.xpending(bus.keys.stream(REQUESTS), "handover")
        assert summary["pending"] == 1

        recorder = Recorder()
        await bus.subscribe("handover", [REQUESTS], recorder, block=0.05)
        await eventually(lambda: recorder.ids == [event_id])
        await eventually(_no_pending(bus, "handover"))
    finally:
        await bus.aclose()


# -- bounded memory --------------------------------------------------------------------------


async def test_streams_are_trimmed_by_maxlen_or_retention(redis_url: str) -> None:
    by_length = RedisStreamsBus.from_url(redis_url, maxlen=50)
    by_age = RedisStreamsBus.from_url(redis_url, prefix="aged:", retention=0.0)
    try:
        for bus in (by_length, by_age):
            for _ in range(10):
                batch = [EventEnvelope(type="a.happened", topic=REQUESTS) for _ in range(100)]
                await bus.publish_many(batch)
            length = await bus.client.xlen(bus.keys.stream(REQUESTS))
            assert length < 300, (bus.keys.prefix, length)  # approximate: whole nodes go
    finally:
        await by_length.aclose()
        await by_age.aclose()


async def test_subscription_arguments_are_checked(bus: RedisStreamsBus) -> None:
    with pytest.raises(SoormaValidationError, match="at least one topic"):
        await bus.subscribe("g", [], Recorder())
    with pytest.raises(SoormaValidationError, match="concurrency"):
        await bus.subscribe("g", [REQUESTS], Recorder(), concurrency=0)
    with pytest.raises(SoormaValidationError, match="max_deliveries"):
        RedisStreamsBus(bus.client, max_deliveries=0)
    with pytest.raises(SoormaValidationError, match="claim_idle"):
        RedisStreamsBus(bus.client, claim_idle=0)


async def test_completion_log_records_in_chunks_checks_per_group_and_expires(
    redis_url: str,
) -> None:
    bus = RedisStreamsBus.from_url(redis_url, dedupe_ttl=60)
    try:
        ids = [f"event-{n}" for n in range(1200)]  # more than one script call's worth
        await bus.completions.record("g", ids[:700])
        assert await bus.completions.completed("g", ids) == [True] * 700 + [False] * 500
        assert await bus.completions.completed("other-group", ids[:3]) == [False] * 3
        keys = await bus.client.keys(f"{bus.keys.prefix}completed:*")
        assert keys
        for key in keys:
            assert 0 < await bus.client.ttl(key) <= 120  # between one and two dedupe_ttl
    finally:
        await bus.aclose()


async def test_an_unreachable_redis_gives_typed_errors() -> None:
    bus = RedisStreamsBus.from_url("redis://127.0.0.1:1/0")
    try:
        with pytest.raises(BackendUnavailableError):
            await bus.announce("a.happened", {})
        with pytest.raises(BackendUnavailableError):
            await bus.publish_many([EventEnvelope(type="a.happened", topic=REQUESTS)])
        with pytest.raises(BackendUnavailableError):
            await bus.subscribe("g", [REQUESTS], Recorder())
    finally:
        await bus.aclose()


async def test_an_accepts_callback_that_raises_dead_letters_the_event(
    bus: RedisStreamsBus,
) -> None:
    def broken(envelope: EventEnvelope) -> bool:
        raise KeyError("oops")

    recorder = Recorder()
    await bus.subscribe("careless", [REQUESTS], recorder, accepts=broken, block=0.05)
    event_id = await bus.request("x.requested", {}, response_event="x.done")

    async def dead() -> bool:
        return len(await bus.dead_letters()) == 1

    await eventually(dead)
    [letter] = await bus.dead_letters()
    assert letter.event_id == event_id and "accepts() raised KeyError" in letter.error
    assert recorder.events == []


async def test_stale_consumers_are_pruned_once_their_work_is_reclaimed(redis_url: str) -> None:
    bus = RedisStreamsBus.from_url(redis_url, claim_idle=0.1)  # consumers gone after 1 s
    try:
        await bus.ensure_group("tidy", [REQUESTS])
        stream = bus.keys.stream(REQUESTS)
        await bus.client.xgroup_createconsumer(stream, "tidy", "crashed-idle")
        event_id = await bus.request("x.requested", {}, response_event="x.done")
        await bus.client.xreadgroup("tidy", "crashed-busy", {stream: ">"}, count=1)
        recorder = Recorder()
        sub = await bus.subscribe("tidy", [REQUESTS], recorder, block=0.05)

        async def only_live_consumer_left() -> bool:
            consumers = await bus.client.xinfo_consumers(stream, "tidy")
            return {c["name"].decode() for c in consumers} == {sub.name}

        await eventually(only_live_consumer_left)
        assert recorder.ids == [event_id]  # the busy one's entry was reclaimed first
    finally:
        await bus.aclose()


async def test_a_dead_letter_without_its_entry_refuses_replay(bus: RedisStreamsBus) -> None:
    letter_id = await bus.client.xadd(
        bus.keys.dead_letters, {"topic": REQUESTS.value, "group": "g", "error": "trimmed"}
    )
    with pytest.raises(BusError, match="nothing to replay"):
        await bus.replay(letter_id.decode())
    assert await bus.dead_letter_count() == 1


async def test_invalid_topic_is_a_typed_error(bus: RedisStreamsBus) -> None:
    async def handler(event: EventEnvelope) -> None:
        raise AssertionError("never called")

    for topic in ("no such topic", "{slot}", "a/b"):
        with pytest.raises(InvalidEventError, match=f"invalid topic {topic!r}"):
            await bus.subscribe("g", [topic], handler)
        with pytest.raises(InvalidEventError, match="invalid topic"):
            await bus.dead_letters(topic=topic)
        with pytest.raises(InvalidEventError, match="invalid topic"):
            await bus.announce("x.happened", {}, topic=topic)
    assert await bus.client.keys("*") == []


async def test_custom_topics_get_their_own_streams(bus: RedisStreamsBus) -> None:
    recorder = Recorder(fail_types={"audit.failed"})
    await bus.subscribe("auditor", ["audit.orders-v2"], recorder, block=0.05)
    first = await bus.announce("order.audited", {"order": 1}, topic="audit.orders-v2")
    request = await bus.request(
        "audit.requested",
        {},
        response_event="audit.done",
        topic="audit.orders-v2",
        response_topic="audit.results",
    )
    await eventually(lambda: {first, request} <= set(recorder.ids))
    assert await bus.client.exists("soorma:bus:stream:audit.orders-v2") == 1
    [received] = [e for e in recorder.events if e.id == request]
    await bus.respond(received, data={"ok": True})
    [response] = await stream_envelopes(bus, "audit.results")
    assert (response.type, response.topic, response.parent_event_id) == (
        "audit.done",
        "audit.results",
        request,
    )
    await bus.announce("business.fact", {})
    stats = {s.topic: s for s in await bus.stats()}
    assert list(stats) == ["business-facts", "audit.orders-v2", "audit.results"]
    assert stats["audit.orders-v2"].length == 2
    assert [g.name for g in stats["audit.orders-v2"].groups] == ["auditor"]
    assert await bus.dead_letters(topic="audit.orders-v2") == []


async def test_stream_listing_escapes_a_glob_in_the_prefix(redis_url: str) -> None:
    plain = RedisStreamsBus.from_url(redis_url, prefix="team:")
    starred = RedisStreamsBus.from_url(redis_url, prefix="te*m:")
    try:
        await plain.announce("x.happened", {}, topic="one")
        await starred.announce("x.happened", {}, topic="two")
        assert [s.topic for s in await starred.stats()] == ["two"]
        assert [s.topic for s in await plain.stats()] == ["one"]
    finally:
        await plain.aclose()
        await starred.aclose()
