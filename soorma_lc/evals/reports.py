"""Building, writing and reading reports: ``report.json`` (versioned, with the git SHA and the
suite hash), ``summary.md`` (one row per model) and ``report.html`` (self-contained)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from soorma_lc.errors import ReportError
from soorma_lc.evals.metrics import summarize
from soorma_lc.evals.results import (
    REPORT_VERSION,
    CaseResult,
    GitInfo,
    Report,
    RunInfo,
    SuiteInfo,
)
from soorma_lc.evals.suite import Suite

if TYPE_CHECKING:
    from soorma_lc.evals.runner import RunConfig

REPORT_FILE, SUMMARY_FILE, HTML_FILE = "report.json", "summary.md", "report.html"
ISOLATION = "one embedded redis-server per run, one emptied database per trial"


def git_info(where: Path) -> GitInfo:
    """The commit ``where`` is checked out at, and whether its work tree has changes."""
    folder = where if where.is_dir() else where.parent

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=folder, capture_output=True, text=True, timeout=10, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    sha = git("rev-parse", "HEAD")
    status = git("status", "--porcelain") if sha else None
    return GitInfo(sha=sha, dirty=None if status is None else bool(status))


def build_report(
    suite: Suite,
    config: RunConfig,
    models: Sequence[str],
    cases: Sequence[CaseResult],
    *,
    started_at: datetime,
    duration_s: float,
) -> Report:
    """The report of a finished run."""
    return Report(
        report_version=REPORT_VERSION,
        created_at=datetime.now(UTC),
        git=git_info(suite.root),
        suite=SuiteInfo(path=str(suite.root), hash=suite.hash, scenarios=len(suite.scenarios)),
        run=RunInfo(
            mode=config.mode,
            models=list(models),
            trials=config.trials,
            temperature=config.temperature,
            concurrency=config.concurrency,
            isolation=ISOLATION,
            judge=config.judge,
            started_at=started_at,
            duration_s=round(duration_s, 2),
        ),
        summaries=[summarize(model, [c for c in cases if c.model == model]) for model in models],
        cases=list(cases),
    )


def write_reports(report: Report, directory: Path) -> dict[str, Path]:
    """Write the JSON report, the Markdown summary and the HTML report into ``directory``."""
    from soorma_lc.evals.html import render_html
    from soorma_lc.evals.markdown import render_markdown

    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": directory / REPORT_FILE,
        "markdown": directory / SUMMARY_FILE,
        "html": directory / HTML_FILE,
    }
    paths["json"].write_text(report.model_dump_json(indent=1), encoding="utf-8")
    paths["markdown"].write_text(render_markdown(report), encoding="utf-8")
    paths["html"].write_text(render_html(report), encoding="utf-8")
    return paths


def load_report(path: Path) -> Report:
    """A report written earlier (a file, or a folder holding report.json)."""
    file = path / REPORT_FILE if path.is_dir() else path
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot read report {file}: {exc}") from None
    try:
        return Report.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ReportError(
            f"{file} is not a version {REPORT_VERSION} eval report ({where}: {first['msg']})"
        ) from None
