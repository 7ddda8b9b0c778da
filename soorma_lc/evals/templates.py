"""``${...}`` references in scripted turns and simulated worker replies.

A string that is exactly one reference takes the referenced value as is (any JSON type); a
reference inside a longer string is replaced by the value's text. References are paths
(:mod:`soorma_lc.evals.paths`) whose root names what the writer of the scenario may see:
scripts see ``goal`` (the goal data), ``last`` (the latest result's data) and
``result[<event>]`` (the latest result of that event); workers see ``request`` (the request's
payload).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from soorma_lc.evals.paths import PathError, parse, walk

_REFERENCE = re.compile(r"\$\{([^{}]+)\}")


class TemplateError(ValueError):
    """A reference that names nothing in its scope."""


def render(value: Any, scope: Mapping[str, Any]) -> Any:
    """``value`` with its references replaced from ``scope`` (root name -> value)."""
    if isinstance(value, str):
        whole = _REFERENCE.fullmatch(value.strip())
        if whole:
            return resolve(whole.group(1), scope)
        return _REFERENCE.sub(lambda m: _text(resolve(m.group(1), scope)), value)
    if isinstance(value, Mapping):
        return {key: render(item, scope) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, scope) for item in value]
    return value


def resolve(reference: str, scope: Mapping[str, Any]) -> Any:
    """The value ``reference`` names (``goal.topic``, ``result[x.completed].items[0]``);
    ``path|text`` falls back to ``text`` when the path leads nowhere."""
    path, bar, fallback = reference.partition("|")
    try:
        return _resolve(path.strip(), scope)
    except TemplateError:
        if bar:
            return fallback
        raise


def _resolve(reference: str, scope: Mapping[str, Any]) -> Any:
    try:
        root, steps = parse(reference)
    except PathError as exc:
        raise TemplateError(str(exc)) from None
    if root == "result":
        if not steps or not isinstance(steps[0], str):
            raise TemplateError(f"${{{reference}}}: name the event, as in result[x.completed]")
        results = scope.get("result") or {}
        if steps[0] not in results:
            known = ", ".join(results) or "none yet"
            raise TemplateError(f"${{{reference}}}: no {steps[0]} result (results: {known})")
    elif root not in scope or scope[root] is None:
        raise TemplateError(f"${{{reference}}}: nothing named {root!r} here")
    try:
        return walk(scope[root], steps, path=f"${{{reference}}}")
    except PathError as exc:
        raise TemplateError(str(exc)) from None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
