"""The toolkit example runs end to end (own process, the module's Redis, a private data dir)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "toolkit" / "toolkit_demo.py"


def test_toolkit_demo_runs(redis_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SOORMA_REDIS_URL": redis_url,
        "SOORMA_DATA_DIR": str(tmp_path / "soorma"),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    result = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "7 actionable events:" in out
    assert "'research_requested'" in out.split("Tools selected for", 1)[1].splitlines()[0]
    assert "call-1 -> [error]" in out and "$.sources[0]: missing required field 'url'" in out
    assert "call-2 -> [success] Published research.requested" in out
    assert "plan_id=plan-42" in out and "respond with research.completed" in out
