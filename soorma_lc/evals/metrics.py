"""Metrics per trial, and per model over a suite.

pass@1 is the mean success over every trial. pass^k is tau-bench's reliability measure: the
chance that k trials of the same case, drawn without replacement from its n, all succeed,
``C(c, k) / C(n, k)`` averaged over cases (c successes of n); pass@k is the chance that at
least one of k succeeds, ``1 - C(n - c, k) / C(n, k)``. Intervals are 95% bootstrap intervals
over cases (trials of one case are not independent), reported when cases ran more than once.
"""

from __future__ import annotations

import random
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from math import comb

from soorma_lc.evals.observe import Observation
from soorma_lc.evals.results import CaseResult, ModelSummary, TrialMetrics, TrialResult
from soorma_lc.evals.scenario import Expect
from soorma_lc.evals.trajectory import next_action_hits, precision_recall_f1

BOOTSTRAP_ROUNDS = 2000


def trial_metrics(seen: Observation, expect: Expect, *, max_actions: int) -> TrialMetrics:
    """What one trial measured (trajectory figures against ``expect``'s trajectory)."""
    outcome = seen.outcome
    metrics = TrialMetrics(
        steps=outcome.steps if outcome else len({r.step for r in seen.history}),
        actions=len(seen.actions),
        max_actions=max_actions,
        model_calls=sum(1 for r in seen.history if r.latency_ms is not None),
        rejections=seen.count("rejected"),
        timeouts=seen.count("timeout"),
        guard_trips=dict(seen.guard_trips),
        schema_valid=seen.schema_valid,
        schema_invalid=seen.schema_invalid,
        vague_completion=seen.guard_trips["vague_completion"] > 0,
        vague_results=seen.vague_results,
        loop=seen.loop,
        abstained=seen.abstained,
        expected_abstain=expect.abstain,
        input_tokens=outcome.input_tokens if outcome else 0,
        output_tokens=outcome.output_tokens if outcome else 0,
        cost_usd=outcome.cost_usd if outcome else 0.0,
        latency_s=round(seen.latency_s, 3),
        model_latency_ms=round(sum(r.latency_ms or 0.0 for r in seen.history), 2),
    )
    if expect.trajectory is not None:
        wanted = expect.trajectory.events
        precision, recall, f1 = precision_recall_f1(seen.trajectory, wanted)
        decisions = list(wanted)
        if expect.status == "completed" and not expect.forced:
            decisions.append("complete_goal")
        metrics = metrics.model_copy(
            update={
                "precision": round(precision, 4),
                "recall": round(recall, 4),
                "f1": round(f1, 4),
                "next_action_hits": next_action_hits(seen.decisions, decisions),
                "next_action_total": len(decisions),
            }
        )
    return metrics


# -- aggregates ------------------------------------------------------------------------------


def pass_hat_k(counts: Sequence[tuple[int, int]], k: int) -> float:
    """tau-bench's pass^k over cases given as (successes, trials)."""
    return statistics.fmean(comb(c, k) / comb(n, k) for c, n in counts) if counts else 0.0


def pass_at_k(counts: Sequence[tuple[int, int]], k: int) -> float:
    """pass@k over cases given as (successes, trials)."""
    return statistics.fmean(1 - comb(n - c, k) / comb(n, k) for c, n in counts) if counts else 0.0


def bootstrap_interval(
    counts: Sequence[tuple[int, int]],
    statistic: Callable[[Sequence[tuple[int, int]]], float],
    *,
    seed: int = 0,
) -> tuple[float, float]:
    """95% percentile bootstrap interval of ``statistic`` resampling cases (seeded)."""
    rng = random.Random(seed)
    values = sorted(
        statistic([rng.choice(counts) for _ in counts]) for _ in range(BOOTSTRAP_ROUNDS)
    )
    low = values[int(0.025 * (BOOTSTRAP_ROUNDS - 1))]
    high = values[int(0.975 * (BOOTSTRAP_ROUNDS - 1))]
    return round(low, 4), round(high, 4)


def _pass_at_1(counts: Sequence[tuple[int, int]]) -> float:
    return pass_at_k(counts, 1)


def _mean(values: Sequence[float]) -> float | None:
    return round(statistics.fmean(values), 4) if values else None


def _rate(flags: Sequence[bool]) -> float:
    return round(sum(flags) / len(flags), 4) if flags else 0.0


def summarize(model: str, cases: Sequence[CaseResult]) -> ModelSummary:
    """One model's figures over its cases."""
    trials: list[TrialResult] = [t for case in cases for t in case.trials]
    metrics = [t.metrics for t in trials]
    counts = [(case.successes, len(case.trials)) for case in cases if case.trials]
    k = min((n for _, n in counts), default=1)
    repeated = k > 1 and len(counts) > 1
    hits = [m for m in metrics if m.next_action_total]
    valid = sum(m.schema_valid for m in metrics)
    proposed = valid + sum(m.schema_invalid for m in metrics)
    abstention = [
        m.abstained == m.expected_abstain for m in metrics if m.expected_abstain is not None
    ]
    latencies = sorted(m.latency_s for m in metrics) or [0.0]
    judged = [t.judge.score for t in trials if t.judge and t.judge.score is not None]
    tags: dict[str, list[tuple[int, int]]] = {}
    for case in cases:
        for tag in case.tags:
            tags.setdefault(tag, []).append((case.successes, len(case.trials)))
    accuracy = None
    if hits:
        total = sum(m.next_action_total or 0 for m in hits)
        accuracy = round(sum(m.next_action_hits or 0 for m in hits) / total, 4)
    return ModelSummary(
        model=model,
        cases=len(cases),
        trials_per_case=k,
        passed_cases=sum(case.passed for case in cases),
        pass_at_1=round(pass_at_k(counts, 1), 4),
        pass_at_1_ci=bootstrap_interval(counts, _pass_at_1) if repeated else None,
        pass_hat_k={str(i): round(pass_hat_k(counts, i), 4) for i in range(1, k + 1)},
        pass_hat_k_ci=bootstrap_interval(counts, lambda c: pass_hat_k(c, k)) if repeated else None,
        pass_at_k=round(pass_at_k(counts, k), 4),
        next_action_accuracy=accuracy,
        trajectory_precision=_mean([m.precision for m in metrics if m.precision is not None]),
        trajectory_recall=_mean([m.recall for m in metrics if m.recall is not None]),
        trajectory_f1=_mean([m.f1 for m in metrics if m.f1 is not None]),
        steps_used=_mean([m.actions / m.max_actions for m in metrics]) or 0.0,
        mean_actions=_mean([m.actions for m in metrics]) or 0.0,
        mean_steps=_mean([m.steps for m in metrics]) or 0.0,
        terminations=dict(Counter(t.termination for t in trials)),
        loop_rate=_rate([m.loop for m in metrics]),
        schema_valid_rate=round(valid / proposed, 4) if proposed else None,
        vague_completion_rate=_rate([m.vague_completion for m in metrics]),
        vague_result_rate=_rate([m.vague_results > 0 for m in metrics]),
        guard_trips=dict(sum((Counter(m.guard_trips) for m in metrics), Counter())),
        abstention_accuracy=_rate(abstention) if abstention else None,
        input_tokens=sum(m.input_tokens for m in metrics),
        output_tokens=sum(m.output_tokens for m in metrics),
        cost_usd=round(sum(m.cost_usd for m in metrics), 6),
        mean_latency_s=_mean([m.latency_s for m in metrics]) or 0.0,
        p95_latency_s=latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))],
        judge_score=_mean([float(s) for s in judged]),
        tags={tag: round(pass_at_k(c, 1), 4) for tag, c in sorted(tags.items())},
    )
