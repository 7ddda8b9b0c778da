"""The Markdown summary of a report: one row per model, failed cases, the baseline comparison."""

from __future__ import annotations

from soorma_lc.evals.results import Comparison, ModelSummary, Report

SUMMARY_COLUMNS = (
    "model",
    "pass@1",
    "pass^k",
    "95% CI",
    "cases passed",
    "traj. F1",
    "next action",
    "actions/limit",
    "loops",
    "valid payloads",
    "vague compl.",
    "abstention",
    "tokens in/out",
    "cost $",
    "latency s",
)


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def interval(bounds: tuple[float, float] | None) -> str:
    return "-" if bounds is None else f"{100 * bounds[0]:.0f}-{100 * bounds[1]:.0f}%"


def summary_cells(summary: ModelSummary) -> list[str]:
    """One model's row (the columns of :data:`SUMMARY_COLUMNS`)."""
    k = str(summary.trials_per_case)
    return [
        summary.model,
        percent(summary.pass_at_1),
        f"{percent(summary.pass_hat_k.get(k))} (k={k})",
        interval(summary.pass_hat_k_ci or summary.pass_at_1_ci),
        f"{summary.passed_cases}/{summary.cases}",
        percent(summary.trajectory_f1),
        percent(summary.next_action_accuracy),
        percent(summary.steps_used),
        percent(summary.loop_rate),
        percent(summary.schema_valid_rate),
        percent(summary.vague_completion_rate),
        percent(summary.abstention_accuracy),
        f"{summary.input_tokens}/{summary.output_tokens}",
        f"{summary.cost_usd:.4f}",
        f"{summary.mean_latency_s:.2f} (p95 {summary.p95_latency_s:.2f})",
    ]


def _table(header: list[str] | tuple[str, ...], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def render_comparison(comparison: Comparison) -> list[str]:
    lines = [f"## Against the baseline {comparison.baseline}", ""]
    if not comparison.same_suite:
        lines += ["The suite changed since the baseline (its hash differs).", ""]
    lines.append(
        f"{len(comparison.regressions)} regressed, {len(comparison.within_noise)} within noise, "
        f"{len(comparison.improvements)} improved, {len(comparison.new_cases)} new, "
        f"{len(comparison.removed_cases)} removed (alpha {comparison.alpha})."
    )
    for title, changes in (
        ("Regressed", comparison.regressions),
        ("Within noise", comparison.within_noise),
        ("Improved", comparison.improvements),
    ):
        if changes:
            lines += ["", f"**{title}**", ""]
            for c in changes:
                p = "" if c.p_value is None else f" (p = {c.p_value})"
                lines.append(f"- `{c.scenario}` [{c.model}]: {c.baseline} -> {c.current}{p}")
    return lines


def render_markdown(report: Report) -> str:
    """The summary as Markdown text."""
    run, suite = report.run, report.suite
    sha = report.git.sha[:12] if report.git.sha else "unknown"
    dirty = " (uncommitted changes)" if report.git.dirty else ""
    lines = [
        "# Planner evals",
        "",
        f"Mode **{run.mode}**, {run.trials} trial(s) per case, {suite.scenarios} scenarios "
        f"(suite {suite.hash}), git {sha}{dirty}, {run.duration_s:.1f} s.",
        "",
        *_table(SUMMARY_COLUMNS, [summary_cells(s) for s in report.summaries]),
    ]
    failed = [c for c in report.cases if not c.passed]
    if failed:
        lines += ["", "## Failed cases", ""]
        for case in failed:
            trial = next(t for t in case.trials if not t.passed)
            why = "; ".join(trial.failures[:3]) or trial.termination
            lines.append(
                f"- `{case.scenario}` [{case.model}] {case.successes}/{len(case.trials)}: {why}"
            )
    if report.comparison is not None:
        lines += ["", *render_comparison(report.comparison)]
    return "\n".join(lines) + "\n"
