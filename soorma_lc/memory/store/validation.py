"""Checks that turn every unusable store input into a typed error before any I/O happens."""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from langgraph.store.base import (
    GetOp,
    InvalidNamespaceError,
    ListNamespacesOp,
    Op,
    PutOp,
    SearchOp,
    TTLConfig,
    validate_op_namespace,
)

from soorma_lc.errors import InvalidStoreItemError, InvalidStoreNamespaceError
from soorma_lc.memory.store.filters import validate_filter


def typed_namespace_errors(method: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a ``BaseStore`` method so LangGraph's namespace checks raise our typed error."""

    def convert(exc: InvalidNamespaceError) -> InvalidStoreNamespaceError:
        return InvalidStoreNamespaceError(str(exc))

    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return await method(*args, **kwargs)
            except InvalidNamespaceError as exc:
                raise convert(exc) from exc

        return async_wrapper

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except InvalidNamespaceError as exc:
            raise convert(exc) from exc

    return wrapper


def checked_ttl_config(ttl: TTLConfig | None) -> TTLConfig | None:
    if ttl is None:
        return None
    config = TTLConfig(**ttl)
    for name in ("default_ttl", "sweep_interval_minutes"):
        value = config.get(name)
        if value is not None and not _positive(value):
            raise InvalidStoreItemError(f"TTLConfig {name} must be a positive number of minutes")
    return config


def _positive(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def _check_page(op: SearchOp | ListNamespacesOp) -> None:
    for name, value in (("limit", op.limit), ("offset", op.offset)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidStoreItemError(f"{name} must be a non-negative integer, got {value!r}")


def _check_labels(labels: Iterable[Any]) -> None:
    for label in labels:
        _check_text("namespace label", label)


def _check_text(what: str, text: Any) -> None:
    if not isinstance(text, str):
        raise InvalidStoreItemError(f"{what} must be a string, got {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidStoreItemError(f"{what} {text!r} is not valid Unicode text") from exc


def check_op(op: Op) -> None:
    """Raise a typed error for anything in ``op`` the store cannot run (before any I/O)."""
    try:
        validate_op_namespace(op)
    except InvalidNamespaceError as exc:
        raise InvalidStoreNamespaceError(str(exc)) from exc
    if isinstance(op, GetOp | PutOp):
        _check_labels(op.namespace)
        _check_text("key", op.key)
    if isinstance(op, GetOp):
        return
    if isinstance(op, PutOp):
        _check_put(op)
    elif isinstance(op, SearchOp):
        _check_labels(op.namespace_prefix)
        _check_page(op)
        validate_filter(op.filter)
        if op.query is not None:
            _check_text("query", op.query)
    elif isinstance(op, ListNamespacesOp):
        _check_page(op)
        if op.max_depth is not None and (not isinstance(op.max_depth, int) or op.max_depth < 1):
            raise InvalidStoreItemError("max_depth must be a positive integer or None")
        for condition in op.match_conditions or ():
            if condition.match_type not in ("prefix", "suffix"):
                raise InvalidStoreItemError(f"unknown match type {condition.match_type!r}")
            _check_labels(condition.path)
    else:
        raise InvalidStoreItemError(f"unknown store operation {type(op).__name__}")


def _check_put(op: PutOp) -> None:
    if not op.namespace:
        raise InvalidStoreNamespaceError("a put needs a non-empty namespace")
    if op.namespace[0] == "langgraph":
        raise InvalidStoreNamespaceError('the root namespace label "langgraph" is reserved')
    if op.value is not None:
        if not isinstance(op.value, Mapping):
            raise InvalidStoreItemError(
                f"store values must be mappings (or None to delete), got {type(op.value).__name__}"
            )
        if not all(isinstance(k, str) for k in op.value):
            raise InvalidStoreItemError("store value keys must be strings")
    if op.ttl is not None and not _positive(op.ttl):
        raise InvalidStoreItemError(f"ttl must be a positive number of minutes, got {op.ttl!r}")
    if op.index not in (None, False) and (
        not isinstance(op.index, list | tuple) or not all(isinstance(p, str) for p in op.index)
    ):
        raise InvalidStoreItemError("index must be False, None or a list of field paths")
