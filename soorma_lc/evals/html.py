"""The HTML report: one self-contained file (inline CSS and SVG, no scripts) with the summary,
charts, the baseline comparison and, per case, the checks, a trajectory diff against the
expectation and the plan's step history."""

from __future__ import annotations

from html import escape

from soorma_lc.evals.charts import Bar, bar_chart
from soorma_lc.evals.markdown import SUMMARY_COLUMNS, summary_cells
from soorma_lc.evals.results import CaseResult, Comparison, Report, TrialResult
from soorma_lc.evals.trajectory import diff

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 7px;
text-align:left;vertical-align:top}th{background:#f3f3f3}.pass{background:#e3f4e6}
.fail{background:#fbe3e1}.same{color:#555}.missing{background:#fbe3e1}.extra{background:#fff2cc}
.changed{background:#fde9d9}details{margin:.3em 0}summary{cursor:pointer}
code{background:#f5f5f5;padding:0 3px}.small{font-size:12px;color:#555}
"""


def _cell(text: str, css: str = "") -> str:
    attr = f' class="{css}"' if css else ""
    return f"<td{attr}>{escape(text)}</td>"


def _summary_table(report: Report) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in SUMMARY_COLUMNS)
    rows = "".join(
        "<tr>" + "".join(_cell(c) for c in summary_cells(s)) + "</tr>" for s in report.summaries
    )
    return f"<table><tr>{head}</tr>{rows}</table>"


def _charts(report: Report) -> str:
    models = [s.model for s in report.summaries]
    overall = [
        Bar(s.model, s.pass_at_1, s.pass_at_1_ci, series=i) for i, s in enumerate(report.summaries)
    ]
    tags = sorted({tag for s in report.summaries for tag in s.tags})
    by_tag = [
        Bar(f"{tag} · {s.model}" if len(models) > 1 else tag, s.tags[tag], series=i)
        for tag in tags
        for i, s in enumerate(report.summaries)
        if tag in s.tags
    ]
    charts = [bar_chart("pass@1 per model (95% interval when k > 1)", overall)]
    if by_tag:
        charts.append(bar_chart("pass@1 per tag", by_tag))
    return "".join(f"<div>{chart}</div>" for chart in charts)


def _comparison(comparison: Comparison) -> str:
    rows = [
        "<tr>"
        + _cell(change.scenario)
        + _cell(change.model)
        + _cell(f"{change.baseline} → {change.current}")
        + _cell(change.verdict, "fail" if change.verdict == "regressed" else "")
        + _cell("" if change.p_value is None else f"{change.p_value}")
        + "</tr>"
        for change in [*comparison.regressions, *comparison.within_noise, *comparison.improvements]
    ]
    note = "" if comparison.same_suite else "<p>The suite changed since the baseline.</p>"
    table = (
        "<table><tr><th>case</th><th>model</th><th>baseline → now</th><th>verdict</th>"
        f"<th>p</th></tr>{''.join(rows)}</table>"
        if rows
        else "<p>No case changed.</p>"
    )
    return f"<h2>Against the baseline {escape(comparison.baseline)}</h2>{note}{table}"


def _diff_table(case: CaseResult, trial: TrialResult) -> str:
    expected = case.expected_trajectory
    if expected is None:
        published = ", ".join(trial.trajectory) or "nothing"
        return f"<p>Published: {escape(published)} (no trajectory expected)</p>"
    rows = "".join(
        f'<tr class="{row.op}">'
        + _cell(row.expected or "")
        + _cell(row.actual or "")
        + _cell(row.op)
        + "</tr>"
        for row in diff(expected, trial.trajectory)
    )
    return (
        f"<p>Trajectory, match mode <code>{escape(case.match or '')}</code>:</p>"
        f"<table><tr><th>expected</th><th>published</th><th></th></tr>{rows}</table>"
    )


def _history_table(trial: TrialResult) -> str:
    rows = []
    for record in trial.history:
        trips = ", ".join(f"{t['guard']} ({t['action']})" for t in record.get("guard_trips", []))
        rows.append(
            "<tr>"
            + _cell(str(record.get("step")))
            + _cell(str(record.get("kind")))
            + _cell(str(record.get("event") or ""))
            + _cell(trips)
            + _cell(str(record.get("note") or record.get("reasoning") or "")[:300])
            + "</tr>"
        )
    return (
        "<table><tr><th>step</th><th>kind</th><th>event</th><th>guards</th><th>note</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _trial(case: CaseResult, trial: TrialResult) -> str:
    checks = "".join(
        f'<li class="{"pass" if c.passed else "fail"}">{escape(c.name)}'
        + (f" — {escape(c.detail)}" if c.detail else "")
        + "</li>"
        for c in trial.checks
    )
    problems = "".join(f'<li class="fail">{escape(p)}</li>' for p in trial.problems)
    outcome = trial.outcome or {}
    result = str(outcome.get("result") or outcome.get("reason") or "")
    verdict = "passed" if trial.passed else "failed"
    return (
        f"<details><summary>trial {trial.trial}: {verdict}, {escape(trial.termination)}"
        f"</summary><ul>{problems}{checks}</ul>{_diff_table(case, trial)}"
        f"<p>Outcome: <code>{escape(str(outcome.get('status', 'none')))}</code> "
        f"{escape(result[:600])}</p>{_history_table(trial)}</details>"
    )


def _cases(report: Report) -> str:
    models = [s.model for s in report.summaries]
    scenarios = list(dict.fromkeys(c.scenario for c in report.cases))
    head = "<tr><th>case</th>" + "".join(f"<th>{escape(m)}</th>" for m in models) + "</tr>"
    rows, details = [], []
    for scenario in scenarios:
        cells = []
        for model in models:
            case = report.case(model, scenario)
            if case is None:
                cells.append(_cell("-"))
                continue
            cells.append(
                _cell(f"{case.successes}/{len(case.trials)}", "pass" if case.passed else "fail")
            )
            trials = "".join(_trial(case, t) for t in case.trials)
            details.append(
                f'<details id="{escape(scenario)}-{escape(model)}"><summary><b>'
                f"{escape(scenario)}</b> [{escape(model)}] {escape(case.title)} "
                f'<span class="small">{escape(", ".join(case.tags))}</span></summary>'
                f"{trials}</details>"
            )
        rows.append(f"<tr>{_cell(scenario)}{''.join(cells)}</tr>")
    return f"<table>{head}{''.join(rows)}</table><h2>Every case</h2>{''.join(details)}"


def render_html(report: Report) -> str:
    """The whole report as one HTML document."""
    run, suite, git = report.run, report.suite, report.git
    comparison = _comparison(report.comparison) if report.comparison else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Planner evals {escape(suite.hash)}</title><style>{STYLE}</style></head><body>"
        "<h1>Planner evals</h1>"
        f"<p>Mode <b>{escape(run.mode)}</b>, {run.trials} trial(s) per case, "
        f"{suite.scenarios} scenarios from <code>{escape(suite.path)}</code> (suite "
        f"{escape(suite.hash)}), git <code>{escape(git.sha or 'unknown')}</code>"
        f"{' with uncommitted changes' if git.dirty else ''}, temperature "
        f"{run.temperature if run.temperature is not None else 'default'}, "
        f"{run.duration_s:.1f} s, {escape(report.created_at.isoformat())}.</p>"
        f"<h2>Summary</h2>{_summary_table(report)}{_charts(report)}{comparison}"
        f"<h2>Cases</h2>{_cases(report)}</body></html>\n"
    )
