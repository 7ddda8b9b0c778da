"""Paths into JSON values: ``$.items[0].id`` in expectations, ``last.items[0].id`` in scripts.

One small grammar for both: a root, then ``.key``, ``[index]`` or ``[key]`` steps. A bracketed
key may contain dots (event names: ``result[draft.completed].draft``) and may be quoted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_STEP = re.compile(r"\.([^.\[\]]+)|\[\s*([^\]]*?)\s*\]")
_MISSING = object()


class PathError(ValueError):
    """A path that does not parse, or does not lead to a value."""


def parse(path: str) -> tuple[str, list[str | int]]:
    """``path`` as its root and its steps (ints index lists, strings key objects).

    ``$.a[0]`` has the root ``$``; ``result[draft.completed].text`` the root ``result``.
    """
    text = path.strip()
    root_end = next((i for i, c in enumerate(text) if c in ".["), len(text))
    root, rest = text[:root_end], text[root_end:]
    if not root:
        raise PathError(f"path {path!r} has no root")
    steps: list[str | int] = []
    position = 0
    while position < len(rest):
        match = _STEP.match(rest, position)
        if match is None:
            raise PathError(f"cannot read {rest[position:]!r} in path {path!r}")
        key, bracket = match.group(1), match.group(2)
        if key is not None:
            steps.append(key)
        elif re.fullmatch(r"-?\d+", bracket):
            steps.append(int(bracket))
        else:
            steps.append(bracket.strip("'\""))
        position = match.end()
    return root, steps


def walk(value: Any, steps: Sequence[str | int], *, path: str = "") -> Any:
    """The value ``steps`` lead to from ``value``; :class:`PathError` says where it stops."""
    current = value
    for index, step in enumerate(steps):
        found = _MISSING
        if isinstance(step, int) and isinstance(current, list) and -len(current) <= step:
            found = current[step] if step < len(current) else _MISSING
        elif isinstance(step, str) and isinstance(current, Mapping):
            found = current.get(step, _MISSING)
        if found is _MISSING:
            where = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps[:index])
            raise PathError(f"{path or 'value'}: nothing at {step!r} (after {where or 'root'})")
        current = found
    return current


def json_path(value: Any, path: str) -> Any:
    """The value at ``path`` (``$``, ``$.a.b``, ``$.items[0]``, ``$['odd.key']``)."""
    root, steps = parse(path)
    if root != "$":
        raise PathError(f"JSON path {path!r} must start with $")
    return walk(value, steps, path=path)
