"""Machinery of the memory layer's hostile suites (tests/test_hostile_{working_memory,
checkpointer,longterm,store}.py), on top of ``tests.hostile`` (its values and probe counter).

Each suite lists its public entry points as :class:`EntryPoint`s: a name, a call, and one
hypothesis strategy per argument that mixes usable values with hostile ones (wrong types,
None, bytes, a string where a list belongs, NaN, huge or negative numbers, lone surrogates,
NUL and control characters, invisible text, oversized strings, deep or self-referencing
structures, objects JSON cannot hold). :func:`probe` runs one call and asserts the contract of
issue 15 for it:

- it returns, or raises a :class:`SoormaError` (any other exception fails the test);
- it finishes within :data:`HANG_GUARD` seconds (a generous guard against hangs, not a timing
  assertion);
- when it raises, the stored state (every Redis key, every Chroma record) is unchanged.

With ``SOORMA_HOSTILE_TALLY=<file>`` each process appends its probe counts per entry point to
that file (JSON lines) at exit, for the closing note of the issue. ``SOORMA_HOSTILE_SCALE=20``
runs twenty times as many examples per entry point (a deeper run than the suite's default).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import json
import os
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import redis
from hypothesis import settings
from hypothesis import strategies as st

from soorma_lc.errors import SoormaError
from tests.hostile import (
    HOSTILE,
    HOSTILE_SETTINGS,
    PROBES,
    _deep_dict,
    _deep_list,
    _self_referencing,
)

HANG_GUARD = 60.0
"""Seconds a single call may take before the suite calls it hung."""

REFUSED: Counter[str] = Counter()
"""Probes that ended in a SoormaError, by entry point (the rest succeeded)."""

_FAILED = object()
_SCALE = float(os.environ.get("SOORMA_HOSTILE_SCALE", "1"))


def examples(count: int) -> int:
    """``count`` hypothesis examples per entry point, times ``SOORMA_HOSTILE_SCALE``."""
    return max(1, round(count * _SCALE))


def hostile_settings(count: int) -> settings:
    """The hostile suites' hypothesis settings with :func:`examples` ``(count)`` examples."""
    return settings(HOSTILE_SETTINGS, max_examples=examples(count))


@dataclass(frozen=True, repr=False)
class Slot:
    """One argument: values a careful caller passes, and hostile ones."""

    valid: st.SearchStrategy[Any]
    hostile: st.SearchStrategy[Any]


@dataclass(frozen=True, repr=False)
class EntryPoint:
    """A public entry point: ``call(target, **drawn)`` with one :class:`Slot` per argument."""

    name: str
    call: Callable[..., Any]
    slots: dict[str, Slot] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name

    __repr__ = __str__  # hypothesis prints failing examples; strategies would be huge


def entry(name: str, call: Callable[..., Any], /, **slots: Slot) -> EntryPoint:
    return EntryPoint(name, call, slots)


def draw_arguments(data: st.DataObject, entry_point: EntryPoint) -> dict[str, Any]:
    """Arguments for one call: up to two slots (chosen by hypothesis, possibly none) get a
    hostile value, the others a valid one, so that hostile values reach deep code paths."""
    names = sorted(entry_point.slots)
    hostile = set(data.draw(st.lists(st.sampled_from(names), max_size=2, unique=True)))
    return {
        name: data.draw(slot.hostile if name in hostile else slot.valid, label=name)
        for name, slot in entry_point.slots.items()
    }


def probe(
    name: str,
    call: Callable[[], Any],
    snapshot: Callable[[], Any],
    loop: asyncio.AbstractEventLoop,
) -> Any:
    """Run ``call`` under the contract above (an awaitable result is awaited on ``loop``); the
    result, or :data:`_FAILED` when it raised a SoormaError."""
    PROBES[name] += 1
    before = snapshot()
    try:
        result = _bounded(call, loop)
    except SoormaError as exc:
        REFUSED[name] += 1
        after = snapshot()
        assert after == before, f"{name} raised {exc!r} and changed stored state"
        return _FAILED
    except (TimeoutError, concurrent.futures.TimeoutError):
        raise AssertionError(f"{name} did not finish within {HANG_GUARD} s") from None
    except BaseException as exc:
        raise AssertionError(f"{name} raised a raw {type(exc).__name__}: {exc!r}") from exc
    return result


def probe_entry_point(
    entry_point: EntryPoint,
    target: Any,
    data: st.DataObject,
    snapshot: Callable[[], Any],
    loop: asyncio.AbstractEventLoop,
) -> Any:
    """:func:`probe` one call of ``entry_point`` on ``target`` with drawn arguments."""
    arguments = draw_arguments(data, entry_point)
    return probe(entry_point.name, lambda: entry_point.call(target, **arguments), snapshot, loop)


def failed(result: Any) -> bool:
    return result is _FAILED


def _bounded(call: Callable[[], Any], loop: asyncio.AbstractEventLoop) -> Any:
    """``call()`` in a worker thread, then its awaitable result (if any) on ``loop``, each
    under :data:`HANG_GUARD`."""
    pool = concurrent.futures.ThreadPoolExecutor(1)
    try:
        result = pool.submit(call).result(timeout=HANG_GUARD)
    finally:
        pool.shutdown(wait=False)  # a hung call keeps its thread; the test fails anyway
    if isinstance(result, Awaitable):
        result = loop.run_until_complete(asyncio.wait_for(_awaited(result), HANG_GUARD))
    return result


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def redis_state(client: redis.Redis) -> dict[bytes, Any]:
    """Every key of the database with its type and full content (TTL ignored)."""
    state: dict[bytes, Any] = {}
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        if kind == b"hash":
            content: Any = client.hgetall(key)
        elif kind == b"zset":
            content = client.zrange(key, 0, -1, withscores=True)
        elif kind == b"set":
            content = sorted(client.smembers(key))
        elif kind == b"list":
            content = client.lrange(key, 0, -1)
        elif kind == b"stream":
            content = client.xrange(key)
        else:
            content = client.get(key)
        state[key] = (kind, content)
    return state


def chroma_state(client: Any) -> dict[str, Any]:
    """Every collection with its records (ids, documents, metadata)."""
    state: dict[str, Any] = {}
    for collection in client.list_collections():
        found = collection.get(include=["documents", "metadatas"])
        metadatas = [sorted((meta or {}).items()) for meta in found["metadatas"] or []]
        records = zip(found["ids"], found["documents"] or [], map(repr, metadatas), strict=True)
        state[collection.name] = sorted(records)
    return state


# -- hostile values ----------------------------------------------------------------------


class Evil:
    """An object whose str, format, length and iteration raise (repr, equality and hash stay:
    hypothesis needs them for its own bookkeeping and reports)."""

    def _fail(self, *args: Any) -> Any:
        raise RuntimeError("evil")

    __str__ = __format__ = __len__ = __iter__ = _fail

    def __repr__(self) -> str:
        return "Evil()"


def _cyclic() -> list[Any]:
    value: list[Any] = [1]
    value.append(value)
    return value


def big_text() -> str:
    """A string over every 1 MiB text and value limit of the memory layer."""
    return "x" * (2 * 1024 * 1024 + 1)


def _huge_int(negative: bool) -> int:
    """An int too long for Python to print (over 4300 digits)."""
    return -(10**5000) if negative else 10**5000


SPECIAL_STRINGS = [
    "",
    " ",
    "\t\n",
    "\u200b",
    "\u200b\u2060\ufeff",
    "\x00",
    "a\x00b",
    "a\x01b",
    "line\nbreak",
    "\x7f",
    "\ud800",
    "a\udfffb",
    "ab",
    "x" * 513,
    "é" * 600,
    "{tag}",
    "a:b:{c}",
    "%2F%",
    "$and",
    "chroma:x",
    "ünï cødé ✓",
    "1e999",
    "NaN",
]

surrogate_text = st.text(st.characters(categories=["Cs", "Ll"]), min_size=1, max_size=8)
control_text = st.text(st.characters(categories=["Cc", "Cf", "Zs"]), min_size=1, max_size=8)

hostile_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**63, -(2**63) - 1, 2**100, -1, 0]),
    st.builds(_huge_int, st.booleans()),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(SPECIAL_STRINGS),
    st.text(max_size=12),
    surrogate_text,
    control_text,
    st.binary(max_size=8),
)

hostile_objects = st.one_of(
    st.builds(object),
    st.builds(Evil),
    st.just(lambda: 1),
    st.builds(set, st.lists(st.integers(), max_size=3)),
    st.builds(bytearray, st.binary(max_size=4)),
    st.just(Decimal("1.5")),
    st.just(complex(1, 2)),
    st.builds(_self_referencing),
    st.integers(min_value=65, max_value=3000).map(_deep_list),  # past the JSON depth limit
    st.integers(min_value=65, max_value=3000).map(_deep_dict),
    st.builds(big_text),
    st.just(["ab", "cd"]),
    st.dictionaries(st.integers(), st.integers(), min_size=1, max_size=2),
    st.tuples(st.integers(), st.text(max_size=3)),
)

anything = st.one_of(hostile_scalars, hostile_objects, HOSTILE)
"""Any value at all, mostly hostile (the values of ``tests.hostile`` included)."""

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=10),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.text(max_size=6), children, max_size=3),
    ),
    max_leaves=8,
)
"""Plain JSON values (what a well-behaved caller stores)."""


def valid(strategy: st.SearchStrategy[Any]) -> Slot:
    """A slot whose every value is acceptable (flags, optional arguments left out, ...)."""
    return Slot(strategy, strategy)


def ids(*choices: str) -> Slot:
    """An identifier slot: one of ``choices``, or anything at all."""
    return Slot(st.sampled_from(choices), anything)


def counts(*choices: int) -> Slot:
    """A count or limit slot: one of ``choices``, or any number or scalar."""
    return Slot(st.sampled_from(choices), hostile_scalars)


def optional(slot: Slot) -> Slot:
    """``slot`` that may also be None (None is then a valid value)."""
    return Slot(st.one_of(st.none(), slot.valid), slot.hostile)


JSON = Slot(
    json_values,
    st.one_of(
        anything,
        st.dictionaries(st.text(max_size=4), anything, min_size=1, max_size=2),
        st.lists(anything, min_size=1, max_size=2),
    ),
)
"""A value to store: plain JSON, or anything JSON cannot hold as it is."""


def sequences(item: Slot) -> Slot:
    """A sequence slot: lists or tuples of ``item``; hostile: a string (one id, never its
    characters), bytes, None, a mapping, a scalar, or a list with hostile items."""
    return Slot(
        st.one_of(st.lists(item.valid, max_size=3), st.lists(item.valid, max_size=3).map(tuple)),
        st.one_of(
            st.sampled_from(["ab", "run-1", b"ab"]),
            st.dictionaries(st.text(max_size=3), item.valid, max_size=2),
            st.lists(item.hostile, min_size=1, max_size=2),
            hostile_scalars,
        ),
    )


def mappings(value: Slot) -> Slot:
    """A mapping slot: string-keyed dicts of ``value``; hostile: dicts with hostile values,
    non-string keys, or anything that is not a mapping."""
    return Slot(
        st.dictionaries(st.text(max_size=6), value.valid, max_size=3),
        st.one_of(
            st.dictionaries(st.text(max_size=6), value.hostile, min_size=1, max_size=2),
            anything,
        ),
    )


def _write_tally() -> None:
    path = os.environ.get("SOORMA_HOSTILE_TALLY")
    if path and PROBES:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"probes": PROBES, "refused": REFUSED}) + "\n")


atexit.register(_write_tally)
