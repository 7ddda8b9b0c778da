"""The models example runs offline end to end (own process, no SOORMA_LLM_MODEL, no network)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "models" / "models_demo.py"


def test_models_demo_runs_the_offline_planner(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOORMA_")}
    result = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        env=env | {"SOORMA_DATA_DIR": str(tmp_path / "soorma")},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("chat model: OfflinePlannerModel\n")
    assert 'step 1: research_requested {"topic": "Docker volumes"}' in out
    assert "[Offline heuristic planner (not an LLM)]" in out
    assert "step 2: complete_goal" in out
    assert "result: Named volumes keep container data across restarts" in out
    assert "model soorma-offline-planner, 0 tokens, cost $0.000000" in out
