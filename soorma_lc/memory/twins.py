"""Sync/async twins of the Chroma-backed memories, generated from one blocking method.

The convention of the memory layer: a Soorma-vocabulary method ``x`` is async, and its blocking
twin is ``x_sync``. Chroma's client blocks, so each operation is written once, as the blocking
``x_sync`` (the code and the docstring), and the class body derives the async method from it::

    def search_knowledge_sync(self, query: str, *, tenant_id: str, user_id: str) -> list[...]:
        \"\"\"The docs, once.\"\"\"
        ...

    search_knowledge = async_twin(search_knowledge_sync)

The async twin runs the blocking method in a worker thread (``asyncio.to_thread``, which also
carries the caller's context variables), so nothing blocks the event loop, and it keeps the
signature and the docstring: type checkers, ``help()`` and ``inspect.signature`` see the same
parameters on both. Redis-backed memory is async only (redis.asyncio); LangChain retrievers
keep LangChain's own ``_get_relevant_documents``/``_aget_relevant_documents`` pair.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

SYNC_SUFFIX = "_sync"


def async_twin(blocking: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """The async method ``x`` of the blocking method ``x_sync``: same parameters and docs,
    run in a worker thread."""
    name = blocking.__name__
    if not name.endswith(SYNC_SUFFIX):
        raise TypeError(f"async_twin needs a blocking method named *{SYNC_SUFFIX}, got {name!r}")

    @functools.wraps(blocking)
    async def twin(*args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(blocking, *args, **kwargs)

    twin.__name__ = name.removesuffix(SYNC_SUFFIX)
    twin.__qualname__ = blocking.__qualname__.removesuffix(SYNC_SUFFIX)
    docs = inspect.cleandoc(blocking.__doc__ or "")
    twin.__doc__ = f"{docs}\n\nAsync: runs :meth:`{name}` in a worker thread.".lstrip()
    return twin
