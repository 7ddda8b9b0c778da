"""LangGraph ``BaseStore`` for soorma-lc: items in Redis, vectors in Chroma (see ``store``).

``SoormaStore`` loads on first access, so the store's errors (``errors``) import without
Redis or Chroma.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from soorma_lc._lazy import lazy_getattr

if TYPE_CHECKING:
    from soorma_lc.memory.store.store import SoormaStore

__getattr__ = lazy_getattr(__name__, {"SoormaStore": "soorma_lc.memory.store.store"})

__all__ = ["SoormaStore"]
