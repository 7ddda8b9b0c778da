"""Checks that turn every unusable store input into a typed error before any I/O happens.

Where LangGraph checks, the store checks the same thing in the same place and raises an error
of LangGraph's type: ``BaseStore.put``/``aput`` refuse an empty namespace and the reserved root
label "langgraph"; every entry point refuses labels that are empty, not strings, or hold '.' or
NUL (``batch`` too, as ``validate_op_namespace`` asks of persistent stores). ``batch`` and
``abatch`` accept the empty namespace and the "langgraph" root, as LangGraph's own stores do.

Beyond that the store is stricter than ``InMemoryStore`` where a loose input would be stored
wrongly or fail later (see examples/store/README.md): wrong types raise errors that are both
``TypeError`` and ``ValueError`` (``StoreArgumentTypeError``, ``StoreNamespaceTypeError``,
``StoreFilterTypeError``), out-of-range values raise ``ValueError``s.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from langchain_core.embeddings import Embeddings
from langgraph.store.base import (
    GetOp,
    IndexConfig,
    InvalidNamespaceError,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    SearchOp,
    TTLConfig,
    validate_op_namespace,
)
from langgraph.store.base.embed import get_text_at_path

from soorma_lc.checks import shown
from soorma_lc.errors import InvalidStoreItemError, SoormaError, StoreArgumentTypeError
from soorma_lc.memory._values import MAX_TTL_MINUTES, is_ttl_minutes
from soorma_lc.memory.chroma_memory import MAX_CONTENT_BYTES
from soorma_lc.memory.store.errors import InvalidStoreNamespaceError, StoreNamespaceTypeError
from soorma_lc.memory.store.filters import validate_filter

MAX_NAMESPACE_DEPTH = 32
"""Most labels in a namespace (each one is a metadata key of the item's vectors in Chroma,
where thousands of keys on one record break the collection)."""
MAX_LABEL_LENGTH = 512
"""Longest namespace label, in characters."""
MAX_KEY_LENGTH = 1024
"""Longest item key, in characters."""
MAX_FILTER_DEPTH = 32
"""Deepest nesting of mappings and lists in a search filter."""
MAX_INDEXED_TEXTS = 1000
"""Most texts one item's index paths may select (one vector each)."""

_NAMESPACE_ARGUMENTS = ("namespace", "namespace_prefix")
_PATH_ARGUMENTS = ("prefix", "suffix")


def checked_entry_point(method: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a ``BaseStore`` method so that its namespace errors are typed store errors.

    A namespace that is not a tuple (or a ``list_namespaces`` prefix/suffix that is not a
    tuple or list) raises :class:`StoreNamespaceTypeError` before LangGraph iterates it, and
    LangGraph's own ``InvalidNamespaceError`` becomes :class:`InvalidStoreNamespaceError`.
    """
    signature = inspect.signature(method)

    def check_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        arguments = signature.bind(*args, **kwargs).arguments
        for name in _NAMESPACE_ARGUMENTS:
            if name in arguments:
                _check_namespace_type(arguments[name], name)
        for name in _PATH_ARGUMENTS:
            if arguments.get(name) is not None:
                _check_path_type(arguments[name], name)
        if "key" in arguments:
            _check_key_text(arguments["key"])

    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            check_arguments(args, kwargs)
            try:
                return await method(*args, **kwargs)
            except InvalidNamespaceError as exc:
                raise _typed(exc) from exc

        return async_wrapper

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        check_arguments(args, kwargs)
        try:
            return method(*args, **kwargs)
        except InvalidNamespaceError as exc:
            raise _typed(exc) from exc

    return wrapper


def _typed(exc: InvalidNamespaceError) -> InvalidNamespaceError:
    return exc if isinstance(exc, SoormaError) else InvalidStoreNamespaceError(str(exc))


def checked_ops(ops: Iterable[Op]) -> list[Op]:
    """``ops`` as a list, each checked by :func:`check_op`."""
    if not isinstance(ops, Iterable):
        raise StoreArgumentTypeError(
            f"batch takes an iterable of store operations, got {type(ops).__name__}"
        )
    checked = list(ops)
    for op in checked:
        check_op(op)
    return checked


def check_op(op: Op) -> None:
    """Raise a typed error for anything in ``op`` the store cannot run (before any I/O)."""
    if isinstance(op, GetOp | PutOp):
        _check_namespace_type(op.namespace, "namespace")
    elif isinstance(op, SearchOp):
        _check_namespace_type(op.namespace_prefix, "namespace_prefix")
    elif isinstance(op, ListNamespacesOp):
        _check_match_conditions(op.match_conditions)
    else:
        raise InvalidStoreItemError(f"unknown store operation {type(op).__name__}")
    try:
        validate_op_namespace(op)
    except InvalidNamespaceError as exc:
        raise InvalidStoreNamespaceError(str(exc)) from exc
    _check_labels(op)
    if isinstance(op, GetOp | PutOp):
        _check_string("key", op.key, MAX_KEY_LENGTH)
    if isinstance(op, PutOp):
        _check_put(op)
    elif isinstance(op, SearchOp):
        _check_page(op)
        validate_filter(op.filter, max_depth=MAX_FILTER_DEPTH)
        if op.query is not None:
            _check_string("query", op.query)
            if len(op.query.encode("utf-8")) > MAX_CONTENT_BYTES:
                raise InvalidStoreItemError(
                    f"query is over the {MAX_CONTENT_BYTES}-byte limit of UTF-8"
                )
    elif isinstance(op, ListNamespacesOp):
        _check_page(op)
        if op.max_depth is not None:
            _check_int("max_depth", op.max_depth, minimum=1)


def _check_namespace_type(namespace: Any, name: str) -> None:
    if not isinstance(namespace, tuple):
        raise StoreNamespaceTypeError(
            f"{name} must be a tuple of strings, got {type(namespace).__name__}"
            + _comma_hint(namespace)
        )
    _check_label_types(namespace, name)


def _check_path_type(path: Any, name: str) -> None:
    if isinstance(path, str) or not isinstance(path, tuple | list):
        raise StoreNamespaceTypeError(
            f"{name} must be a tuple (or list) of strings, got {type(path).__name__}"
            + _comma_hint(path)
        )
    _check_label_types(path, name)


def _check_label_types(labels: Iterable[Any], name: str) -> None:
    """Refuse labels that are not strings before LangGraph does: its message embeds the
    label's repr, which fails on a deeply nested one (RecursionError)."""
    for label in labels:
        if not isinstance(label, str):
            raise InvalidStoreNamespaceError(f"{name} labels must be strings, got {shown(label)}")


def _check_key_text(key: Any) -> None:
    """LangGraph's public methods take ``str(key)``; refuse a key whose text cannot be made
    (a deeply nested structure raises RecursionError there)."""
    if not isinstance(key, str):
        try:
            str(key)
        except Exception:  # RecursionError, an int too long for text, a failing __str__
            raise StoreArgumentTypeError(f"key must be a string, got {shown(key)}") from None


def _comma_hint(value: Any) -> str:
    return f' (did you mean ("{value[:40]}",)?)' if isinstance(value, str) else ""


def _check_match_conditions(conditions: Any) -> None:
    if conditions is None:
        return
    if not isinstance(conditions, tuple | list):
        raise StoreArgumentTypeError(
            f"match_conditions must be a tuple of MatchCondition, got {type(conditions).__name__}"
        )
    for condition in conditions:
        if not isinstance(condition, MatchCondition):
            raise StoreArgumentTypeError(
                f"match conditions must be MatchCondition, got {type(condition).__name__}"
            )
        if condition.match_type not in ("prefix", "suffix"):
            raise InvalidStoreItemError(f"unknown match type {shown(condition.match_type)}")
        _check_path_type(condition.path, f"a {condition.match_type} path")


def _labels(op: Op) -> Iterable[str]:
    if isinstance(op, GetOp | PutOp):
        return op.namespace
    if isinstance(op, SearchOp):
        return op.namespace_prefix
    if isinstance(op, ListNamespacesOp):
        return [label for condition in op.match_conditions or () for label in condition.path]
    return ()


def _check_labels(op: Op) -> None:
    """Labels UTF-8 can encode, at most :data:`MAX_LABEL_LENGTH` characters, in namespaces
    (and match paths) at most :data:`MAX_NAMESPACE_DEPTH` deep."""
    paths = (
        [condition.path for condition in op.match_conditions or ()]
        if isinstance(op, ListNamespacesOp)
        else [op.namespace if isinstance(op, GetOp | PutOp) else op.namespace_prefix]
    )
    for path in paths:
        if len(path) > MAX_NAMESPACE_DEPTH:
            raise InvalidStoreNamespaceError(
                f"a namespace has {len(path)} labels, over the {MAX_NAMESPACE_DEPTH}-label limit"
            )
    for label in _labels(op):
        _check_unicode(f"namespace label {label[:40]!r}", label, InvalidStoreNamespaceError)
        if len(label) > MAX_LABEL_LENGTH:
            raise InvalidStoreNamespaceError(
                f"a namespace label is {len(label)} characters long, over the "
                f"{MAX_LABEL_LENGTH}-character limit"
            )


def _check_string(what: str, text: Any, max_length: int | None = None) -> None:
    if not isinstance(text, str):
        raise StoreArgumentTypeError(f"{what} must be a string, got {type(text).__name__}")
    if max_length is not None and len(text) > max_length:
        raise InvalidStoreItemError(
            f"{what} is {len(text)} characters long, over the {max_length}-character limit"
        )
    _check_unicode(f"{what} {text[:40]!r}", text, InvalidStoreItemError)


def _check_unicode(what: str, text: str, error: type[SoormaError]) -> None:
    """Refuse text with lone surrogates: Redis stores UTF-8, which cannot encode them."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise error(f"{what} is not valid Unicode text") from exc


def _check_int(name: str, value: Any, *, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise StoreArgumentTypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise InvalidStoreItemError(f"{name} must be at least {minimum}, got {shown(value)}")


def _check_page(op: SearchOp | ListNamespacesOp) -> None:
    _check_int("limit", op.limit, minimum=0)
    _check_int("offset", op.offset, minimum=0)


def _check_minutes(name: str, value: Any) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise StoreArgumentTypeError(
            f"{name} must be a number of minutes, got {type(value).__name__}"
        )
    if not is_ttl_minutes(value):
        raise InvalidStoreItemError(
            f"{name} must be a positive number of minutes up to {MAX_TTL_MINUTES}, "
            f"got {shown(value)}"
        )


def _check_put(op: PutOp) -> None:
    if op.value is not None:
        if not isinstance(op.value, Mapping):
            raise StoreArgumentTypeError(
                f"store values must be mappings (or None to delete), got {type(op.value).__name__}"
            )
        if not all(isinstance(k, str) for k in op.value):
            raise StoreArgumentTypeError("store value keys must be strings")
    if op.ttl is not None:
        _check_minutes("ttl", op.ttl)
    if op.index is not None and op.index is not False:  # 0 == False, but is no flag
        _check_paths("index", op.index)


def _check_paths(name: str, paths: Any) -> None:
    if not isinstance(paths, list | tuple) or not all(isinstance(p, str) for p in paths):
        raise StoreArgumentTypeError(f"{name} must be a list of field paths, got {shown(paths)}")


def indexed_texts(value: Mapping[str, Any], paths: Iterable[str]) -> list[str]:
    """The texts ``paths`` select in ``value`` (LangGraph's ``get_text_at_path``), at most
    :data:`MAX_INDEXED_TEXTS` of them; :class:`InvalidStoreItemError` otherwise."""
    try:
        texts = [text for path in paths for text in get_text_at_path(value, path)]
    except RecursionError:
        raise InvalidStoreItemError("an index path reaches too deep into the value") from None
    if len(texts) > MAX_INDEXED_TEXTS:
        raise InvalidStoreItemError(
            f"the index paths select {len(texts)} texts in one item, over the "
            f"{MAX_INDEXED_TEXTS}-text limit"
        )
    return texts


def checked_ttl_config(ttl: Any) -> TTLConfig | None:
    """A copy of a ``TTLConfig`` whose times are positive minutes and whose flags are bools."""
    if ttl is None:
        return None
    if not isinstance(ttl, Mapping):
        raise StoreArgumentTypeError(f"ttl must be a TTLConfig mapping, got {type(ttl).__name__}")
    for name in ("default_ttl", "sweep_interval_minutes"):
        if ttl.get(name) is not None:
            _check_minutes(f"TTLConfig {name}", ttl[name])
    for name in ("refresh_on_read", "omit_expired"):
        if name in ttl and not isinstance(ttl[name], bool):
            raise StoreArgumentTypeError(f"TTLConfig {name} must be a bool, got {shown(ttl[name])}")
    return cast(TTLConfig, dict(ttl))


def checked_index_config(index: Any) -> IndexConfig | None:
    """A copy of an ``IndexConfig`` (None when empty) whose entries have usable types."""
    if index is None or index is False or (isinstance(index, Mapping) and not index):
        return None  # no truthiness test on anything else: a hostile object may refuse it
    if not isinstance(index, Mapping):
        raise StoreArgumentTypeError(
            f"index must be an IndexConfig mapping, got {type(index).__name__}"
        )
    if index.get("fields") is not None:
        _check_paths("IndexConfig fields", index["fields"])
    if index.get("dims") is not None:
        _check_int("IndexConfig dims", index["dims"], minimum=1)
    embed = index.get("embed")
    if embed is not None and not (isinstance(embed, Embeddings | str) or callable(embed)):
        raise StoreArgumentTypeError(
            "IndexConfig embed must be Embeddings, a function or a model string, got "
            + shown(embed)
        )
    return cast(IndexConfig, dict(index))
