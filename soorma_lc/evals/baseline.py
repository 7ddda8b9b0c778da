"""Comparing a run with a saved baseline report: which cases regressed, and what is noise.

A case of a deterministic model (scripted, offline, or any model replayed from cassettes) that
passes fewer trials than in the baseline regressed: nothing but a change can make it differ.
For a live model, fewer successes is a regression only when a one-sided Fisher exact test says
the drop is unlikely to be chance (p < alpha); otherwise it is listed as within noise.
"""

from __future__ import annotations

from math import comb

from soorma_lc.evals.models import DETERMINISTIC
from soorma_lc.evals.results import CaseChange, Comparison, MetricDelta, Report

COMPARED_METRICS = (
    "pass_at_1",
    "pass_at_k",
    "next_action_accuracy",
    "trajectory_f1",
    "loop_rate",
    "schema_valid_rate",
    "abstention_accuracy",
    "mean_actions",
    "cost_usd",
    "mean_latency_s",
)


def worse_p_value(now: int, now_trials: int, before: int, before_trials: int) -> float:
    """P(as few successes as ``now`` or fewer | both runs have the same success rate): the
    one-sided Fisher exact test on the 2x2 table of successes and failures."""
    total, successes = now_trials + before_trials, now + before
    denominator = comb(total, now_trials)
    low = max(0, successes - before_trials)
    return (
        sum(
            comb(successes, x) * comb(total - successes, now_trials - x)
            for x in range(low, now + 1)
        )
        / denominator
    )


def _deterministic(model: str, report: Report) -> bool:
    return model in DETERMINISTIC or report.run.mode == "replay"


def compare(current: Report, baseline: Report, *, source: str, alpha: float = 0.05) -> Comparison:
    """``current`` against ``baseline`` (``source`` names the baseline in the output)."""
    comparison = Comparison(
        baseline=source,
        baseline_git_sha=baseline.git.sha,
        same_suite=current.suite.hash == baseline.suite.hash,
        alpha=alpha,
    )
    before_keys = {(c.model, c.scenario) for c in baseline.cases}
    now_keys = {(c.model, c.scenario) for c in current.cases}
    comparison.new_cases = sorted(f"{m} {s}" for m, s in now_keys - before_keys)
    comparison.removed_cases = sorted(f"{m} {s}" for m, s in before_keys - now_keys)
    for case in current.cases:
        old = baseline.case(case.model, case.scenario)
        if old is None:
            continue
        now, now_n = case.successes, len(case.trials)
        before, before_n = old.successes, len(old.trials)
        change = CaseChange(
            scenario=case.scenario,
            model=case.model,
            baseline=f"{before}/{before_n}",
            current=f"{now}/{now_n}",
            verdict="unchanged",
        )
        if now * before_n < before * now_n:
            deterministic = _deterministic(case.model, current) and _deterministic(
                case.model, baseline
            )
            p_value = (
                None if deterministic else round(worse_p_value(now, now_n, before, before_n), 4)
            )
            regressed = p_value is None or p_value < alpha
            change.verdict = "regressed" if regressed else "within_noise"
            change.p_value = p_value
            (comparison.regressions if regressed else comparison.within_noise).append(change)
        elif now * before_n > before * now_n:
            change.verdict = "improved"
            comparison.improvements.append(change)
    old_summaries = {s.model: s for s in baseline.summaries}
    for summary in current.summaries:
        old_summary = old_summaries.get(summary.model)
        if old_summary is None:
            continue
        for metric in COMPARED_METRICS:
            comparison.deltas.append(
                MetricDelta(
                    model=summary.model,
                    metric=metric,
                    baseline=getattr(old_summary, metric),
                    current=getattr(summary, metric),
                )
            )
    return comparison
