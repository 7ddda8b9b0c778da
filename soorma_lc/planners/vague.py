"""Telling content from a description of content, and finding the real content of a plan.

LLMs sometimes finish with "the draft is ready" instead of the draft. The checks here are
deterministic and cheap: indicator phrases, word overlap with what the plan actually received,
and length against that content. A completion that carries the content ("Your post is ready:
<the post>") shares most of its words with the results and is long enough, so it passes even
though it contains an indicator phrase.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

VAGUE_INDICATORS: tuple[str, ...] = (
    "is ready",
    "are ready",
    "is complete",
    "is completed",
    "are complete",
    "has been completed",
    "has been prepared",
    "have been prepared",
    "already prepared",
    "already been",
    "has been written",
    "has been created",
    "has been generated",
    "has been drafted",
    "has been validated",
    "was generated",
    "was created",
    "i have completed",
    "i've completed",
    "i have finished",
    "task is done",
    "task is complete",
    "see above",
    "as shown above",
    "shown above",
    "see attached",
    "is attached",
    "see the result",
    "see the draft",
    "available in",
    "stored in",
    "saved in",
    "saved to",
    "in working memory",
    "as requested",
)
"""Phrases that point at content instead of carrying it (lower case)."""

_WORD = re.compile(r"[a-z0-9]+")
_STOP_WORDS = (
    "the a an and or of to in on for with is are was were be been has have had it its this that "
    "these those as at by from your you we i our their there here not no yes can will would "
    "about into than then so such"
)
_STOP = frozenset(_STOP_WORDS.split())


def text_of(value: Any) -> str:
    """The main text of a result: its longest string leaf (JSON of the value if it has none)."""
    best = ""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if len(item) > len(best):
                best = item
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    if best:
        return best
    return "" if value in (None, {}, []) else json.dumps(value, ensure_ascii=False, default=str)


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2]


def indicator_in(text: str) -> str | None:
    """The first vague indicator phrase in ``text``, if any."""
    lowered = " ".join(text.lower().split())
    return next((phrase for phrase in VAGUE_INDICATORS if phrase in lowered), None)


def overlap(text: str, sources: Iterable[str]) -> float:
    """Share of ``text``'s content words that occur in ``sources`` (1.0 for no words)."""
    words = _words(text)
    if not words:
        return 0.0
    known: set[str] = set()
    for source in sources:
        known.update(_words(source))
    return sum(1 for w in words if w in known) / len(words)


@dataclass(frozen=True)
class Vagueness:
    """Why a text was judged to describe content rather than carry it."""

    reason: str
    indicator: str | None


def judge_completion(text: str, gathered: Sequence[str]) -> Vagueness | None:
    """Whether a completion ``text`` describes content instead of including it.

    ``gathered`` are the main texts of the results the plan received. With none, only a short
    text with an indicator phrase is vague (there is nothing it could be a summary of).
    """
    stripped = text.strip()
    indicator = indicator_in(stripped)
    substantive = [g for g in gathered if len(g.strip()) >= 40]
    if not substantive:
        if indicator and len(stripped) < 200:
            return Vagueness(f"it says {indicator!r} but includes no content", indicator)
        return None
    longest = max(len(g) for g in substantive)
    shared = overlap(stripped, substantive)
    short = len(stripped) < 0.3 * longest
    if indicator and (short or shared < 0.5):
        return Vagueness(
            f"it says {indicator!r} but carries little of the content received "
            f"({len(stripped)} characters against {longest}; {shared:.0%} of its words occur "
            "in the results)",
            indicator,
        )
    if len(stripped) < min(120, 0.15 * longest) and shared < 0.3:
        return Vagueness(
            f"it is {len(stripped)} characters long and shares almost nothing with the "
            f"{longest}-character content received",
            None,
        )
    if _status_object(stripped) and longest >= 200:
        return Vagueness(
            f"it is a status object, not the {longest}-character content the plan received",
            None,
        )
    return None


def _status_object(text: str) -> bool:
    """Whether ``text`` is a JSON object or list holding no substantial text (a status or a
    review verdict such as ``{"approved": true}``, handed over as if it were the answer)."""
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return isinstance(value, dict | list) and len(text_of(value)) < 80


def looks_vague_result(data: Any) -> Vagueness | None:
    """Whether a worker's result describes content it does not include."""
    text = text_of(data).strip()
    indicator = indicator_in(text)
    if indicator and len(text) < 200:
        return Vagueness(f"the result says {indicator!r} but includes no content", indicator)
    return None


def best_content(
    results: Sequence[Mapping[str, Any]], working_memory: Mapping[str, Any] | None = None
) -> str | None:
    """The most useful real content a plan holds, for forced or substituted completions.

    The most recent result that is not vague and has some substance; else the longest result
    text; else the plan's working memory (its own keys, not the planner's ``_`` keys).
    """
    texts = [
        (text_of(r.get("data")), bool(r.get("vague"))) for r in results if r.get("data") is not None
    ]
    for text, vague in reversed(texts):
        if not vague and len(text.strip()) >= 40:
            return text
    nonempty = [text for text, _ in texts if text.strip()]
    if nonempty:
        return max(nonempty, key=len)
    own = {k: v for k, v in (working_memory or {}).items() if not k.startswith("_")}
    if own:
        return json.dumps(own, ensure_ascii=False, indent=2, default=str)
    return None
