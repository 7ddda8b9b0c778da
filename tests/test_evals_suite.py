"""The project's own eval suite (evals/), run once in CI: the scripted suite is the gate, the
offline baseline over the whole suite is a figure printed at the end of the test run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from soorma_lc.evals import RunConfig, load_suite, report_schema, run_evals, write_reports
from soorma_lc.evals.markdown import summary_cells

SUITE = Path(__file__).resolve().parent.parent / "evals"
MINIMUM_SCENARIOS = 40


def _check_reports(report: Any, directory: Path) -> dict[str, Any]:
    """Write the reports; the JSON must satisfy the published schema."""
    paths = write_reports(report, directory)
    written = json.loads(paths["json"].read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(report_schema()).validate(written)
    assert "| model |" in paths["markdown"].read_text(encoding="utf-8")
    assert "<svg" in paths["html"].read_text(encoding="utf-8")
    return written


async def test_the_scripted_suite_passes(tmp_path: Path) -> None:
    suite = load_suite(SUITE)
    assert len(suite.scenarios) >= MINIMUM_SCENARIOS

    report = await run_evals(suite, RunConfig(mode="scripted", concurrency=4))

    failures = {
        case.scenario: next(t for t in case.trials if not t.passed).failures
        for case in report.cases
        if not case.passed
    }
    assert not failures, json.dumps(failures, indent=1)
    written = _check_reports(report, tmp_path)
    assert written["suite"]["hash"] == suite.hash and written["run"]["mode"] == "scripted"
    assert len(written["cases"]) == len(suite.scenarios)


async def test_the_offline_baseline_runs_the_whole_suite(
    tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    suite = load_suite(SUITE)

    report = await run_evals(suite, RunConfig(mode="scripted", models=["offline"], concurrency=4))

    harness_errors = [
        (t.scenario, t.problems) for c in report.cases for t in c.trials if t.problems
    ]
    assert not harness_errors  # a figure, not a gate: but every trial must have really run
    _check_reports(report, tmp_path)
    [summary] = report.summaries
    assert summary.model == "offline" and summary.cases == len(suite.scenarios)
    record_property("eval_summary", " | ".join(summary_cells(summary)))
