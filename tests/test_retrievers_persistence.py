"""Persistence: memories written by one OS process are found by another after a restart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

WRITER = """
import asyncio, sys
from pathlib import Path
from soorma_lc.config import Settings
from soorma_lc.memory.episodic import EpisodicMemory
from soorma_lc.memory.semantic import SemanticMemory

async def main():
    settings = Settings(data_dir=Path(sys.argv[1]))
    episodic = EpisodicMemory.from_settings(settings)
    semantic = SemanticMemory.from_settings(settings)
    for n in range(3):
        await episodic.log_interaction(
            "agent",
            "user",
            f"turn {n}: book flights to Lisbon",
            tenant_id="t1",
            user_id="u1",
            metadata={"plan_id": "p9"},
        )
    await semantic.store_knowledge(
        "The Lisbon office opens at 9am.", tenant_id="t1", user_id="u1", external_id="office-hours"
    )
    await semantic.store_knowledge(
        "Team offsite is in Porto.", tenant_id="t1", user_id="u2", is_public=True
    )

asyncio.run(main())
"""

READER = """
import json, sys
from pathlib import Path
from soorma_lc.config import Settings
from soorma_lc.memory.retrievers import episodic_retriever, semantic_retriever

settings = Settings(data_dir=Path(sys.argv[1]))
scope = {"tenant_id": "t1", "user_id": "u1"}
episodic = episodic_retriever("agent", settings=settings, k=5, **scope).memory
history = episodic.get_recent_history_sync("agent", limit=10, **scope)
episodes = episodic_retriever("agent", settings=settings, k=1, **scope).invoke("flights to Lisbon")
knowledge = semantic_retriever(settings=settings, k=5, **scope).invoke("when does the office open")
print(json.dumps({
    "history": [i.content for i in history],
    "episode": [[d.page_content, d.metadata["plan_id"]] for d in episodes],
    "knowledge": [[d.page_content, d.metadata["user_id"]] for d in knowledge],
}))
"""


def _run(script: str, data_dir: Path) -> str:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    for name in list(env):
        if name.startswith("SOORMA_"):
            del env[name]
    done = subprocess.run(
        [sys.executable, "-c", script, str(data_dir)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=data_dir.parent,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
def test_memories_survive_a_restart_in_another_process(tmp_path: Path) -> None:
    data_dir = tmp_path / "soorma"
    _run(WRITER, data_dir)
    found = json.loads(_run(READER, data_dir).strip().splitlines()[-1])
    assert found["history"] == [f"turn {n}: book flights to Lisbon" for n in range(3)]
    assert found["episode"][0][1] == "p9"
    assert found["knowledge"][0] == ["The Lisbon office opens at 9am.", "u1"]
    assert ["Team offsite is in Porto.", "u2"] in found["knowledge"]
