"""Eval suites for planner behaviour: scenarios, a runner on real agents, metrics and reports.

A scenario (YAML or JSON, :mod:`~soorma_lc.evals.scenario`) describes a registry, simulated
workers, a goal, the scripted model's turns and what a good run shows. :func:`run_evals` runs
a suite with the real ChoreographyPlanner and real Workers on an embedded Redis, in scripted,
replay or live mode, and returns a :class:`Report` (``write_reports`` writes its JSON,
Markdown and HTML forms; ``compare`` sets it against a baseline). ``soorma-lc eval`` and
``python -m pytest evals/`` are the two front ends; see evals/README.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from soorma_lc._lazy import lazy_getattr

if TYPE_CHECKING:
    from soorma_lc.evals.backends import EvalBackends
    from soorma_lc.evals.baseline import compare
    from soorma_lc.evals.reports import load_report, write_reports
    from soorma_lc.evals.results import CaseResult, Report, TrialResult, report_schema
    from soorma_lc.evals.runner import EvalRunner, RunConfig, run_evals
    from soorma_lc.evals.scenario import Scenario
    from soorma_lc.evals.scripted import ScriptedPlannerModel
    from soorma_lc.evals.suite import Suite, load_suite

_LAZY_EXPORTS: dict[str, str] = {
    "CaseResult": "soorma_lc.evals.results",
    "EvalBackends": "soorma_lc.evals.backends",
    "EvalRunner": "soorma_lc.evals.runner",
    "Report": "soorma_lc.evals.results",
    "RunConfig": "soorma_lc.evals.runner",
    "Scenario": "soorma_lc.evals.scenario",
    "ScriptedPlannerModel": "soorma_lc.evals.scripted",
    "Suite": "soorma_lc.evals.suite",
    "TrialResult": "soorma_lc.evals.results",
    "compare": "soorma_lc.evals.baseline",
    "load_report": "soorma_lc.evals.reports",
    "load_suite": "soorma_lc.evals.suite",
    "report_schema": "soorma_lc.evals.results",
    "run_evals": "soorma_lc.evals.runner",
    "write_reports": "soorma_lc.evals.reports",
}

__getattr__ = lazy_getattr(__name__, _LAZY_EXPORTS)

__all__ = [
    "CaseResult",
    "EvalBackends",
    "EvalRunner",
    "Report",
    "RunConfig",
    "Scenario",
    "ScriptedPlannerModel",
    "Suite",
    "TrialResult",
    "compare",
    "load_report",
    "load_suite",
    "report_schema",
    "run_evals",
    "write_reports",
]
