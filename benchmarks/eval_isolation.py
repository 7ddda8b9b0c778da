"""Eval isolation: a redis-server per trial against one server per run with a database per
trial, and what a whole scripted trial costs next to either.

The eval runner needs every trial on an empty Redis (streams, registry, plans and timers of
one trial must not leak into another). Two ways were measured in the same run:

- a server per trial: start an embedded redis-server in a fresh folder, stop it afterwards;
- one server per run, one database per concurrent trial: empty the database (FLUSHDB) before
  each trial (what :class:`soorma_lc.evals.EvalBackends` does).

For scale, the median wall time of one scripted trial of the research scenario (three
requests, a completion) is printed as well. Printed: ms per trial for each way, and the ratio.

    python benchmarks/eval_isolation.py [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from soorma_lc.backends.embedded_redis import embedded_redis, shutdown_embedded_redis
from soorma_lc.evals import EvalBackends, RunConfig
from soorma_lc.evals.runner import EvalRunner
from soorma_lc.evals.suite import load_scenario

SUITE = Path(__file__).resolve().parent.parent / "evals"
SCENARIO = SUITE / "choreography" / "research-draft-validate.yaml"


def server_per_trial(rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        folder = Path(tempfile.mkdtemp(prefix="isolation-"))
        started = time.perf_counter()
        embedded_redis(folder)
        shutdown_embedded_redis(folder, force=True)
        times.append(time.perf_counter() - started)
    return times


async def database_per_trial(backends: EvalBackends, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        async with backends.lease():
            pass
        times.append(time.perf_counter() - started)
    return times


async def scripted_trials(backends: EvalBackends, rounds: int) -> list[float]:
    runner = EvalRunner(RunConfig(), backends)
    scenario = load_scenario(SCENARIO)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        case = await runner.run_case(scenario, "scripted")
        assert case.passed, case.trials[0].failures
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    rounds = parser.parse_args().rounds
    per_server = statistics.median(server_per_trial(rounds)) * 1000
    with EvalBackends(1) as backends:
        per_database = statistics.median(asyncio.run(database_per_trial(backends, rounds))) * 1000
        trial = statistics.median(asyncio.run(scripted_trials(backends, rounds))) * 1000
    print(f"server per trial (start + stop):  {per_server:8.1f} ms")
    print(f"database per trial (FLUSHDB):     {per_database:8.1f} ms")
    print(f"ratio server / database:          {per_server / per_database:8.1f}x")
    print(f"one scripted trial, for scale:    {trial:8.1f} ms")


if __name__ == "__main__":
    main()
