"""LangGraph ``BaseStore`` for soorma-lc: items in Redis, vectors in Chroma (see ``store``)."""

from soorma_lc.memory.store.store import SoormaStore

__all__ = ["SoormaStore"]
