"""The offline planner's heuristic: which tool to call next, with which arguments, and why.

One decision, from the conversation so far and the tools offered:

1. Every event tool not yet published gets its payload filled from the goal data and the
   results (see :mod:`~soorma_lc.llm.offline.filling`); a tool that cannot be filled, or
   whose filled call was already made (same tool, same arguments), is out.
2. Its relevance is the cosine similarity (offline
   :class:`~soorma_lc.backends.embeddings.HashingEmbeddings`) of its name, description and
   fields to the goal message, or to the latest result if that is higher, plus
   :data:`EVIDENCE_WEIGHT` times the share of its required fields filled with values the goal
   or a result holds under that name (or a similar one). Tools below
   :data:`RELEVANCE_THRESHOLD` are out.
3. The best tool by ``relevance * (0.5 + 0.5 * fill quality)`` is called; ties go to the tool
   offered first. A tool that published successfully is not called again: the heuristic
   cannot tell when a repeat would help.
4. With no tool left, it asks ``find_events`` for more (when offered, once per query), then
   completes with the content of the latest result relevant to the goal
   (:data:`COMPLETION_THRESHOLD`, or built on a relevant one: :data:`CARRY_SHARE`), else the
   most relevant one; after a rejected completion it
   completes with every result received. With no result at all it completes saying that no
   registered event can serve the goal.

It never waits and never delegates. Nothing here knows any event, field or scenario by name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.embeddings import Embeddings

from soorma_lc.llm.offline.filling import Known, Payload, PayloadFiller, known_values, main_text
from soorma_lc.llm.offline.relevance import Relevance, words
from soorma_lc.llm.offline.transcript import Source, Transcript

COMPLETE_GOAL = "complete_goal"
FIND_EVENTS = "find_events"
DECISION_TOOLS = frozenset({COMPLETE_GOAL, "wait_for_event", "delegate_goal", FIND_EVENTS})

RELEVANCE_THRESHOLD = 0.14
"""Least relevance for a tool to be called. Calibrated on HashingEmbeddings: tools about the
goal's subject score 0.11-0.35 by text alone, unrelated tools -0.05-0.11 (boilerplate words
such as "event" and "result" are left out); the evidence of fitting data lifts the first."""

EVIDENCE_WEIGHT = 0.1
"""What a payload filled entirely from seen values adds to a tool's relevance."""

COMPLETION_THRESHOLD = 0.1
"""Least similarity between a result and the goal for the result to count as relevant when
choosing what to complete with (the latest relevant result wins)."""

CARRY_SHARE = 0.6
"""A later result that contains this share of an earlier relevant result's words builds on it,
and counts as relevant too (a draft written from research findings)."""

OFFLINE_LABEL = "Offline heuristic planner (not an LLM)"
_QUERY_CHARS = 200


@dataclass(frozen=True)
class ToolSpec:
    """An offered tool in OpenAI function form: name, description, JSON Schema parameters."""

    name: str
    description: str
    parameters: dict[str, Any]

    @classmethod
    def of(cls, tool: dict[str, Any]) -> ToolSpec:
        function = tool.get("function", tool)
        parameters = function.get("parameters") or {"type": "object", "properties": {}}
        return cls(function["name"], function.get("description") or "", parameters)

    @property
    def text(self) -> str:
        """What relevance is measured on: name, description, field names and descriptions."""
        parts = [words(self.name), self.description]
        for name, prop in (self.parameters.get("properties") or {}).items():
            parts.append(words(name))
            if isinstance(prop, dict) and isinstance(prop.get("description"), str):
                parts.append(prop["description"])
        return "\n".join(parts)


@dataclass(frozen=True)
class Decision:
    """The tool to call, its arguments, and the explanation shown with the call."""

    tool: str
    args: dict[str, Any]
    explanation: str


def canonical(args: dict[str, Any]) -> str:
    return json.dumps(args, sort_keys=True, ensure_ascii=False, default=str)


def render(data: dict[str, Any]) -> str:
    """A result's content as text: its only string value, else the whole object as JSON."""
    filled = {key: value for key, value in data.items() if value not in (None, "", [], {})}
    if len(filled) == 1:
        [value] = filled.values()
        if isinstance(value, str):
            return value
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


@dataclass
class Planner:
    """One decision over ``transcript`` with ``tools`` (see the module docstring)."""

    transcript: Transcript
    tools: Sequence[ToolSpec]
    embeddings: Embeddings

    def __post_init__(self) -> None:
        self.relevance = Relevance(self.embeddings)
        self.offered = {tool.name: tool for tool in self.tools}
        latest = self.transcript.latest_result
        self.latest_text = latest.text if latest else ""
        self.known = known_values(self.transcript.sources)

    def decide(self) -> Decision | None:
        """The next call, or None when not even ``complete_goal`` is offered."""
        return self._next_event() or self._find_more() or self._complete()

    # --- publishing an event ------------------------------------------------------------

    def _similarity(self, tool: ToolSpec) -> float:
        to_goal = self.relevance.similarity(self.transcript.goal_text, tool.text)
        return max(to_goal, self.relevance.similarity(self.latest_text, tool.text))

    def _handoff(self) -> Known | None:
        """The text a hand-off passes on: the latest result's main text, or the goal's when
        the goal data holds exactly one string (then it is clearly what the goal is about)."""
        latest = self.transcript.latest_result
        if latest is not None:
            return main_text(self.known, latest)
        goal = self.transcript.goal
        strings = [k for k in self.known if k.source is goal and isinstance(k.value, str)]
        return strings[0] if len(strings) == 1 else None

    def _next_event(self) -> Decision | None:
        filler = PayloadFiller(
            self.relevance,
            self.known,
            f"{self.transcript.goal_text}\n{self.latest_text}",
            self._handoff(),
        )
        tried = {(call.name, canonical(call.args)) for call in self.transcript.calls}
        published = {call.name for call in self.transcript.calls if not call.rejected}
        best: tuple[float, ToolSpec, Payload, float] | None = None
        for tool in self.tools:
            if tool.name in DECISION_TOOLS or tool.name in published:
                continue
            payload = filler.fill(tool.parameters)
            if payload is None or (tool.name, canonical(payload.args)) in tried:
                continue
            relevance = self._similarity(tool) + EVIDENCE_WEIGHT * payload.evidence
            if relevance < RELEVANCE_THRESHOLD:
                continue
            score = relevance * (0.5 + 0.5 * payload.quality)
            if best is None or score > best[0]:
                best = (score, tool, payload, relevance)
        if best is None:
            return None
        _, tool, payload, relevance = best
        sources = "; ".join(payload.notes) or "no fields needed"
        return Decision(
            tool.name,
            payload.args,
            f"Calling {tool.name}: the untried event most relevant to the goal and latest "
            f"result (relevance {relevance:.2f}, fill quality {payload.quality:.2f}). "
            f"Payload: {sources}.",
        )

    # --- asking for more events -----------------------------------------------------------

    def _find_more(self) -> Decision | None:
        if FIND_EVENTS not in self.offered:
            return None
        goal = self.transcript.goal
        about = [str(v) for v in goal.data.values() if isinstance(v, str)] if goal else []
        query = " ".join(about)[:_QUERY_CHARS] or self.transcript.goal_text[:_QUERY_CHARS]
        latest = main_text(self.known, self.transcript.latest_result)
        if latest is not None:
            query = f"{query} {str(latest.value)[:_QUERY_CHARS]}"
        args = {"query": query.strip()}
        searched = self.transcript.calls_to(FIND_EVENTS)
        if any(canonical(call.args) == canonical(args) for call in searched):
            return None
        return Decision(
            FIND_EVENTS,
            args,
            "No offered event is relevant and fillable; searching the registry for more.",
        )

    # --- completing ---------------------------------------------------------------------------

    def _complete(self) -> Decision | None:
        if COMPLETE_GOAL not in self.offered:
            return None
        results = self.transcript.results
        rejected = len(self.transcript.calls_to(COMPLETE_GOAL))
        if not results:
            return self._abstain(rejected)
        if rejected:
            content = "\n\n".join(f"{r.label}:\n{render(r.data)}" for r in results)
            why = (
                f"The previous completion was rejected ({rejected} time(s)); completing with "
                f"all {len(results)} result(s) received."
            )
        else:
            chosen, similarity = self._completion_source(results)
            content = render(chosen.data)
            why = (
                f"No untried relevant event remains; completing with {chosen.label}, the "
                f"latest result relevant to the goal (similarity {similarity:.2f})."
            )
        return _completion(content, why)

    def _completion_source(self, results: list[Source]) -> tuple[Source, float]:
        """The latest relevant result: similar to the goal, or carrying forward most of the
        content of an earlier relevant one (a draft built from the research found for it)."""
        scored = [
            (self.relevance.similarity(self.transcript.goal_text, r.text), r) for r in results
        ]
        relevant: list[tuple[float, Source]] = []
        for score, result in scored:
            builds_on = any(_carries(result.text, earlier.text) for _, earlier in relevant)
            if score >= COMPLETION_THRESHOLD or builds_on:
                relevant.append((score, result))
        score, chosen = relevant[-1] if relevant else max(scored, key=lambda pair: pair[0])
        return chosen, score

    def _abstain(self, rejected: int) -> Decision:
        events = [tool for tool in self.tools if tool.name not in DECISION_TOOLS]
        if events:
            nearest = max(events, key=self._similarity)
            detail = (
                f"none of the {len(events)} offered event(s) is both relevant to the goal and "
                f"fillable from its data (nearest: {nearest.name}, similarity "
                f"{self._similarity(nearest):.2f})"
            )
        else:
            detail = "no event was offered"
        content = f"No registered event can serve this goal: {detail}."
        why = content
        if rejected:
            why += f" Said {rejected} time(s) before and rejected; there is nothing else to do."
        return _completion(content, why)


def _completion(content: str, why: str) -> Decision:
    """complete_goal with ``content``; its reasoning says the offline heuristic decided."""
    return Decision(COMPLETE_GOAL, {"result": content, "reasoning": f"{OFFLINE_LABEL}: {why}"}, why)


def _content_words(text: str) -> set[str]:
    return {word for word in re.findall(r"[a-z0-9]+", text.lower()) if len(word) > 3}


def _carries(later: str, earlier: str) -> bool:
    """Whether ``later`` contains most of ``earlier``'s words (and is at least as long)."""
    earlier_words = _content_words(earlier)
    if not earlier_words or len(later) < len(earlier):
        return False
    return len(earlier_words & _content_words(later)) / len(earlier_words) >= CARRY_SHARE
