"""pytest plugin: every scenario file under the paths pytest is given is a test item.

Enable it with ``-p soorma_lc.evals.pytest_plugin`` or, for a suite folder, a ``conftest.py``
that imports its hooks (evals/conftest.py does). Under pytest-xdist each worker writes its
own report into ``<--eval-report>/<worker id>``. One item per scenario and model; an item
passes when every trial of the case passes. Options: ``--eval-mode``, ``--eval-model``
(repeatable), ``--eval-trials``, ``--eval-cassettes``, ``--eval-timeout``, ``--eval-report``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from soorma_lc.evals.backends import EvalBackends
from soorma_lc.evals.markdown import render_markdown
from soorma_lc.evals.modes import MODES
from soorma_lc.evals.reports import build_report, write_reports
from soorma_lc.evals.results import CaseResult
from soorma_lc.evals.runner import EvalRunner, RunConfig
from soorma_lc.evals.scenario import Scenario
from soorma_lc.evals.suite import (
    Suite,
    is_scenario_document,
    is_scenario_file,
    load_scenario,
    read_document,
)
from soorma_lc.evals.trajectory import diff

_SESSION = pytest.StashKey["EvalSession"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("soorma-evals", "soorma-lc planner evals")
    group.addoption("--eval-mode", choices=MODES, default="scripted", help="default: scripted")
    group.addoption(
        "--eval-model",
        action="append",
        default=[],
        help="scripted, offline or a litellm model string (repeatable; default: the mode's)",
    )
    group.addoption("--eval-trials", type=int, default=1, help="trials per case (default 1)")
    group.addoption(
        "--eval-cassettes", default=None, help="cassette folder (replay: read; live: recorded)"
    )
    group.addoption("--eval-timeout", type=float, default=None, help="seconds per plan outcome")
    group.addoption(
        "--eval-report", default=None, help="folder for report.json, summary.md, report.html"
    )


def _option(config: pytest.Config, name: str, default: Any) -> Any:
    """An option's value; its default when this plugin's options were not registered (a
    conftest found late in collection)."""
    try:
        return config.getoption(name)
    except ValueError:
        return default


class EvalSession:
    """The run behind the items: one embedded Redis for the session, results for the report."""

    def __init__(self, config: pytest.Config) -> None:
        cassettes = _option(config, "eval_cassettes", None)
        self.run_config = RunConfig(
            mode=_option(config, "eval_mode", "scripted"),
            models=list(_option(config, "eval_model", [])),
            trials=_option(config, "eval_trials", 1),
            timeout=_option(config, "eval_timeout", None),
            cassettes=Path(cassettes) if cassettes else None,
        )
        self.models = self.run_config.checked_models()
        report_dir = _option(config, "eval_report", None)
        worker = getattr(config, "workerinput", {}).get("workerid")  # pytest-xdist
        self.report_dir = Path(report_dir) / worker if report_dir and worker else report_dir
        self.root = Path(config.rootpath)
        self.started_at = datetime.now(UTC)
        self.results: list[CaseResult] = []
        self.scenarios: dict[str, tuple[Scenario, Path]] = {}
        self.summary: str | None = None
        self._backends: EvalBackends | None = None

    def run(self, scenario: Scenario, model: str, file: Path) -> CaseResult:
        if self._backends is None:
            self._backends = EvalBackends(min(4, self.run_config.trials))
        runner = EvalRunner(self.run_config, self._backends)
        case = asyncio.run(runner.run_case(scenario, model, file=str(file)))
        self.results.append(case)
        self.scenarios[scenario.id] = (scenario, file)
        return case

    def finish(self) -> None:
        """Build the report of the cases run: write it (when asked), keep its summary."""
        if not self.results:
            return
        suite = Suite(
            self.root,
            tuple(scenario for scenario, _ in self.scenarios.values()),
            {sid: path for sid, (_, path) in self.scenarios.items()},
        )
        elapsed = (datetime.now(UTC) - self.started_at).total_seconds()
        report = build_report(
            suite,
            self.run_config,
            self.models,
            self.results,
            started_at=self.started_at,
            duration_s=elapsed,
        )
        if self.report_dir:  # under xdist, one folder per worker
            write_reports(report, Path(self.report_dir))
        self.summary = render_markdown(report)

    def close(self) -> None:
        if self._backends is not None:
            self._backends.close()
            self._backends = None


def _session(config: pytest.Config) -> EvalSession:
    if _SESSION not in config.stash:
        config.stash[_SESSION] = EvalSession(config)
    return config.stash[_SESSION]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if is_scenario_file(file_path) and is_scenario_document(read_document(file_path)):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _SESSION in session.config.stash:
        session.config.stash[_SESSION].finish()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    summary = config.stash[_SESSION].summary if _SESSION in config.stash else None
    if summary:
        terminalreporter.write_sep("=", "planner evals")
        terminalreporter.write_line(summary)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _SESSION in config.stash:
        config.stash[_SESSION].close()


class ScenarioFile(pytest.File):
    """A scenario file: one item per model of the run."""

    def collect(self) -> Iterator[EvalItem]:
        scenario = load_scenario(self.path)
        models = _session(self.config).models
        for model in models:
            name = scenario.id if len(models) == 1 else f"{scenario.id}[{model}]"
            yield EvalItem.from_parent(self, name=name, scenario=scenario, model=model)


class EvalCaseFailed(Exception):
    """A case with a failed trial (its result is the payload)."""

    def __init__(self, case: CaseResult) -> None:
        super().__init__(f"{case.scenario} [{case.model}] failed")
        self.case = case


class EvalItem(pytest.Item):
    """One scenario with one model; passes when every trial passes."""

    def __init__(self, *, scenario: Scenario, model: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.model = model
        for tag in scenario.tags:  # ``-m <tag>`` selects scenarios by tag
            marker = tag.replace("-", "_")
            self.config.addinivalue_line("markers", f"{marker}: eval scenarios tagged {tag}")
            self.add_marker(marker)

    def runtest(self) -> None:
        case = _session(self.config).run(self.scenario, self.model, self.path)
        if not case.passed:
            raise EvalCaseFailed(case)

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        if isinstance(excinfo.value, EvalCaseFailed):
            return describe_failure(excinfo.value.case)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"eval {self.scenario.id} [{self.model}]"


def describe_failure(case: CaseResult) -> str:
    """What failed in a case, with the trajectory diff of its first failed trial."""
    lines = [f"{case.scenario} [{case.model}]: {case.successes}/{len(case.trials)} trials passed"]
    trial = next(t for t in case.trials if not t.passed)
    lines.append(f"trial {trial.trial} ended: {trial.termination}")
    lines += [f"  - {failure}" for failure in trial.failures]
    if case.expected_trajectory is not None:
        lines.append(f"trajectory ({case.match}), expected | published:")
        for row in diff(case.expected_trajectory, trial.trajectory):
            lines.append(f"  {row.op:8} {row.expected or '-':40} | {row.actual or '-'}")
    outcome = trial.outcome or {}
    lines.append(f"outcome: {outcome.get('status', 'none')}: {outcome.get('reason') or ''}")
    return "\n".join(lines)
