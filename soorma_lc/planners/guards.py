"""Guards: small, replaceable checks that every decision passes before anything is published.

A guard looks at one decision and a read-only view of the plan and either lets it through
(returns None) or trips: ``reject`` sends the decision back to the model with the reason,
``replace`` carries out a corrected decision instead, ``stop`` completes the plan now with the
best content it holds (forced), ``escalate`` pauses it for a person's review (with an
escalation policy; else like ``stop``), ``fail`` ends the plan as failed. Every trip is
logged and recorded in the plan's history. The action limit is not a guard here: it is enforced
atomically in Redis when an action is taken (see :mod:`soorma_lc.planners.ledger`).
"""

from __future__ import annotations

import inspect
import json
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from soorma_lc.planners.decisions import Decision
from soorma_lc.planners.state import GoalState, ResultRecord
from soorma_lc.planners.vague import best_content, judge_completion, text_of

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlanView:
    """What a guard may look at: the plan as it stands before the decision."""

    plan_id: str
    goal: GoalState
    step: int
    max_actions: int
    results: Sequence[ResultRecord]
    actions: Sequence[Mapping[str, Any]]
    """Earlier publish/delegate decisions, oldest first: ``{"event", "payload", "step"}``."""
    working_memory: Mapping[str, Any] = field(default_factory=dict)
    trips: Mapping[str, int] = field(default_factory=dict)
    """How often each guard tripped in this plan so far, by guard name."""

    def gathered(self) -> list[str]:
        """The main texts of every result received."""
        return [text_of(r.get("data")) for r in self.results]


@dataclass(frozen=True)
class GuardTrip:
    """A guard's objection to a decision."""

    guard: str
    action: Literal["reject", "replace", "stop", "escalate", "fail"]
    reason: str
    replacement: Decision | None = None


class Guard(ABC):
    """A check of every decision; subclass and pass instances in ``guards=``."""

    name: str = "guard"

    @abstractmethod
    async def check(self, decision: Decision, view: PlanView) -> GuardTrip | None:
        """None to let ``decision`` through, else the trip."""


VaguenessJudge = Callable[[str, Sequence[str]], bool | Awaitable[bool]]
"""``judge(completion, gathered_texts) -> True when the completion only describes content``."""


class VagueCompletionGuard(Guard):
    """Catches completions that describe content instead of carrying it.

    Deterministic checks first (:func:`~soorma_lc.planners.vague.judge_completion`); an optional
    ``judge`` (for example :func:`llm_vagueness_judge`) is asked about completions those checks
    let through. A vague completion is replaced by the real content the plan received (the most
    recent substantive result, else its working memory) when there is any; otherwise the model
    is sent back with the reason (the planner's ``max_repairs`` bounds how often).
    """

    name = "vague_completion"

    def __init__(self, judge: VaguenessJudge | None = None, *, substitute: bool = True) -> None:
        self.judge = judge
        self.substitute = substitute

    async def check(self, decision: Decision, view: PlanView) -> GuardTrip | None:
        if decision.kind != "complete" or decision.result is None:
            return None
        gathered = view.gathered()
        verdict = judge_completion(decision.result, gathered)
        reason = verdict.reason if verdict else None
        if reason is None and self.judge is not None:
            answer = self.judge(decision.result, gathered)
            if inspect.isawaitable(answer):
                answer = await answer
            if answer:
                reason = "the vagueness judge found it describes content instead of carrying it"
        if reason is None:
            return None
        content = best_content(view.results, view.working_memory) if self.substitute else None
        if content:
            replacement = replace(
                decision,
                result=content,
                reasoning=f"{decision.reasoning} [vague completion replaced by the content "
                f"received: {reason}]".strip(),
            )
            return GuardTrip(self.name, "replace", f"completion was vague: {reason}", replacement)
        return GuardTrip(
            self.name,
            "reject",
            f"Your completion describes the content instead of including it ({reason}). Call "
            "complete_goal again with the actual content in `result`, or take the action that "
            "produces it.",
        )


def _canonical(payload: Mapping[str, Any]) -> str:
    """A payload's identity for repeat detection: key order and whitespace do not matter."""

    def normal(value: Any) -> Any:
        if isinstance(value, str):
            return " ".join(value.lower().split())
        if isinstance(value, Mapping):
            return {k: normal(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [normal(v) for v in value]
        return value

    return json.dumps(normal(payload), sort_keys=True, ensure_ascii=False)


class RepeatedActionGuard(Guard):
    """Rejects publishing the same event with the same (normalised) payload again.

    ``allowed`` is how many identical publications a plan may make (1: never twice). The model
    is told when it did the same before and what came back.
    """

    name = "repeated_action"

    def __init__(self, allowed: int = 1) -> None:
        if allowed < 1:
            raise ValueError("allowed must be at least 1")
        self.allowed = allowed

    async def check(self, decision: Decision, view: PlanView) -> GuardTrip | None:
        if decision.kind not in ("publish", "delegate"):
            return None
        key = (decision.event, _canonical(decision.payload))
        earlier = [
            a for a in view.actions if (a.get("event"), _canonical(a.get("payload") or {})) == key
        ]
        if len(earlier) < self.allowed:
            return None
        steps = ", ".join(str(a.get("step")) for a in earlier)
        return GuardTrip(
            self.name,
            "reject",
            f"You already published {decision.event} with exactly these arguments (step "
            f"{steps}); its result is in the conversation above. Use that result, change the "
            "arguments, choose another event, or complete the goal.",
        )


class LoopGuard(Guard):
    """Catches a plan ping-ponging between two events (A, B, A, B, ...), whatever the payloads.

    When the decision would continue an alternation of ``length`` actions, the model is sent
    back with the evidence; after ``nudges`` such warnings, the plan is escalated to a person
    (with an escalation policy) or completed with what it has.
    """

    name = "loop"

    def __init__(self, length: int = 4, nudges: int = 2) -> None:
        if length < 3 or nudges < 1:
            raise ValueError("LoopGuard needs length >= 3 and nudges >= 1")
        self.length = length
        self.nudges = nudges

    async def check(self, decision: Decision, view: PlanView) -> GuardTrip | None:
        if decision.kind not in ("publish", "delegate"):
            return None
        events = [*(a.get("event") for a in view.actions), decision.event]
        run = _alternation(events)
        if run < self.length:
            return None
        pair = " and ".join(sorted({str(e) for e in events[-2:]}))
        if view.trips.get(self.name, 0) >= self.nudges:
            return GuardTrip(
                self.name,
                "escalate",
                f"the plan keeps alternating between {pair} after being told it loops",
            )
        return GuardTrip(
            self.name,
            "reject",
            f"You are alternating between {pair} ({run} actions in a row). That is a loop: use "
            "the results you have, choose something else, or complete the goal.",
        )


def _alternation(events: list[str | None]) -> int:
    """How many of the last events alternate between exactly two different events."""
    if len(events) < 2 or events[-1] == events[-2]:
        return 0
    first, second = events[-1], events[-2]
    run = 0
    for index, event in enumerate(reversed(events)):
        if event != (first if index % 2 == 0 else second):
            break
        run += 1
    return run


ProgressJudge = Callable[[PlanView], bool | Awaitable[bool]]
"""``judge(view) -> True when the plan is making progress``; asked only on a stall signal."""


class StallGuard(Guard):
    """A progress check in the spirit of Magentic-One's ledger: when the last ``steps`` results
    brought no new information (their content words were all seen before, in the goal or an
    earlier result), publishing more is sent back to the model with the evidence; after
    ``nudges`` such warnings the plan is escalated (or completed with what it has). An optional
    ``judge`` (for example an LLM call) can overrule the deterministic signal, saying the plan
    is progressing after all.
    """

    name = "stall"

    def __init__(
        self, steps: int = 3, *, nudges: int = 2, judge: ProgressJudge | None = None
    ) -> None:
        if steps < 1 or nudges < 1:
            raise ValueError("steps and nudges must be at least 1")
        self.steps = steps
        self.nudges = nudges
        self.judge = judge

    async def check(self, decision: Decision, view: PlanView) -> GuardTrip | None:
        if decision.kind not in ("publish", "delegate"):
            return None
        stale = _stale_results(view)
        if stale < self.steps:
            return None
        if self.judge is not None:
            progressing = self.judge(view)
            if inspect.isawaitable(progressing):
                progressing = await progressing
            if progressing:
                return None
        evidence = f"the last {stale} results brought no new information"
        if view.trips.get(self.name, 0) >= self.nudges:
            return GuardTrip(self.name, "escalate", f"the plan is stalled: {evidence}")
        return GuardTrip(
            self.name,
            "reject",
            f"No progress: {evidence}. Publishing more of the same will not help; use what you "
            "have, try a different kind of action, or complete the goal.",
        )


def _stale_results(view: PlanView) -> int:
    """How many of the latest results added no content word not seen before them."""
    seen = set(_words(text_of(view.goal.get("data"))))
    novel: list[bool] = []
    for result in view.results:
        words = set(_words(text_of(result.get("data"))))
        novel.append(bool(words - seen))
        seen |= words
    stale = 0
    for is_novel in reversed(novel):
        if is_novel:
            break
        stale += 1
    return stale


def _words(text: str) -> list[str]:
    return [word for word in re.findall(r"[a-z0-9]+", text.lower()) if len(word) > 2]


def default_guards() -> list[Guard]:
    """The guards a planner runs unless told otherwise."""
    return [RepeatedActionGuard(), LoopGuard(), StallGuard(), VagueCompletionGuard()]


def llm_vagueness_judge(model: Any) -> VaguenessJudge:
    """A judge that asks a chat model whether a completion only describes its content."""
    from langchain_core.messages import HumanMessage, SystemMessage

    async def judge(completion: str, gathered: Sequence[str]) -> bool:
        context = "\n---\n".join(g[:2000] for g in gathered[-3:]) or "(nothing)"
        reply = await model.ainvoke(
            [
                SystemMessage(
                    "You check final answers of an automated workflow. Reply with exactly one "
                    "word: INCLUDES if the answer contains the actual content it talks about, "
                    "DESCRIBES if it only says the content exists or is ready."
                ),
                HumanMessage(
                    f"Content received by the workflow:\n{context}\n\nAnswer:\n{completion}"
                ),
            ]
        )
        text = reply.content if isinstance(reply.content, str) else str(reply.content)
        return "DESCRIBES" in text.upper()

    return judge
