"""Trajectory matching (agentevals' modes), pass^k (tau-bench), intervals, and the baseline
comparison's regression-or-noise verdicts."""

from __future__ import annotations

from datetime import UTC, datetime
from math import comb

import pytest

from soorma_lc.evals.baseline import compare, worse_p_value
from soorma_lc.evals.metrics import bootstrap_interval, pass_at_k, pass_hat_k, summarize
from soorma_lc.evals.results import (
    CaseResult,
    GitInfo,
    Report,
    RunInfo,
    SuiteInfo,
    TrialMetrics,
    TrialResult,
)
from soorma_lc.evals.trajectory import diff, matches, next_action_hits, precision_recall_f1

A, B, C = "a.requested", "b.requested", "c.requested"


@pytest.mark.parametrize(
    ("actual", "mode", "expected"),
    [
        ([A, B], "strict", True),
        ([B, A], "strict", False),
        ([B, A], "unordered", True),
        ([A, B, B], "unordered", False),
        ([A], "subset", True),
        ([A, C], "subset", False),
        ([A, B, B], "subset", False),  # counted with multiplicity
        ([C, A, B], "superset", True),
        ([A], "superset", False),
    ],
)
def test_trajectory_match_modes(actual: list[str], mode: str, expected: bool) -> None:
    assert matches(actual, [A, B], mode) is expected  # type: ignore[arg-type]


def test_precision_recall_and_next_action() -> None:
    assert precision_recall_f1([A, C], [A, B]) == (0.5, 0.5, 0.5)
    assert precision_recall_f1([], []) == (1.0, 1.0, 1.0)
    assert precision_recall_f1([], [A]) == (0.0, 0.0, 0.0)
    assert precision_recall_f1([A, A], [A])[:2] == (0.5, 1.0)
    assert next_action_hits([A, C, "complete_goal"], [A, B, "complete_goal"]) == 2


def test_diff_aligns_missing_extra_and_changed_steps() -> None:
    rows = [(r.op, r.expected, r.actual) for r in diff([A, B, C], [A, "x", C, "y"])]
    assert rows == [
        ("same", A, A),
        ("changed", B, "x"),
        ("same", C, C),
        ("extra", None, "y"),
    ]


def test_pass_hat_k_follows_tau_bench() -> None:
    counts = [(3, 4), (4, 4), (0, 4)]  # (successes, trials) per case
    assert pass_hat_k(counts, 1) == pytest.approx((3 / 4 + 1 + 0) / 3)
    assert pass_hat_k(counts, 2) == pytest.approx((comb(3, 2) / comb(4, 2) + 1 + 0) / 3)
    assert pass_hat_k(counts, 4) == pytest.approx(1 / 3)
    assert pass_at_k(counts, 2) == pytest.approx((1 + 1 + 0) / 3)


def test_bootstrap_intervals_are_seeded_and_bracket_the_estimate() -> None:
    counts = [(3, 4), (4, 4), (0, 4), (2, 4), (4, 4)]
    low, high = bootstrap_interval(counts, lambda c: pass_at_k(c, 1))
    assert low <= pass_at_k(counts, 1) <= high and low < high
    assert bootstrap_interval(counts, lambda c: pass_at_k(c, 1)) == (low, high)


def test_fisher_p_values() -> None:
    assert worse_p_value(0, 5, 5, 5) == pytest.approx(1 / comb(10, 5))
    assert worse_p_value(4, 5, 5, 5) == pytest.approx(0.5)
    assert worse_p_value(5, 5, 5, 5) == 1.0


def _trial(model: str, scenario: str, number: int, passed: bool) -> TrialResult:
    return TrialResult(
        scenario=scenario,
        model=model,
        trial=number,
        passed=passed,
        termination="completed" if passed else "failed",
        metrics=TrialMetrics(actions=1, max_actions=4, latency_s=0.1),
    )


def _report(mode: str, results: dict[tuple[str, str], list[bool]]) -> Report:
    cases = [
        CaseResult(
            scenario=scenario,
            title=scenario,
            tags=["t"],
            model=model,
            trials=[_trial(model, scenario, i, ok) for i, ok in enumerate(outcomes)],
        )
        for (model, scenario), outcomes in results.items()
    ]
    models = list(dict.fromkeys(model for model, _ in results))
    return Report(
        created_at=datetime.now(UTC),
        git=GitInfo(sha="abc"),
        suite=SuiteInfo(path="evals", hash="h", scenarios=3),
        run=RunInfo(
            mode=mode,
            models=models,
            trials=len(next(iter(results.values()))),
            concurrency=1,
            isolation="test",
            started_at=datetime.now(UTC),
            duration_s=1.0,
        ),
        summaries=[summarize(m, [c for c in cases if c.model == m]) for m in models],
        cases=cases,
    )


def test_any_drop_of_a_deterministic_model_is_a_regression() -> None:
    before = _report("scripted", {("scripted", "s1"): [True], ("scripted", "s2"): [False]})
    now = _report("scripted", {("scripted", "s1"): [False], ("scripted", "s2"): [True]})

    comparison = compare(now, before, source="base.json")

    assert [(c.scenario, c.verdict, c.p_value) for c in comparison.regressions] == [
        ("s1", "regressed", None)
    ]
    assert [c.scenario for c in comparison.improvements] == ["s2"]


def test_a_live_drop_is_noise_unless_it_is_unlikely_by_chance() -> None:
    model = "openai/gpt-4o-mini"
    before = _report("live", {(model, "s1"): [True] * 5, (model, "s2"): [True] * 5})
    now = _report(
        "live",
        {
            (model, "s1"): [True] * 4 + [False],
            (model, "s2"): [False] * 5,
            (model, "s3"): [True] * 5,
        },
    )

    comparison = compare(now, before, source="base.json")

    assert [c.scenario for c in comparison.within_noise] == ["s1"]
    assert [(c.scenario, c.current) for c in comparison.regressions] == [("s2", "0/5")]
    assert (
        comparison.regressions[0].p_value is not None and comparison.regressions[0].p_value < 0.05
    )
    assert comparison.new_cases == [f"{model} s3"]
    deltas = {d.metric: (d.baseline, d.current) for d in comparison.deltas}
    assert deltas["pass_at_1"] == (1.0, pytest.approx(0.6))
