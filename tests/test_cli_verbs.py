"""The soorma-lc verbs for plans, registry, bus, memory and reset, their help, the data-dir
messages, and what bad input gets."""

from __future__ import annotations

import argparse
import asyncio
import io
import os
from pathlib import Path

import pytest

from soorma_lc import (
    AgentCapability,
    AgentDefinition,
    EventDefinition,
    MemoryClient,
    RedisRegistry,
    SemanticMemory,
    Settings,
    Worker,
)
from soorma_lc.backends.embedded_redis import shutdown_embedded_redis
from soorma_lc.cli import build_parser, main
from soorma_lc.cli.demo import load_demo
from soorma_lc.errors import ConfigurationError
from soorma_lc.llm import OfflinePlannerModel
from tests.planner_helpers import Stack, research_workers, run_goal
from tests.test_cli import _make_dead_letter

SCOPE = ["--tenant", "acme", "--user", "alice"]


@pytest.fixture
def env(redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The CLI's environment: the test's Redis, a private data dir (for Chroma)."""
    monkeypatch.setenv("SOORMA_REDIS_URL", redis_url)
    monkeypatch.setenv("SOORMA_DATA_DIR", str(tmp_path / "data"))
    return Settings()


async def _research_plan(settings: Settings) -> str:
    async with Stack(settings) as stack:
        planner = stack.planner(OfflinePlannerModel())
        await stack.start(*research_workers(**stack.shared()), planner)
        outcome = await run_goal(planner)
    return outcome.plan_id


def test_plan_list_and_show(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    plan_id = asyncio.run(_research_plan(env))

    assert main(["plan", "list", *SCOPE]) == 0
    listed = capsys.readouterr().out
    assert listed.startswith(f"{plan_id}  completed  ")
    assert 'research.goal  {"topic": "Docker"}' in listed

    assert main(["plan", "list", "--status", "failed", *SCOPE]) == 0
    assert capsys.readouterr().out == "no plans for tenant acme, user alice\n"

    assert main(["plan", "show", plan_id, *SCOPE]) == 0
    shown = capsys.readouterr().out
    for line in (
        f"● goal research.goal opened plan {plan_id}",
        "◆ decision: publish research.requested  [offline heuristic, not an LLM]",
        "← draft.completed from advisor",
        "✓ plan completed",
        f"plan {plan_id} completed · 4 steps, 3 actions",
    ):
        assert line in shown


def test_plan_show_of_another_users_plan_says_whose_plans_it_looked_at(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_id = asyncio.run(_research_plan(env))
    assert main(["plan", "show", plan_id, "--tenant", "acme", "--user", "bob"]) == 1
    assert f"plan {plan_id!r} not found for tenant acme, user bob" in capsys.readouterr().err


async def test_plan_watch_follows_the_next_plan_live(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    watching = asyncio.create_task(
        asyncio.to_thread(main, ["plan", "watch", "--timeout", "30", *SCOPE])
    )
    await asyncio.sleep(0.5)  # the watcher is waiting for a plan to open
    plan_id = await _research_plan(env)
    assert await watching == 0
    captured = capsys.readouterr()
    assert "waiting for the next plan to open" in captured.err
    assert captured.out.index(f"opened plan {plan_id}") < captured.out.index("✓ plan completed")
    assert captured.out.rstrip().splitlines()[-1].startswith(f"plan {plan_id} completed")


def test_plan_watch_gives_up_after_its_timeout(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    async def stuck_plan() -> None:
        async with MemoryClient.from_settings(env) as memory:
            await memory.create_plan(
                "stuck", "research.goal", {}, tenant_id="acme", user_id="alice"
            )

    asyncio.run(stuck_plan())
    assert main(["plan", "watch", "stuck", "--timeout", "0.5", *SCOPE]) == 1
    captured = capsys.readouterr()
    assert "● goal research.goal opened plan stuck" in captured.out
    assert "plan stuck did not finish within 0.5 s" in captured.err

    assert main(["plan", "watch", "no-such-plan", *SCOPE]) == 1
    assert "plan 'no-such-plan' not found for tenant acme" in capsys.readouterr().err


def test_registry_events_and_agents(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    event = EventDefinition(
        event_name="greeting.requested", topic="action-requests", description="Say hello"
    )

    async def register() -> None:
        async with RedisRegistry.from_settings(env) as registry:
            await registry.register_event(
                EventDefinition(event_name="orphan.requested", topic="action-requests")
            )
            await registry.register_agent(
                AgentDefinition(
                    agent_id="greeter-1",
                    name="greeter",
                    capabilities=[AgentCapability(task_name="greet", consumed_event=event)],
                )
            )

    asyncio.run(register())
    assert main(["registry", "events"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "greeting.requested  [action-requests]  consumed by greeter",
        "  Say hello",
        "orphan.requested  [action-requests]  no live consumer",
    ]
    assert main(["registry", "agents"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "greeter-1  (greeter)",
        "  consumes greeting.requested",
    ]
    assert main(["registry", "agents", "--tenant", "other"]) == 0
    assert capsys.readouterr().out == "no live agents\n"


async def test_bus_stats_counts_idle_consumers(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    workers = [Worker("idler", settings=env) for _ in range(2)]
    for worker in workers:
        worker.add_handler("idle.requested", _ignore)
        await worker.start()
    try:
        assert await asyncio.to_thread(main, ["bus", "stats", "--group", "idler"]) == 0
    finally:
        for worker in workers:
            await worker.stop()
    out = capsys.readouterr().out
    assert "  group idler: 2 consumers, 0 pending" in out
    assert out.count("    consumer ") == 2 and "0 pending, idle " in out


async def _ignore(event: object, context: object) -> None:
    return None


def test_bus_dead_letters_and_replay(
    env: Settings, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    letter = asyncio.run(_make_dead_letter(redis_url))
    assert main(["bus", "dead-letters"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("dead letters: 1\n") and letter in out and "RuntimeError: no luck" in out
    assert main(["bus", "replay", letter]) == 0
    assert capsys.readouterr().out == "replayed 1 dead letters\n"
    assert main(["bus", "replay"]) == 2


def test_memory_search_semantic_and_episodic(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    semantic = SemanticMemory.from_settings(env)
    semantic.store_knowledge_sync(
        "Hotels up to 180 euros per night",
        tenant_id=env.tenant_id,
        user_id=env.user_id,
        metadata={"source": "policy.md"},
    )
    assert main(["memory", "search", "hotel price limit", "--limit", "1"]) == 0
    captured = capsys.readouterr()
    assert captured.out.endswith("policy.md: Hotels up to 180 euros per night\n")
    assert f"data dir: {env.data_dir.resolve()} (embedded Chroma)" in captured.err

    assert main(["memory", "search", "hotel", "--user", "someone-else"]) == 0
    assert "no knowledge for user someone-else" in capsys.readouterr().out
    assert main(["memory", "search", "hotel", "--agent", "planner"]) == 0
    assert "no interactions of planner" in capsys.readouterr().out


def test_inspecting_verbs_do_not_create_a_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SOORMA_REDIS_URL", raising=False)
    monkeypatch.delenv("SOORMA_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    for verb in (["inspect"], ["plan", "list"], ["redis-url"], ["memory", "search", "x"]):
        assert main(verb) == 1
        err = capsys.readouterr().err
        assert f"no data dir at {tmp_path / '.soorma'}" in err
        assert "set SOORMA_DATA_DIR" in err
    assert not (tmp_path / ".soorma").exists()


def test_redis_url_says_when_the_socket_will_vanish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    monkeypatch.delenv("SOORMA_REDIS_URL", raising=False)
    monkeypatch.setenv("SOORMA_DATA_DIR", str(data_dir))
    try:
        assert main(["redis-url"]) == 0
    finally:
        shutdown_embedded_redis(data_dir, force=True)
    captured = capsys.readouterr()
    assert captured.out.startswith("unix://") and len(captured.out.splitlines()) == 1
    assert f"data dir: {data_dir} (embedded Redis)" in captured.err
    assert "stops when this command exits and the socket above vanishes" in captured.err


def test_reset_deletes_the_data_dir_after_confirmation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    (data_dir / "chroma").mkdir(parents=True)
    monkeypatch.setenv("SOORMA_DATA_DIR", str(data_dir))

    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: --yes is needed
    assert main(["reset"]) == 1
    assert "add --yes" in capsys.readouterr().err and data_dir.exists()

    monkeypatch.setattr("sys.stdin", _Terminal("n\n"))
    assert main(["reset"]) == 1
    assert capsys.readouterr().out.endswith("nothing deleted\n") and data_dir.exists()

    monkeypatch.setattr("sys.stdin", _Terminal("y\n"))
    assert main(["reset"]) == 0
    assert capsys.readouterr().out.endswith(f"deleted {data_dir}\n")
    assert not data_dir.exists()

    assert main(["reset", "--yes"]) == 0
    assert capsys.readouterr().out == f"nothing to reset: no data dir at {data_dir}\n"


def test_reset_refuses_a_folder_that_is_not_a_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    monkeypatch.setenv("SOORMA_DATA_DIR", str(tmp_path))
    assert main(["reset", "--yes"]) == 1
    assert "does not look like a soorma-lc data dir" in capsys.readouterr().err
    assert (tmp_path / "precious.txt").exists()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _all_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found.extend(_all_parsers(sub))
    return found


def test_every_verb_has_plain_text_help() -> None:
    parsers = _all_parsers(build_parser())
    names = {p.prog for p in parsers}
    for verb in (
        "demo",
        "plan list",
        "plan show",
        "plan watch",
        "registry events",
        "registry agents",
        "bus stats",
        "bus dead-letters",
        "bus replay",
        "inspect",
        "replay",
        "memory search",
        "reset",
        "run",
        "redis-url",
    ):
        assert f"soorma-lc {verb}" in names
    for parser in parsers:
        text = parser.format_help()
        assert parser.description, parser.prog
        assert "``" not in text and ":class:" not in text and ":func:" not in text, parser.prog


def test_bad_arguments_are_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, message in (
        (["plan", "list", "--limit", "0"], "must be at least 1, got 0"),
        (["plan", "watch", "--timeout", "soon"], "not a number: 'soon'"),
        (["memory", "search"], "the following arguments are required: query"),
        (["plan"], "the following arguments are required: VERB"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err


def test_the_demo_says_where_its_code_should_be(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="ships with the source checkout"):
        load_demo(tmp_path)
    assert os.path.isfile(Path(load_demo().__file__ or ""))


def test_plan_watch_of_an_ended_plan_whose_outcome_event_was_trimmed(
    env: Settings, redis_client: object, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_id = asyncio.run(_research_plan(env))
    redis_client.delete("soorma:bus:stream:system-events")  # type: ignore[attr-defined]
    assert main(["plan", "watch", plan_id, "--timeout", "30", *SCOPE]) == 0
    out = capsys.readouterr().out
    assert "✓ plan completed" in out and "★ answer" not in out
    assert out.rstrip().splitlines()[-1].startswith(f"plan {plan_id} completed")


async def test_plan_cancel_and_review_steer_a_running_plan(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from soorma_lc.planners import EscalationPolicy
    from tests.planner_helpers import RESEARCH, call
    from tests.toolkit_helpers import agent_consuming

    def stubborn(messages: list, tools: list[str]):
        if any("approved going on" in str(m.content) for m in messages):
            return call("research_requested", {"topic": "Docker"})
        return call("web_search", {"q": "docker"})

    async with Stack(env) as stack:
        planner = stack.planner(stubborn, max_repairs=0, escalation=EscalationPolicy())
        await stack.start(planner)
        await stack.registry.register_agent(agent_consuming(RESEARCH))  # never answers
        outcome = asyncio.create_task(run_goal(planner))

        async def last(kind: str) -> str:
            while True:
                plans = await stack.memory.list_plans(tenant_id="acme", user_id="alice")
                if plans:
                    history = await planner.history(
                        plans[0].plan_id, tenant_id="acme", user_id="alice"
                    )
                    if history and history[-1].kind == kind:
                        return plans[0].plan_id
                await asyncio.sleep(0.02)

        plan_id = await last("waiting")  # paused for review
        review = ["plan", "review", plan_id, "--approve", "--instruction", "research it", *SCOPE]
        assert await asyncio.to_thread(main, review) == 0
        await last("published")  # it went on: research requested
        cancel = ["plan", "cancel", plan_id, "--reason", "enough", *SCOPE]
        assert await asyncio.to_thread(main, cancel) == 0
        done = await outcome

    assert (done.status, done.reason) == ("failed", "cancelled: enough")
    assert f"the planner serving plan {plan_id} handles it" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["plan", "cancel", "no-such-plan", *SCOPE]) == 1
    assert "plan 'no-such-plan' not found for tenant acme" in capsys.readouterr().err


async def test_plan_submit_runs_a_goal_to_its_outcome(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    async with Stack(env) as stack:
        planner = stack.planner(OfflinePlannerModel())
        await stack.start(*research_workers(**stack.shared()), planner)
        submit = ["plan", "submit", "research.goal", '{"topic": "Docker"}', *SCOPE]
        assert await asyncio.to_thread(main, submit) == 0
    captured = capsys.readouterr()
    first, status, answer = captured.out.splitlines()[:3]
    plan_id = first.split()[1]
    assert first.startswith(f"plan {plan_id} (goal event ")
    assert status == "completed (goal_completed): 3 actions, 4 steps"
    assert "Docker" in answer
    assert f"soorma-lc plan watch {plan_id} shows it live" in captured.err
    assert await asyncio.to_thread(main, ["plan", "show", plan_id, *SCOPE]) == 0
    assert f"plan {plan_id} completed" in capsys.readouterr().out


async def test_plan_submit_without_waiting_and_when_nobody_answers(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.planner_helpers import RESEARCH

    async with Stack(env) as stack:
        await stack.registry.register_event(RESEARCH)  # registered; no planner serves it
    args = ["plan", "submit", RESEARCH.event_name, '{"topic": "x"}', *SCOPE]
    assert await asyncio.to_thread(main, [*args, "--no-wait"]) == 0
    assert capsys.readouterr().out.startswith("plan ")
    assert await asyncio.to_thread(main, [*args, "--timeout", "0.3"]) == 1
    assert "reported no outcome within 0.3 s" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["no.such.goal"], "no event 'no.such.goal' is registered"),
        (["research.goal", "[1, 2]"], "DATA must be a JSON object"),
        (["research.goal", "{topic: x}"], "DATA is not valid JSON"),
        (["research.goal", '{"n": NaN}'], "DATA is not valid JSON"),
    ],
)
def test_plan_submit_refuses_what_it_cannot_send(
    env: Settings, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["plan", "submit", *argv, *SCOPE]) in (1, 2)
    assert message in capsys.readouterr().err
