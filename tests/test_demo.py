"""The research-advisor demo (examples/research_advisor): the offline run end to end with its
timeline and answer, the same through ``soorma-lc demo``, and a run with a chat model."""

from __future__ import annotations

import importlib.util
import io
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import respx
from langchain_core.messages import AIMessage, BaseMessage
from rich.console import Console

from soorma_lc.cli import main
from soorma_lc.config import Settings
from soorma_lc.timeline import build_timeline
from tests.llm_wire import Turn, openai_reply
from tests.planner_helpers import PolicyChatModel, call, goal_data, results

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "research_advisor"
SOURCES = [
    "vector-search-embeddings.md",
    "vector-search-chunking.md",
    "vector-search-evaluation.md",
]
OFFLINE_TIMELINE = [
    ("goal", 0),
    ("decision", 1),
    ("published", 1),
    ("result", 2),
    ("decision", 2),
    ("published", 2),
    ("result", 3),
    ("decision", 3),
    ("published", 3),
    ("result", 4),
    ("decision", 4),
    ("completed", 4),
    ("answer", 4),
]


def _module(name: str) -> ModuleType:
    sys.path.insert(0, str(EXAMPLE))
    spec = importlib.util.spec_from_file_location(
        f"research_advisor_{name}", EXAMPLE / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def demo() -> ModuleType:
    return _module("demo")


def _console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=120, color_system=None), buffer


async def test_the_offline_demo_shows_the_choreography_and_a_validated_answer(
    demo: ModuleType, settings: Settings
) -> None:
    console, buffer = _console()
    snapshot = await demo.run_demo(console, settings=settings)

    entries = build_timeline(snapshot)
    assert [(e.kind, e.step) for e in entries] == OFFLINE_TIMELINE
    decisions = [e for e in entries if e.kind == "decision"]
    assert all(e.offline and "not an LLM" in " ".join(e.details) for e in decisions)
    results_ = [e for e in entries if e.kind == "result"]
    assert [e.agent for e in results_] == ["researcher", "advisor", "validator"]
    assert "working memory ← findings (3 items)" in results_[0].details
    assert any(d.startswith("working memory ← draft (") for d in results_[1].details)
    assert any(d.startswith("working memory ← review (") for d in results_[2].details)
    assert "approved: true" in results_[2].details

    outcome = snapshot.outcome
    assert outcome is not None and outcome.status == "completed" and outcome.actions == 3
    answer = outcome.result or ""
    assert answer.startswith("# Vector search: a briefing for backend developers")
    assert all(f"[{source}]" in answer for source in SOURCES)
    assert entries[-1].text == answer

    out = buffer.getvalue()
    lines = out.splitlines()
    assert lines[0].startswith("no LLM configured (set SOORMA_LLM_MODEL or pass --model)")
    positions = [
        out.index(marker)
        for marker in (
            "● goal research.goal opened plan",
            "◆ decision: publish research.requested  [offline heuristic, not an LLM]",
            "→ published research.requested (action 1 of 8)",
            "← research.completed from researcher",
            "◆ decision: publish draft.requested",
            "← draft.completed from advisor",
            "← validation.completed from validator",
            "◆ decision: complete the goal",
            "✓ plan completed",
            "Key points",
            f"plan {outcome.plan_id} completed · 4 steps, 3 actions · ",
        )
    ]
    assert positions == sorted(positions)
    assert lines[-1].endswith("0 in / 0 out tokens (offline heuristic, no LLM)")


async def test_a_second_run_stores_the_corpus_once(demo: ModuleType, settings: Settings) -> None:
    agents = _module("agents")
    from soorma_lc import MemoryClient

    async with MemoryClient.from_settings(settings) as memory:
        assert await agents.ingest_corpus(memory, tenant_id="t") == 12
        assert await agents.ingest_corpus(memory, tenant_id="t") == 12
        hits = await memory.search_knowledge("hash slots", tenant_id="t", user_id="u", limit=20)
    assert len({hit.external_id for hit in hits}) == len(hits) == 12


def test_soorma_lc_demo_runs_the_same_demo(
    redis_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SOORMA_REDIS_URL", redis_url)
    monkeypatch.setenv("SOORMA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SOORMA_LLM_MODEL", raising=False)

    assert main(["demo", "--topic", "Kubernetes deployments", "--audience", ""]) == 0

    captured = capsys.readouterr()
    assert captured.out.startswith("no LLM configured")
    assert "Kubernetes deployments: a briefing for a technical reader" in captured.out
    assert "[kubernetes-deployments.md]" in captured.out
    assert captured.err == ""
    assert f"data dir: {tmp_path / 'data'} (embedded servers; " in captured.out


def _model_policy(messages: list[BaseMessage], tools: list[str]) -> AIMessage:
    """A competent model: plans research, draft, validation; drafts when asked to write."""
    if not tools:  # the advisor asks for a draft
        return AIMessage(
            "# Vector search\n\nEmbeddings map texts to vectors [vector-search-embeddings.md]."
        )
    got = results(messages)
    topic = goal_data(messages)["topic"]
    if not got:
        return call("research_requested", {"topic": topic}, "First find what we know.")
    last = got[-1]["data"]
    if "findings" in last:
        args = {"topic": topic, "findings": last["findings"]}
        return call("draft_requested", args, "Now a draft from the findings.")
    if "draft" in last:
        return call("validation_requested", {"draft": last["draft"]}, "Check it.")
    if last.get("approved") is False:
        draft = next(r["data"]["draft"] for r in got if "draft" in r["data"])
        return call("complete_goal", {"result": draft, "reasoning": "best effort"})
    raise AssertionError(f"unexpected state: {last}")


async def test_with_a_model_every_decision_is_a_model_call(
    demo: ModuleType, settings: Settings
) -> None:
    console, buffer = _console()
    model: Any = PolicyChatModel(policy=_model_policy)

    snapshot = await demo.run_demo(console, settings=settings, model=model)

    out = buffer.getvalue()
    assert out.startswith("model: PolicyChatModel: every decision below is a call to it")
    assert "offline" not in out
    decisions = [e for e in build_timeline(snapshot) if e.kind == "decision"]
    assert len(decisions) == 4 and not any(e.offline for e in decisions)
    assert decisions[0].details[0] == "reasoning: First find what we know."
    assert "model: policy · 100 in / 10 out tokens" in decisions[0].details[-1]
    # The model's draft cites one of three sources: the validator says so, from working memory.
    validation = [e for e in build_timeline(snapshot) if e.kind == "result"][-1]
    assert "approved: false" in validation.details
    assert any("cite the findings of vector-search-chunking.md" in d for d in validation.details)
    assert snapshot.outcome is not None and snapshot.outcome.input_tokens == 400
    assert out.splitlines()[-1].endswith("400 in / 40 out tokens, $0.004000")


async def test_a_topic_the_corpus_does_not_cover_ends_with_an_honest_answer(
    demo: ModuleType, settings: Settings
) -> None:
    console, _ = _console()
    snapshot = await demo.run_demo(console, settings=settings, topic="quantum gardening")
    outcome = snapshot.outcome
    assert outcome is not None and outcome.status == "completed"
    assert "The knowledge base has nothing about 'quantum gardening'" in (outcome.result or "")
    assert "covers docker, kubernetes, redis, vector search" in (outcome.result or "")
    review = [e for e in build_timeline(snapshot) if e.kind == "result"][-1]
    assert "approved: false" in review.details


_JSON_BLOCK = re.compile(r"```json\n(.*?)\n```", re.S)


def _openai(request: httpx.Request) -> httpx.Response:
    """OpenAI's chat API as a competent model: plans with tool calls, drafts in text."""
    body = json.loads(request.content)
    if not body.get("tools"):  # the advisor drafting
        text = "# Vector search\n\n" + "\n".join(f"- A point [{source}]" for source in SOURCES)
        return httpx.Response(
            200,
            json={
                "id": "chatcmpl-draft",
                "object": "chat.completion",
                "created": 1_700_000_000,
                "model": "gpt-4o-mini-2024-07-18",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70},
            },
        )
    got = [
        json.loads(found.group(1))
        for m in body["messages"]
        if m["role"] == "tool" and (found := _JSON_BLOCK.search(m.get("content") or ""))
    ]
    if not got:
        turn = Turn("research_requested", {"topic": "vector search"}, "call_r")
    elif len(got) == 1:
        args = {"topic": "vector search", "findings": got[0]["findings"]}
        turn = Turn("draft_requested", args, "call_d")
    elif len(got) == 2:
        turn = Turn("validation_requested", {"draft": got[1]["draft"]}, "call_v")
    else:
        assert got[2]["approved"] is True, got[2]
        turn = Turn("complete_goal", {"result": got[1]["draft"], "reasoning": "ok"}, "call_c")
    return openai_reply(turn)


def test_soorma_lc_demo_with_model_plans_with_real_llm_calls(
    redis_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SOORMA_REDIS_URL", redis_url)
    monkeypatch.setenv("SOORMA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with respx.mock(assert_all_called=False) as router:
        route = router.post("https://api.openai.com/v1/chat/completions").mock(side_effect=_openai)
        assert main(["demo", "--model", "openai/gpt-4o-mini"]) == 0

    assert route.call_count == 5  # four decisions and one draft
    out = capsys.readouterr().out
    assert out.startswith("model: openai/gpt-4o-mini: every decision below is a real LLM call")
    assert "offline" not in out
    assert (
        len(
            re.findall(
                r"model: openai/gpt-4o-mini · 120 in / 30 out tokens · .* s · \$0\.0000\d\d", out
            )
        )
        == 4
    )
    summary = out.rstrip().splitlines()[-1]
    assert re.search(r"· 480 in / 120 out tokens, \$0\.000\d{3}$", summary), summary
