"""The planner benchmark still runs (a smoke test with tiny numbers; its figures are not
checked here: timing belongs to benchmarks, not tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_planner_overhead_benchmark_runs_and_prints_the_ratio() -> None:
    run = subprocess.run(
        [sys.executable, "benchmarks/planner_overhead.py", "--steps", "4", "--rounds", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "ratio planner / ReAct" in run.stdout
