"""Running an example as a user would: its own process, a fresh working directory, none of the
test environment's SOORMA_* settings, and a private temporary directory that must be empty
again afterwards (no temporary folders left behind, the embedded redis-server stopped)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(
    script: str,
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 180,
) -> str:
    """Run ``examples/<script>`` in ``cwd`` and return its stdout (stderr on failure)."""
    # Short, so that the unix socket the embedded redis-server makes in it stays under the
    # 107-character limit of socket paths.
    tmp = Path(tempfile.mkdtemp(prefix="ex-"))
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SOORMA_")}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        env={**clean, "TMPDIR": str(tmp), **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    leftovers = sorted(p.name for p in tmp.iterdir())
    shutil.rmtree(tmp, ignore_errors=True)
    assert done.returncode == 0, done.stderr
    assert not leftovers, f"{script} left temporary files behind: {leftovers}"
    return done.stdout


def created(cwd: Path) -> list[str]:
    """What a run created in ``cwd``, as relative paths down to two levels."""
    found = []
    for child in sorted(cwd.iterdir()):
        found.append(child.name)
        if child.is_dir():
            found += [f"{child.name}/{grandchild.name}" for grandchild in sorted(child.iterdir())]
    return found
