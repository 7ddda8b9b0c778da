"""The drop-in example: the same LangGraph app, unchanged, on LangGraph's in-memory parts and
on soorma-lc's, where its thread and memories outlive the process."""

from __future__ import annotations

from pathlib import Path

from tests.example_runner import created, run_example

SCRIPT = "drop_in/helpdesk.py"


def answers(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(("Q: ", "A: "))]


def test_the_app_runs_unchanged_on_soorma_lc_and_remembers_across_processes(
    tmp_path: Path,
) -> None:
    before = run_example(SCRIPT, "--before", cwd=tmp_path)
    assert created(tmp_path) == []  # the in-memory app stores nothing
    first = run_example(SCRIPT, cwd=tmp_path)
    second = run_example(SCRIPT, cwd=tmp_path)

    assert answers(first) == answers(before)  # same app, same answers on a fresh start
    assert "A: Reset a password at id.example.com with 'Forgot password'." in before
    assert "   ticket tool: ticket T-1001 opened (high)" in before
    assert "   ticket tool: Published ticket.requested on action-requests" in first
    assert "ticket-desk received ticket.requested: {'summary': 'My laptop screen is broken" in first
    assert "thread helpdesk-alice: 4 messages" in before and "4 messages" in first

    # A new process continues the thread and finds what the first one stored.
    assert "thread helpdesk-alice: 8 messages" in second
    q1 = answers(second)[1]
    assert q1.endswith('last time you asked: "My laptop screen is broken, please open a ticket."')
    assert created(tmp_path) == [".soorma", ".soorma/drop_in"]
