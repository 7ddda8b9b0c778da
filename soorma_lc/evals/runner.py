"""Running a suite: every scenario x model x trial, a bounded number at a time.

:func:`run_evals` is the one call (the CLI and the tests use it); :class:`EvalRunner` runs
single cases on backends someone else owns (the pytest plugin runs one case per test item).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from soorma_lc.errors import ConfigurationError
from soorma_lc.evals.backends import EvalBackends
from soorma_lc.evals.cassettes import provider_traffic
from soorma_lc.evals.models import DETERMINISTIC, SCRIPTED, check_models
from soorma_lc.evals.modes import Mode
from soorma_lc.evals.reports import build_report
from soorma_lc.evals.results import CaseResult, Report, TrialResult
from soorma_lc.evals.scenario import Scenario
from soorma_lc.evals.suite import Suite
from soorma_lc.evals.trial import TrialSetup, run_trial

Progress = Callable[[TrialResult], None]
"""Called with each trial's result as it finishes (progress bars, live output)."""


@dataclass(frozen=True)
class RunConfig:
    """What to run: the mode, the models, how many trials of each case, how many at once."""

    mode: Mode = "scripted"
    models: Sequence[str] = ()
    """``scripted``, ``offline`` and litellm model strings; empty: the mode's default."""
    trials: int = 1
    concurrency: int = 4
    temperature: float | None = None
    timeout: float | None = None
    """Seconds to wait for each plan's outcome (None: each scenario's ``timeout``)."""
    cassettes: Path | None = None
    """Replay: where recorded provider traffic is read (required); live: where it is recorded
    (None: nothing is recorded)."""
    judge: str | None = None
    """A litellm model string that scores completions 1-5 (off when None)."""

    def checked_models(self) -> list[str]:
        if self.trials < 1:
            raise ConfigurationError(f"trials must be at least 1 (got {self.trials})")
        models = check_models(self.mode, self.models)
        llms = [m for m in models if m not in DETERMINISTIC]
        if self.mode == "replay" and llms and self.cassettes is None:
            raise ConfigurationError("replay mode needs the cassettes folder (--cassettes)")
        return models


class EvalRunner:
    """Runs cases of ``config`` on ``backends``."""

    def __init__(self, config: RunConfig, backends: EvalBackends) -> None:
        self.config = config
        self.models = config.checked_models()
        self.backends = backends
        judge = None
        if config.judge:
            from soorma_lc.llm import resolve_model

            judge = resolve_model(config.judge)
        self.setup = TrialSetup(
            mode=config.mode,
            temperature=config.temperature,
            timeout=config.timeout,
            cassettes=config.cassettes,
            judge=judge,
            judge_name=config.judge,
        )

    @contextlib.contextmanager
    def _traffic(self) -> Iterator[None]:
        """Provider requests go through cassettes (replay, or a live run that records)."""
        llms = [m for m in self.models if m not in DETERMINISTIC]
        mode = self.config.mode
        if llms and (mode == "replay" or (mode == "live" and self.config.cassettes)):
            with provider_traffic("replay" if mode == "replay" else "record"):
                yield
        else:
            yield

    async def _trial(
        self, scenario: Scenario, model: str, number: int, progress: Progress | None
    ) -> TrialResult:
        async with self.backends.lease() as space:
            result = await run_trial(scenario, model, number, space, self.setup)
        if progress is not None:
            progress(result)
        return result

    async def run_case(
        self, scenario: Scenario, model: str, *, file: str = "", progress: Progress | None = None
    ) -> CaseResult:
        """Every trial of ``scenario`` with ``model``."""
        return (await self.run_cases([(scenario, model, file)], progress=progress))[0]

    async def run_cases(
        self, cases: Sequence[tuple[Scenario, str, str]], *, progress: Progress | None = None
    ) -> list[CaseResult]:
        """Every trial of each (scenario, model, file), concurrently up to the slots."""
        with self._traffic():
            trials = await asyncio.gather(
                *(
                    self._trial(scenario, model, number, progress)
                    for scenario, model, _ in cases
                    for number in range(self.config.trials)
                )
            )
        results = []
        for index, (scenario, model, file) in enumerate(cases):
            start = index * self.config.trials
            expected = scenario.expectations(scripted=model == SCRIPTED).trajectory
            results.append(
                CaseResult(
                    scenario=scenario.id,
                    title=scenario.title,
                    tags=list(scenario.tags),
                    file=file,
                    model=model,
                    expected_trajectory=list(expected.events) if expected else None,
                    match=expected.match if expected else None,
                    trials=list(trials[start : start + self.config.trials]),
                )
            )
        return results


async def run_evals(
    suite: Suite,
    config: RunConfig,
    *,
    progress: Progress | None = None,
    workdir: Path | None = None,
) -> Report:
    """Run ``suite`` as ``config`` says, on an embedded Redis of its own; the report."""
    config.checked_models()
    started_at, started = datetime.now(UTC), time.perf_counter()
    backends = await asyncio.to_thread(EvalBackends, config.concurrency, workdir=workdir)
    try:
        runner = EvalRunner(config, backends)
        cases = [
            (scenario, model, str(suite.files[scenario.id]))
            for model in runner.models
            for scenario in suite.scenarios
        ]
        results = await runner.run_cases(cases, progress=progress)
    finally:
        await asyncio.to_thread(backends.close)
    return build_report(
        suite,
        config,
        runner.models,
        results,
        started_at=started_at,
        duration_s=time.perf_counter() - started,
    )
