"""Reports: the versioned JSON (schema-checked, read back), the Markdown summary, the
self-contained HTML report with trajectory diffs and charts, git information."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import jsonschema
import pytest

from soorma_lc.errors import ReportError
from soorma_lc.evals import RunConfig, load_report, load_suite, report_schema, run_evals
from soorma_lc.evals.baseline import compare
from soorma_lc.evals.reports import git_info, write_reports
from soorma_lc.evals.results import Report
from tests.evals_helpers import echo, write_suite


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    wrong = echo(
        id="wrong-word",
        title="Wrong <trajectory>",
        expect={
            **echo()["expect"],
            "trajectory": {"events": ["lookup.requested", "echo.requested"], "match": "strict"},
        },
    )
    suite = load_suite(write_suite(tmp_path_factory.mktemp("suite"), echo(), wrong))
    return asyncio.run(run_evals(suite, RunConfig(models=["scripted", "offline"])))


def test_the_json_report_satisfies_its_schema_and_reads_back(
    report: Report, tmp_path: Path
) -> None:
    paths = write_reports(report, tmp_path)

    document = json.loads(paths["json"].read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(report_schema()).validate(document)
    assert document["report_version"] == 1 and document["run"]["models"] == ["scripted", "offline"]
    assert load_report(tmp_path) == load_report(paths["json"]) == report


def test_reports_that_cannot_be_read_are_report_errors(report: Report, tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="cannot read report"):
        load_report(tmp_path / "missing.json")
    (tmp_path / "garbage.json").write_text("[1, 2", encoding="utf-8")
    with pytest.raises(ReportError, match="is not a version 1 eval report"):
        load_report(tmp_path / "garbage.json")
    future = json.loads(report.model_dump_json())
    future["report_version"] = 2
    (tmp_path / "future.json").write_text(json.dumps(future), encoding="utf-8")
    with pytest.raises(ReportError, match="report_version"):
        load_report(tmp_path / "future.json")


def test_the_markdown_summary_has_a_row_per_model_and_the_failures(report: Report) -> None:
    from soorma_lc.evals.markdown import render_markdown

    text = render_markdown(report)

    rows = [
        line
        for line in text.splitlines()
        if line.startswith("| scripted") or line.startswith("| offline")
    ]
    assert len(rows) == 2 and "| scripted | 50% |" in rows[0]
    assert "- `wrong-word` [scripted] 0/1: trajectory (strict): expected" in text


def test_the_html_report_is_self_contained_with_diffs_and_charts(report: Report) -> None:
    from soorma_lc.evals.html import render_html

    page = render_html(report)

    assert "<script" not in page and not re.search(r"(src|href)=\"https?:", page)
    assert page.count("<svg") == 2  # pass@1 per model, per tag
    assert '<tr class="missing"><td>lookup.requested</td>' in page
    assert '<tr class="same"><td>echo.requested</td><td>echo.requested</td>' in page
    assert "Wrong &lt;trajectory&gt;" in page and "<trajectory>" not in page  # escaped


def test_a_comparison_is_shown_in_both_summaries(report: Report) -> None:
    from soorma_lc.evals.html import render_html
    from soorma_lc.evals.markdown import render_markdown

    improved = report.model_copy(deep=True)
    improved.cases[0].trials[0].passed = False  # the baseline failed a case that passes now
    report = report.model_copy(update={"comparison": compare(report, improved, source="b.json")})

    assert "0 regressed, 0 within noise, 1 improved" in render_markdown(report)
    assert "Against the baseline b.json" in render_html(report)


def test_git_information(tmp_path: Path) -> None:
    here = git_info(Path(__file__))
    assert here.sha is not None and len(here.sha) == 40
    assert git_info(tmp_path).sha is None
