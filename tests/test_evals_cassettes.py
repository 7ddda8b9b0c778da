"""Live runs record provider traffic into cassettes; replays answer from them with the network
blocked, and a request they do not hold fails the case. The provider is OpenAI's HTTP API,
mocked with respx; the optional LLM judge goes through the same API."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
import respx
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from soorma_lc.errors import CassetteMissError, ReportError
from soorma_lc.evals import RunConfig, load_suite, run_evals
from soorma_lc.evals.cassettes import Cassette, load_cassette, provider_traffic
from soorma_lc.evals.judge import judge_completion
from tests.evals_helpers import echo, write_suite
from tests.llm_wire import Turn, openai_reply

MODEL = "openai/gpt-4o-mini"
CHAT = "https://api.openai.com/v1/chat/completions"
_JSON = re.compile(r"```json\n(.*?)\n```", re.S)


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-test-key")


def echo_provider(request: httpx.Request) -> httpx.Response:
    """A competent model: echo the goal's word, then complete with the echo."""
    body = json.loads(request.content)
    results = [
        json.loads(_JSON.search(m["content"]).group(1))
        for m in body["messages"]
        if m["role"] == "tool" and _JSON.search(m.get("content") or "")
    ]
    if not results:
        return openai_reply(Turn("echo_requested", {"word": "hello"}, "call_e"))
    return openai_reply(Turn("complete_goal", {"result": results[-1]["echo"]}, "call_c"))


def network_is_off(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"the replay reached the network: {request.url}")


async def test_a_live_run_records_and_its_replay_needs_no_network(tmp_path: Path) -> None:
    suite = load_suite(write_suite(tmp_path / "suite", echo()))
    cassettes = tmp_path / "cassettes"
    with respx.mock(assert_all_called=False) as router:
        live = router.post(CHAT).mock(side_effect=echo_provider)
        recorded = await run_evals(
            suite, RunConfig(mode="live", models=[MODEL], trials=2, cassettes=cassettes)
        )
    files = sorted(cassettes.rglob("*.cassette.json"))
    assert [f.name for f in files] == ["trial-0.cassette.json", "trial-1.cassette.json"]
    assert "sk-secret" not in "".join(f.read_text() for f in files)
    assert live.call_count == 4

    with respx.mock(assert_all_called=False) as router:
        network = router.route().mock(side_effect=network_is_off)
        replayed = await run_evals(
            suite, RunConfig(mode="replay", models=[MODEL], trials=2, cassettes=cassettes)
        )

    assert network.call_count == 0
    for report in (recorded, replayed):
        [case] = report.cases
        assert case.passed, case.trials[0].failures
    assert replayed.summaries[0].input_tokens == recorded.summaries[0].input_tokens > 0
    assert replayed.summaries[0].cost_usd == recorded.summaries[0].cost_usd > 0


async def test_a_request_the_cassette_lacks_fails_the_case(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    with respx.mock(assert_all_called=False) as router:
        router.post(CHAT).mock(side_effect=echo_provider)
        await run_evals(
            load_suite(write_suite(tmp_path / "before", echo())),
            RunConfig(mode="live", models=[MODEL], cassettes=cassettes),
        )
    changed = echo(goal={**echo()["goal"], "data": {"word": "goodbye"}})  # another first prompt

    with respx.mock(assert_all_called=False) as router:
        network = router.route().mock(side_effect=network_is_off)
        report = await run_evals(
            load_suite(write_suite(tmp_path / "after", changed)),
            RunConfig(mode="replay", models=[MODEL], cassettes=cassettes),
        )

    [trial] = report.cases[0].trials
    assert not trial.passed and trial.termination == "harness_error"
    assert (
        "has no recording of POST https://api.openai.com/v1/chat/completions" in (trial.problems[0])
    )
    assert network.call_count == 0


def test_requests_outside_any_trial_are_blocked_while_replaying() -> None:
    original = httpx.HTTPTransport.handle_request
    with provider_traffic("replay"), pytest.raises(CassetteMissError, match="outside any trial"):
        httpx.get("https://example.org/")
    assert httpx.HTTPTransport.handle_request is original


def test_an_unreadable_cassette_is_a_report_error(tmp_path: Path) -> None:
    path = tmp_path / "trial-0.cassette.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ReportError, match="cannot be read"):
        load_cassette(path)
    with pytest.raises(ReportError):
        Cassette(path, "replay")


def judge_reply(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    if body.get("tools"):
        return echo_provider(request)
    verdict = {"score": 4, "reason": "it repeats the word as asked"}
    return httpx.Response(
        200,
        json={
            "id": "chatcmpl-j",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-4o-mini",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": json.dumps(verdict)},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 50, "completion_tokens": 12, "total_tokens": 62},
        },
    )


async def test_the_optional_judge_scores_completions(tmp_path: Path) -> None:
    suite = load_suite(write_suite(tmp_path, echo(expect={**echo()["expect"], "rubric": "x"})))
    with respx.mock(assert_all_called=False) as router:
        judge = router.post(CHAT).mock(side_effect=judge_reply)
        report = await run_evals(suite, RunConfig(judge=MODEL))

    [trial] = report.cases[0].trials
    assert trial.judge is not None and (trial.judge.score, trial.judge.model) == (4, MODEL)
    assert report.summaries[0].judge_score == 4.0 and report.run.judge == MODEL
    asked = json.loads(judge.calls[0].request.content)["messages"][-1]["content"]
    assert "hello hello" in asked and "A good answer: x" in asked


@pytest.mark.parametrize(
    ("answer", "score", "reason"),
    [
        ('{"score": 5, "reason": "complete"}', 5, "complete"),
        ('Sure! {"score": 2, "reason": "thin"} Hope that helps.', 2, "thin"),
        ("It is quite good.", None, "no score in the judge's answer"),
        ('{"score": 9}', None, "outside 1-5"),
    ],
)
async def test_judge_answers_are_read_strictly(answer: str, score: int | None, reason: str) -> None:
    verdict = await judge_completion(
        FakeListChatModel(responses=[answer]), name="fake", goal={"w": 1}, completion="text"
    )
    assert verdict.score == score and reason in verdict.reason
