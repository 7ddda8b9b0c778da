"""pytest integration: scenario files are test items, one per model; failures show the failed
checks and the trajectory diff; tags are markers; options choose models and write reports."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.evals_helpers import echo, write_suite

ROOT = Path(__file__).resolve().parent.parent


def test_scenarios_are_items_per_model_with_diffs_markers_and_reports(tmp_path: Path) -> None:
    wrong = echo(
        id="wrong-order",
        tags=["ordering"],
        expect={
            **echo()["expect"],
            "trajectory": {"events": ["lookup.requested", "echo.requested"], "match": "strict"},
        },
    )
    suite = write_suite(tmp_path / "suite", echo(), wrong, echo(id="left-out", tags=["slow"]))
    shutil.copy(ROOT / "evals" / "conftest.py", suite)  # what makes evals/ a pytest suite

    run = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(suite), "-v"),
            *("--eval-model", "scripted", "--eval-model", "offline", "-m", "not slow"),
            *("--eval-report", str(tmp_path / "out")),
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert run.returncode == 1, run.stdout + run.stderr
    assert "2 failed, 2 passed, 2 deselected" in run.stdout
    assert "echo.yaml::echo[offline] PASSED" in run.stdout
    assert "wrong-order [scripted]: 0/1 trials passed" in run.stdout
    assert "missing  lookup.requested" in run.stdout  # the trajectory diff
    assert "| scripted | 50% |" in run.stdout and "| offline | 50% |" in run.stdout
    assert (tmp_path / "out" / "report.html").exists()
