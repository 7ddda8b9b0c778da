"""The provider-swap example: one plan on two litellm model strings, one of which is down and
falls back, answered by a local OpenAI-compatible server the test runs (the example runs in its
own process, where respx cannot reach)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.example_runner import created, run_example
from tests.llm_wire import INPUT_TOKENS, OUTPUT_TOKENS, Turn, openai_reply

_JSON_BLOCK = re.compile(r"```json\n(.*?)\n```", re.S)
SUMMARY = (
    "Redis Streams consumer groups, in short: Each consumer group sees every entry of a stream "
    "once; its consumers share the work; unacknowledged entries stay pending until claimed."
)


def next_turn(body: dict[str, Any]) -> httpx.Response:
    """What a competent model answers, read from the conversation litellm sent."""
    if body["model"] == "flaky-model":
        return httpx.Response(503, json={"error": {"message": "overloaded", "type": "server"}})
    blocks = [
        json.loads(found.group(1))
        for m in body["messages"]
        if m["role"] in ("user", "tool") and (found := _JSON_BLOCK.search(m.get("content") or ""))
    ]
    goal, results = blocks[0], blocks[1:]
    if not results:
        turn = Turn("facts_requested", {"topic": goal["topic"]}, "call_f")
    elif len(results) == 1:
        turn = Turn("summary_requested", {"topic": goal["topic"], **results[0]}, "call_s")
    else:
        turn = Turn("complete_goal", {"result": results[1]["summary"], "reasoning": "done"}, "c")
    return openai_reply(turn, model=body["model"])


@pytest.fixture
def provider() -> Iterator[tuple[str, list[str]]]:
    """An OpenAI-compatible chat completions server on localhost, and the models asked."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            asked.append(body["model"])
            reply = next_turn(body)
            self.send_response(reply.status_code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply.content)))
            self.end_headers()
            self.wfile.write(reply.content)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", asked
    server.shutdown()
    server.server_close()


def test_the_same_plan_runs_on_two_models_and_falls_back(
    tmp_path: Path, provider: tuple[str, list[str]]
) -> None:
    api_base, asked = provider
    out = run_example(
        "provider_swap/provider_swap.py",
        *("--model", "openai/fast-model", "--model", "openai/flaky-model"),
        *("--fallback", "openai/backup-model", "--api-base", api_base, "--api-key", "sk-local"),
        cwd=tmp_path,
        env={"SOORMA_LLM_MAX_RETRIES": "0"},
    )

    fast, flaky = out.split("== ")[1:]
    assert fast.startswith("openai/fast-model\n") and flaky.startswith("openai/flaky-model\n")
    tokens = f"{INPUT_TOKENS}+{OUTPUT_TOKENS} tokens"
    assert fast.count(f"answered by openai/fast-model, {tokens}") == 3
    assert flaky.count(f"answered by openai/backup-model, {tokens}") == 3
    for run in (fast, flaky):
        assert "published facts.requested" in run and "published summary.requested" in run
        assert f"  completed: {SUMMARY}\n" in run
    table = out.strip().splitlines()[-3:]
    assert table[0].split() == ["model", "status", "actions", "decisions", "answered", "by",
                                "tokens", "in/out", "cost"]  # fmt: skip
    assert table[1].split()[:5] == ["openai/fast-model", "completed", "2", "3", "openai/fast-model"]
    assert table[2].split()[:5] == [
        "openai/flaky-model", "completed", "2", "3", "openai/backup-model"
    ]  # fmt: skip
    assert f"{3 * INPUT_TOKENS}/{3 * OUTPUT_TOKENS}" in table[2]
    # The down model was asked once per decision (no retries configured), then its fallback.
    assert asked == ["fast-model"] * 3 + ["flaky-model", "backup-model"] * 3
    assert created(tmp_path) == [".soorma", ".soorma/provider_swap"]
