"""Filling an event's payload from the values the planner has seen (goal data and results).

Each field of the payload schema is filled, in this order of preference, with:

1. the schema's ``const``;
2. a seen value of a compatible type (it validates against the field's schema) whose key has
   the field's name (``userId`` = ``user_id``), else whose key is similar to the field's name
   or description (:data:`FIELD_MATCH_THRESHOLD`); newer sources win ties;
3. the schema's ``default``;
4. the ``enum`` value most similar to the goal and the latest result;
5. for an object, its own fields filled the same way; for an array, one matching item;
6. for a string, a hand-off: the main text (longest string) of the newest source, once per
   payload, so that a result flows into the next step even when the field names differ;
7. the schema's first ``examples`` value.

Optional fields take only values found under 2. A required field none of these fills makes
the event impossible to call. Each way has a weight (:data:`WEIGHTS`); the mean over the
required fields is the payload's fill ``quality``. The share of required fields filled under 2
(with values the goal or a result really holds) is its ``evidence``: data that fits an event
is a sign that the event is the next step.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

from soorma_lc.llm.offline.relevance import Relevance, words
from soorma_lc.llm.offline.transcript import Source
from soorma_lc.toolkit.schema import resolve_ref

FIELD_MATCH_THRESHOLD = 0.6
"""Similarity (HashingEmbeddings cosine) a key needs to fill a field of another name: shared
words or built-in synonyms reach it (``email`` ~ ``email_address``, ``query`` ~ ``question``),
unrelated names stay below 0.1."""

WEIGHTS = {
    "const": 1.0,
    "name": 1.0,
    "description": 0.8,
    "default": 0.7,
    "enum": 0.5,
    "handoff": 0.5,
    "example": 0.2,
}
_MAX_DEPTH = 3
Fits = Callable[[Any], bool]
"""Whether a value validates against one field's schema."""


@dataclass(frozen=True)
class Known:
    """A value seen in a source, under ``key`` (its field name) at ``path`` in the source."""

    key: str
    path: str
    value: Any
    source: Source


def known_values(sources: list[Source]) -> list[Known]:
    """Every field of every source (nested objects too), newest source first."""
    found: list[Known] = []
    for source in sources:
        found.extend(_flatten(source.data, source, "", 0))
    return found


def _flatten(data: dict[str, Any], source: Source, prefix: str, depth: int) -> Iterator[Known]:
    for key, value in data.items():
        path = f"{prefix}{key}"
        yield Known(key, path, value, source)
        if isinstance(value, dict) and depth < _MAX_DEPTH:
            yield from _flatten(value, source, f"{path}.", depth + 1)


def main_text(known: list[Known], source: Source | None) -> Known | None:
    """The longest string value of ``source`` (first one on ties): what a hand-off passes on."""
    texts = [k for k in known if k.source is source and isinstance(k.value, str) and k.value]
    return max(texts, key=lambda k: len(k.value), default=None)


@dataclass(frozen=True)
class Payload:
    """A filled payload, how well it was filled and how much of it came from seen values
    (both 0..1, over the required fields; 1 when none is required), and each value's origin."""

    args: dict[str, Any]
    quality: float
    evidence: float
    notes: tuple[str, ...]


@dataclass
class _Fill:
    value: Any
    quality: float
    evidence: float
    note: str

    @classmethod
    def by(cls, how: str, value: Any, note: str) -> _Fill:
        seen = 1.0 if how in ("name", "description") else 0.0
        return cls(copy.deepcopy(value), WEIGHTS[how], seen, note)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 1.0


@dataclass
class _Filled:
    args: dict[str, Any]
    required: list[_Fill]
    notes: list[str]

    @property
    def quality(self) -> float:
        return _mean([fill.quality for fill in self.required])

    @property
    def evidence(self) -> float:
        return _mean([fill.evidence for fill in self.required])


@dataclass
class PayloadFiller:
    """Fills payloads for one decision (see the module docstring for the rules)."""

    relevance: Relevance
    known: list[Known]
    context: str
    handoff: Known | None
    _handoff_used: bool = field(default=False, init=False)

    def fill(self, schema: dict[str, Any]) -> Payload | None:
        """The payload for ``schema`` (an object schema), or None if a required field is
        out of reach or the result would not validate."""
        self._handoff_used = False
        validator = validator_for(schema)(schema)
        filled = self._object(schema, schema, validator, 0)
        if filled is None or not validator.is_valid(filled.args):
            return None
        return Payload(filled.args, filled.quality, filled.evidence, tuple(filled.notes))

    def _object(
        self, schema: dict[str, Any], root: dict[str, Any], validator: Validator, depth: int
    ) -> _Filled | None:
        schema = resolve_ref(schema, root)
        required = [name for name in schema.get("required", []) if isinstance(name, str)]
        filled = _Filled({}, [], [])
        for name, prop in (schema.get("properties") or {}).items():
            if not isinstance(prop, dict):
                continue
            prop = resolve_ref(prop, root)
            fits = validator.evolve(schema=prop).is_valid
            if name in required:
                found = self._required(name, prop, root, validator, fits, depth)
                if found is None:
                    return None
                filled.required.append(found)
            else:
                found = self._match(name, prop, fits)
                if found is None:
                    continue
            filled.args[name] = found.value
            filled.notes.append(f"{name} {found.note}")
        missing = [name for name in required if name not in filled.args]
        return None if missing else filled

    def _required(
        self,
        name: str,
        prop: dict[str, Any],
        root: dict[str, Any],
        validator: Validator,
        fits: Fits,
        depth: int,
    ) -> _Fill | None:
        if "const" in prop:
            return _Fill.by("const", prop["const"], "fixed by the schema")
        found = self._match(name, prop, fits)
        if found is not None:
            return found
        if "default" in prop and fits(prop["default"]):
            return _Fill.by("default", prop["default"], "= schema default")
        enum = [value for value in prop.get("enum") or [] if fits(value)]
        if enum:
            choice = max(enum, key=lambda v: self.relevance.similarity(str(v), self.context))
            return _Fill.by("enum", choice, "= allowed value closest to the goal")
        nested = self._nested(name, prop, root, validator, fits, depth)
        if nested is not None:
            return nested
        if not self._handoff_used and self.handoff is not None and fits(self.handoff.value):
            self._handoff_used = True
            where = self.handoff.source.label
            return _Fill.by("handoff", self.handoff.value, f"<- {where} '{self.handoff.path}'")
        examples = [value for value in prop.get("examples") or [] if fits(value)]
        if examples:
            return _Fill.by("example", examples[0], "= schema example")
        return None

    def _nested(
        self,
        name: str,
        prop: dict[str, Any],
        root: dict[str, Any],
        validator: Validator,
        fits: Fits,
        depth: int,
    ) -> _Fill | None:
        if depth >= _MAX_DEPTH:
            return None
        kind = prop.get("type")
        if "properties" in prop and kind in (None, "object"):
            inner = self._object(prop, root, validator, depth + 1)
            if inner is not None and fits(inner.args):
                note = "= {" + "; ".join(inner.notes) + "}"
                return _Fill(inner.args, inner.quality, inner.evidence, note)
        items = prop.get("items")
        if kind == "array" and isinstance(items, dict):
            items = resolve_ref(items, root)
            item = self._match(name, items, validator.evolve(schema=items).is_valid)
            if item is not None and fits([item.value]):
                return _Fill([item.value], item.quality, item.evidence, f"= [{item.note}]")
        return None

    def _match(self, name: str, prop: dict[str, Any], fits: Fits) -> _Fill | None:
        """The best seen value for field ``name`` by key name or similarity (rule 2)."""
        target = words(name)
        description = prop.get("description") if isinstance(prop.get("description"), str) else ""
        best: tuple[float, int] | None = None
        chosen: Known | None = None
        for known in self.known:
            key = words(known.key)
            if key == target:
                score = 1.0
            else:
                score = max(
                    self.relevance.similarity(target, key),
                    self.relevance.similarity(description, key),
                )
                if score < FIELD_MATCH_THRESHOLD:
                    continue
                score = min(score, 0.99)
            rank = (score, known.source.order)
            if (best is None or rank > best) and fits(known.value):
                best, chosen = rank, known
        if chosen is None or best is None:
            return None
        how = "name" if best[0] == 1.0 else "description"
        return _Fill.by(how, chosen.value, f"<- {chosen.source.label} '{chosen.path}'")
