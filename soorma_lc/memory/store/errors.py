"""Store errors that are also LangGraph's own exception types.

They derive from ``langgraph.store.base.InvalidNamespaceError``, so code written against
LangGraph's documented ``BaseStore`` errors catches them, and from
:class:`~soorma_lc.errors.SoormaError`, so ``except SoormaError`` does too. They are
importable from ``soorma_lc.errors`` (loaded on first use there: LangGraph is heavy).
"""

from __future__ import annotations

from langgraph.store.base import InvalidNamespaceError

from soorma_lc.errors import InvalidMemoryInputError


class InvalidStoreNamespaceError(InvalidMemoryInputError, InvalidNamespaceError):
    """A namespace LangGraph refuses (empty or rooted at "langgraph" in ``put``; a label that
    is empty, not a string, or has '.' or NUL), or a label Redis cannot hold (not Unicode)."""


class StoreNamespaceTypeError(InvalidStoreNamespaceError, TypeError):
    """A namespace is not a tuple (a list, a bare string such as ``("docs")``, None), or a
    ``list_namespaces`` prefix/suffix is not a tuple or list."""
