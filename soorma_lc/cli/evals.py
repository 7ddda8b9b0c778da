"""The ``eval`` verb: run planner eval scenarios, print the summary, write the reports."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

from soorma_lc.cli import Verbs, add_verb
from soorma_lc.cli import out as _out

DEFAULT_CASSETTES = "cassettes"
"""The cassette folder inside a suite folder, unless --cassettes names another."""


def _cassettes(args: argparse.Namespace) -> Path | None:
    if args.cassettes:
        return Path(args.cassettes)
    root = Path(args.path)
    default = (root if root.is_dir() else root.parent) / DEFAULT_CASSETTES
    if args.mode == "replay" or (args.mode == "live" and args.record):
        return default
    return None


def cmd_eval(args: argparse.Namespace) -> int:
    """Run planner eval scenarios (scripted, replay or live) and report pass rates.

    Prints the Markdown summary (one row per model, the failed cases, the comparison with
    --baseline); --report writes report.json, summary.md and report.html. Exits 1 when a
    scripted case fails, a case regressed against the baseline, or a model's pass@1 is below
    --fail-under; other models' failures are figures. See evals/README.md.
    """
    quiet = args.log_level is None  # a progress bar instead of plan logs: the report has them
    with _log_levels({"soorma_lc": logging.CRITICAL, "soorma_lc.evals": logging.WARNING}, quiet):
        return _run(args)


@contextlib.contextmanager
def _log_levels(levels: dict[str, int], apply: bool) -> Iterator[None]:
    """Set logger levels for the run and put the previous ones back afterwards."""
    previous = {name: logging.getLogger(name).level for name in levels}
    if apply:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    try:
        yield
    finally:
        for name, level in previous.items():
            logging.getLogger(name).setLevel(level)


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from soorma_lc.evals import RunConfig, TrialResult, compare, load_report, load_suite, run_evals
    from soorma_lc.evals.markdown import render_markdown
    from soorma_lc.evals.models import SCRIPTED
    from soorma_lc.evals.reports import write_reports

    suite = load_suite(args.path).selected(args.only, args.tag)
    if not suite.scenarios:
        _out("no scenario matches --only/--tag")
        return 2
    config = RunConfig(
        mode=args.mode,
        models=args.model,
        trials=args.trials,
        concurrency=args.concurrency,
        temperature=args.temperature,
        timeout=args.timeout,
        cassettes=_cassettes(args),
        judge=args.judge,
    )
    total = len(suite.scenarios) * len(config.checked_models()) * args.trials
    bar = Progress(
        TextColumn("trials"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        console=Console(stderr=True),
        disable=args.quiet,
        transient=True,
    )
    with bar:
        task = bar.add_task("trials", total=total, failed=0)
        failed = 0

        def progress(result: TrialResult) -> None:
            nonlocal failed
            failed += not result.passed
            bar.update(task, advance=1, failed=failed)

        report = asyncio.run(run_evals(suite, config, progress=progress))
    if args.baseline:
        baseline = load_report(Path(args.baseline))
        report.comparison = compare(report, baseline, source=args.baseline, alpha=args.alpha)
    _out(render_markdown(report))
    if args.report:
        for kind, path in write_reports(report, Path(args.report)).items():
            _out(f"{kind}: {path}")
    failing = any(not case.passed for case in report.cases if case.model == SCRIPTED)
    if args.fail_under is not None:
        failing |= any(s.pass_at_1 < args.fail_under for s in report.summaries)
    if report.comparison is not None and report.comparison.regressions:
        failing = True
    return 1 if failing else 0


def register(verbs: Verbs) -> None:
    """Add eval."""
    from soorma_lc.evals.modes import MODES

    run = add_verb(verbs, "eval", cmd_eval)
    run.add_argument("path", help="a suite folder (or one scenario file), e.g. evals/")
    run.add_argument("--mode", choices=MODES, default="scripted", help="default: scripted")
    run.add_argument(
        "--model",
        action="append",
        default=[],
        help="scripted, offline (the heuristic baseline) or a litellm model string; repeatable "
        "(default: scripted in scripted mode, offline otherwise)",
    )
    run.add_argument("--trials", type=int, default=1, help="trials per case (pass^k needs k > 1)")
    run.add_argument("--concurrency", type=int, default=4, help="trials at once (1-16)")
    run.add_argument("--temperature", type=float, help="for litellm models")
    run.add_argument("--timeout", type=float, help="seconds per plan (default: the scenario's)")
    run.add_argument("--report", help="folder for report.json, summary.md and report.html")
    run.add_argument("--baseline", help="a saved report.json (or its folder) to compare with")
    run.add_argument("--alpha", type=float, default=0.05, help="significance of a regression")
    run.add_argument(
        "--cassettes", help="cassette folder (default: <suite>/cassettes for replay and --record)"
    )
    run.add_argument("--record", action="store_true", help="live mode: record cassettes")
    run.add_argument("--judge", help="a litellm model string that scores completions 1-5")
    run.add_argument("--only", action="append", default=[], help="scenario ids or globs")
    run.add_argument("--tag", action="append", default=[], help="scenarios with this tag")
    run.add_argument(
        "--fail-under", type=float, help="exit 1 if any model's pass@1 is below this share"
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")
