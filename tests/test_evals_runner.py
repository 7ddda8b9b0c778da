"""The runner on small scenarios: every kind of check can fail, harness problems end a trial
with their reason, trials are isolated and counted, bad configurations are typed errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from soorma_lc.errors import ConfigurationError
from soorma_lc.evals import EvalBackends, RunConfig, load_suite, run_evals
from soorma_lc.evals.results import TrialResult
from tests.evals_helpers import echo, write_suite

WRONG_EXPECTATIONS: dict[str, tuple[dict[str, Any], str]] = {
    "status": ({"status": "failed"}, "status"),
    "termination": ({"termination": "action_limit"}, "termination"),
    "trajectory": ({"trajectory": {"events": ["other.requested"]}}, "trajectory (strict)"),
    "forbidden": ({"events": {"forbidden": ["echo.*"]}}, "never publishes echo.*"),
    "payload": (
        {"payloads": [{"event": "echo.requested", "path": "$.word", "equals": "bye"}]},
        "payload of echo.requested at $.word",
    ),
    "completion": ({"completion": {"contains": ["goodbye"]}}, "completion contains 'goodbye'"),
    "actions": ({"actions": {"max": 0}}, "actions at most 0"),
    "guards": ({"guards": {"expected": ["repeated_action"]}}, "guard repeated_action trips"),
    "waits": ({"waits": ["approval.granted"]}, "waits for approval.granted"),
    "abstain": ({"abstain": True}, "abstain"),
}


async def test_every_kind_of_expectation_can_fail(tmp_path: Path) -> None:
    documents = [echo(id="echo")] + [
        echo(id=f"wrong-{name}", expect={**echo()["expect"], **wrong})
        for name, (wrong, _) in WRONG_EXPECTATIONS.items()
    ]
    suite = load_suite(write_suite(tmp_path, *documents))

    report = await run_evals(suite, RunConfig())

    failed = {case.scenario: case.trials[0].failures for case in report.cases if not case.passed}
    assert report.case("scripted", "echo").passed  # type: ignore[union-attr]
    for name, (_, check) in WRONG_EXPECTATIONS.items():
        failures = failed[f"wrong-{name}"]
        assert len(failures) == 1 and failures[0].startswith(check), (name, failures)


async def test_a_broken_script_reference_ends_the_trial_with_its_reason(tmp_path: Path) -> None:
    script = [{"call": "echo.requested", "args": {"word": "${result[nope.completed].word}"}}]
    suite = load_suite(write_suite(tmp_path, echo(script=script, timeout=60)))

    [case] = (await run_evals(suite, RunConfig())).cases

    [trial] = case.trials
    assert trial.termination == "harness_error" and trial.outcome is None
    assert (
        "script turn 1: ${result[nope.completed].word}: no nope.completed result"
        in (trial.problems[0])
    )


async def test_a_script_that_runs_out_fails_the_case(tmp_path: Path) -> None:
    script = [{"call": "echo.requested", "args": {"word": "${goal.word}"}}]
    suite = load_suite(write_suite(tmp_path, echo(script=script)))

    [case] = (await run_evals(suite, RunConfig())).cases

    [trial] = case.trials
    assert not trial.passed and trial.termination == "invalid_decisions"
    assert trial.problems == ["eval-planner: the script ran out after 1 turns"]


async def test_a_plan_without_outcome_is_reported_with_what_it_did(tmp_path: Path) -> None:
    silent = [{"name": "echoer", "consumes": ["echo.requested"], "replies": [{"silent": True}]}]
    suite = load_suite(write_suite(tmp_path, echo(workers=silent, timeout=0.5)))

    [case] = (await run_evals(suite, RunConfig())).cases

    [trial] = case.trials
    assert (trial.termination, trial.outcome) == ("no_outcome", None)
    assert trial.trajectory == ["echo.requested"]
    assert [r["kind"] for r in trial.history][-1] == "published"


async def test_trials_are_counted_into_pass_hat_k(tmp_path: Path) -> None:
    flaky = [
        {
            "name": "echoer",
            "consumes": ["echo.requested"],
            "replies": [{"data": {"echo": "hello hello"}}],
        }
    ]
    suite = load_suite(write_suite(tmp_path, echo(), echo(id="echo-2", workers=flaky)))
    seen: list[TrialResult] = []

    report = await run_evals(suite, RunConfig(trials=3, concurrency=3), progress=seen.append)

    assert len(seen) == 6 and sorted(t.trial for t in seen) == [0, 0, 1, 1, 2, 2]
    [summary] = report.summaries
    assert summary.pass_hat_k == {"1": 1.0, "2": 1.0, "3": 1.0}
    assert summary.pass_at_1_ci == (1.0, 1.0) and summary.trials_per_case == 3
    assert all(t.metrics.actions == 1 for case in report.cases for t in case.trials)


async def test_each_trial_gets_an_empty_database_of_its_own(tmp_path: Path) -> None:
    from soorma_lc.backends.redis_clients import async_client

    with EvalBackends(2, workdir=tmp_path) as backends:
        async with backends.lease() as first, backends.lease() as second:
            assert first.redis_url != second.redis_url
            client = async_client(first.redis_url)
            await client.set("left-over", "1")
            await client.aclose()
        async with backends.lease() as again, backends.lease() as other:
            urls = {again.redis_url, other.redis_url}
            assert first.redis_url in urls
            client = async_client(first.redis_url)
            assert await client.get("left-over") is None
            await client.aclose()


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        (RunConfig(models=["openai/gpt-4o-mini"]), "is an LLM: run it with --mode live"),
        (RunConfig(mode="live", models=["scripted"]), "only in scripted mode"),
        (RunConfig(mode="replay", models=["openai/gpt-4o-mini"]), "needs the cassettes"),
        (RunConfig(trials=0), "trials must be at least 1"),
        (RunConfig(mode="nonsense"), "mode must be one of"),  # type: ignore[arg-type]
    ],
)
def test_bad_run_configurations_are_configuration_errors(config: RunConfig, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        config.checked_models()


@pytest.mark.parametrize("slots", [0, 17])
def test_concurrency_is_bounded_by_the_databases_of_one_server(slots: int) -> None:
    with pytest.raises(ConfigurationError, match="between 1 and 16"):
        EvalBackends(slots)


def test_live_and_replay_default_to_the_configured_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOORMA_LLM_MODEL", raising=False)
    with pytest.raises(ConfigurationError, match="live mode needs a model"):
        RunConfig(mode="live").checked_models()
    monkeypatch.setenv("SOORMA_LLM_MODEL", "anthropic/claude-haiku-4-5")
    assert RunConfig(mode="live").checked_models() == ["anthropic/claude-haiku-4-5"]
