"""The optional LLM judge: a chat model scores each completion 1-5 (off unless asked for).

It reads the goal, the scenario's rubric (what a good answer contains) and the completion, and
answers with JSON ``{"score": n, "reason": "..."}``. A judge that answers anything else gives
no score (the reason says what it said), never a made-up one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from soorma_lc.errors import ModelError
from soorma_lc.evals.results import JudgeVerdict

JUDGE_INSTRUCTIONS = """\
You grade the final answer of an automated multi-agent workflow. Score 1 to 5: 5 the answer \
fully serves the goal with real content, 3 partly, 1 it serves nothing or only describes \
content it does not include. Reply with one JSON object and nothing else: \
{"score": <1-5>, "reason": "<one sentence>"}"""

_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


async def judge_completion(
    model: BaseChatModel,
    *,
    name: str,
    goal: Mapping[str, Any],
    completion: str,
    rubric: str | None = None,
) -> JudgeVerdict:
    """The judge's verdict on ``completion`` for ``goal``."""
    question = f"Goal data:\n{json.dumps(dict(goal), ensure_ascii=False)}\n\n"
    if rubric:
        question += f"A good answer: {rubric}\n\n"
    question += f"Final answer:\n{completion[:6000]}"
    try:
        reply = await model.ainvoke([SystemMessage(JUDGE_INSTRUCTIONS), HumanMessage(question)])
    except ModelError as exc:
        return JudgeVerdict(model=name, reason=f"the judge failed: {exc}")
    text = reply.content if isinstance(reply.content, str) else json.dumps(reply.content)
    found = _OBJECT.search(text)
    try:
        answer = json.loads(found.group(0)) if found else {}
        score = int(answer["score"])
    except (ValueError, KeyError, TypeError):
        return JudgeVerdict(model=name, reason=f"no score in the judge's answer: {text[:200]!r}")
    if not 1 <= score <= 5:
        return JudgeVerdict(model=name, reason=f"score {score} is outside 1-5: {text[:200]!r}")
    return JudgeVerdict(model=name, score=score, reason=str(answer.get("reason", ""))[:500])
