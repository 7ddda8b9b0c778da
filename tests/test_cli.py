"""The soorma-lc command: inspect, replay, redis-url, and run's error paths."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from soorma_lc.agents.loading import load_worker
from soorma_lc.bus import RedisStreamsBus
from soorma_lc.cli import main
from soorma_lc.errors import WorkerLoadError
from soorma_lc.events import EventEnvelope, EventTopic
from tests.bus_helpers import WORKER_SCRIPT, eventually

REQUESTS = EventTopic.ACTION_REQUESTS


@pytest.fixture
def env_redis(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SOORMA_REDIS_URL", redis_url)
    return redis_url


async def _make_dead_letter(redis_url: str, group: str = "unlucky") -> str:
    bus = RedisStreamsBus.from_url(redis_url, max_deliveries=1)
    try:

        async def fail(envelope: EventEnvelope) -> None:
            raise RuntimeError("no luck")

        sub = await bus.subscribe(group, [REQUESTS], fail, block=0.05)
        await bus.request("risky.requested", {}, response_event="risky.completed")

        async def dead() -> bool:
            return len(await bus.dead_letters(group=group)) == 1

        await eventually(dead)
        await sub.stop()
        return (await bus.dead_letters(group=group))[0].id
    finally:
        await bus.aclose()


def test_inspect_shows_streams_groups_pending_and_dead_letters(
    env_redis: str, capsys: pytest.CaptureFixture[str]
) -> None:
    dead_letter_id = asyncio.run(_make_dead_letter(env_redis))
    assert main(["inspect"]) == 0
    out = capsys.readouterr().out
    assert "action-requests: 1 entries" in out
    assert "group unlucky: 0 consumers, 0 pending" in out
    assert "dead letters: 1" in out
    assert dead_letter_id in out and "RuntimeError: no luck" in out
    assert "risky.requested" in out

    assert main(["inspect", "--group", "someone-else"]) == 0
    out = capsys.readouterr().out
    assert "group unlucky" not in out and dead_letter_id not in out


def test_replay_by_id_and_all(env_redis: str, capsys: pytest.CaptureFixture[str]) -> None:
    dead_letter_id = asyncio.run(_make_dead_letter(env_redis))
    assert main(["replay", dead_letter_id]) == 0
    assert "replayed 1 dead letters" in capsys.readouterr().out

    assert main(["replay", dead_letter_id]) == 1
    assert "no dead letter with id" in capsys.readouterr().err

    asyncio.run(_make_dead_letter(env_redis, group="unlucky-too"))
    assert main(["replay", "--all", "--group", "unlucky-too"]) == 0
    assert "replayed 1 dead letters" in capsys.readouterr().out
    assert main(["replay"]) == 2


def test_inspect_on_an_empty_server(env_redis: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect"]) == 0
    out = capsys.readouterr().out
    assert "no streams yet" in out and "dead letters: 0" in out


def test_redis_url_prints_the_configured_url(
    env_redis: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["redis-url"]) == 0
    assert capsys.readouterr().out.strip() == env_redis


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("no_colon", "expected module:attribute"),
        ("no_such_module_xyz:worker", "cannot import"),
        ("json:no_such_attribute", "has no attribute"),
        ("json:__name__", "not a Worker"),
        ("missing_file.py:worker", "no Python file"),
        ("json:loads", "must take no arguments"),
    ],
)
def test_run_reports_bad_worker_references(
    env_redis: str, capsys: pytest.CaptureFixture[str], reference: str, message: str
) -> None:
    assert main(["run", reference]) == 1
    assert message in capsys.readouterr().err
    with pytest.raises(WorkerLoadError, match=message):
        load_worker(reference)


def test_load_worker_accepts_a_file_and_a_factory(env_redis: str) -> None:
    worker = load_worker(f"{WORKER_SCRIPT}:make_worker")
    assert worker.name == "crash-test"
    assert [route.definition.event_name for route in worker.routes] == ["work.requested"]


def test_console_script_help_lists_the_verbs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "soorma_lc.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for verb in ("run", "inspect", "replay", "redis-url", "eval"):
        assert verb in result.stdout


def test_an_unreachable_redis_is_reported_not_raised(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOORMA_REDIS_URL", "redis://127.0.0.1:1/0")
    assert main(["inspect"]) == 1
    assert "soorma-lc inspect:" in capsys.readouterr().err
