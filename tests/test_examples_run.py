"""The examples without a test of their own run as their READMEs say, each in its own data dir
under ./.soorma, leaving no temporary files (the toolkit, registry, store, models, trinity,
drop-in and provider-swap examples are run by their own tests)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.example_runner import created, run_example


def test_hello_worker(tmp_path: Path) -> None:
    out = run_example("hello_worker/run.py", cwd=tmp_path)

    assert re.match(r"registered: \['greeter-[0-9a-f]{8}'\]\n", out)
    for name in ("Ada", "Grace", "Linus"):
        assert re.search(rf"^{name}: Hello, {name}!  \(correlation [0-9a-f-]{{36}}\)$", out, re.M)
    assert created(tmp_path) == [".soorma", ".soorma/hello_worker"]


def test_checkpointer_resumes_in_another_process(tmp_path: Path) -> None:
    script = "checkpointer/checkpointer_demo.py"
    started = run_example(script, "start", cwd=tmp_path)
    resumed = run_example(script, "resume", "yes", cwd=tmp_path)
    history = run_example(script, "history", cwd=tmp_path)

    assert "The graph is waiting: Publish this draft? (yes/no)" in started
    assert resumed.splitlines() == [
        "ai: Draft: Q3 revenue grew 12%, churn fell to 2.1%.",
        "human: yes",
        "ai: Published.",
    ]
    assert history.splitlines()[0] == "step  3 loop   next=() messages=3"
    assert history.splitlines()[-1] == "step -1 input  next=('__start__',) messages=0"
    assert created(tmp_path) == [".soorma", ".soorma/checkpointer"]


def test_long_term_memory_remembers_once_and_recalls(tmp_path: Path) -> None:
    script = "memory/long_term_memory.py"
    first = run_example(script, "remember", cwd=tmp_path)
    again = run_example(script, "remember", cwd=tmp_path)
    recalled = run_example(script, "recall", "trip budget", cwd=tmp_path)

    assert "(the chat is already in episodic memory)" not in first
    assert again.startswith("(the chat is already in episodic memory)\n")
    episodic = recalled.split("episodic search for 'trip budget':\n", 1)[1].split("semantic")[0]
    hits = [line.split("  ", 2)[-1] for line in episodic.strip().splitlines()]
    assert hits[0] == "user: Keep the whole trip under 1500 euros."
    assert len(hits) == len(set(hits)) == 3  # logged once, found once
    assert "Company travel policy: hotels up to 180 euros per night" in recalled
    assert created(tmp_path) == [".soorma", ".soorma/memory"]


def test_working_memory_manual_state(tmp_path: Path) -> None:
    out = run_example("working_memory/manual_state.py", cwd=tmp_path)

    assert "stored: {'findings': ['use rootless mode']}" in out
    assert "history: ['research.started', 'research.completed']" in out
    assert "refused: value of 'not_json' is a set, which is not JSON-serialisable" in out
    assert "plan is completed" in out and "cannot go from 'completed' to 'running'" in out
    assert "keys removed: 4" in out
    assert created(tmp_path) == [".soorma", ".soorma/working_memory"]


def test_working_memory_workflow_command(tmp_path: Path) -> None:
    out = run_example("working_memory/workflow.py", "Write a blog post about Docker", cwd=tmp_path)

    state = json.loads(out)
    assert state["_action_history"] == [
        "goal.received",
        "research.completed",
        "draft.completed",
        "review.completed",
        "workflow.completed",
    ]
    assert state["status"] == "completed" and state["current_task_index"] == 3
    assert state["draft_result"] == "Completed draft for: Write a blog post about Docker"
    assert created(tmp_path) == [".soorma", ".soorma/working_memory"]
