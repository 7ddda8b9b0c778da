"""Chroma clients: a Chroma server when ``chroma_url`` is set, else embedded under data_dir."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar
from urllib.parse import urlparse

import chromadb
import httpx
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError

from soorma_lc.checks import shown
from soorma_lc.config import Settings, resolve_settings
from soorma_lc.errors import (
    BackendResponseError,
    BackendUnavailableError,
    ConfigurationError,
)

P = ParamSpec("P")
R = TypeVar("R")

# What a Chroma server that is down or unreachable raises from the HTTP client.
_UNREACHABLE = (httpx.TransportError, ConnectionError, TimeoutError)


def chroma_call(method: Callable[P, R]) -> Callable[P, R]:
    """Report a blocking Chroma operation's failures as backend errors: connection failures as
    :class:`BackendUnavailableError`, Chroma's own errors (a refused argument, an internal
    error) as :class:`BackendResponseError`, never as chromadb's exceptions."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except _UNREACHABLE as exc:
            raise BackendUnavailableError(f"Chroma is unreachable: {exc}") from exc
        except ChromaError as exc:
            raise BackendResponseError(f"Chroma refused the operation: {exc}") from exc

    return wrapper


_persistent: dict[Path, ClientAPI] = {}
_lock = threading.Lock()


def _chroma_settings() -> ChromaSettings:
    """Fresh settings per client: chromadb writes the path or host into the object it is given,
    so one shared object would turn a later PersistentClient into an HTTP client."""
    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def chroma_client(settings: Settings | None = None) -> ClientAPI:
    """The Chroma client for ``settings``: HTTP client or a process-wide persistent client."""
    settings = resolve_settings(settings)
    if settings.chroma_url:
        return http_chroma_client(settings.chroma_url)
    path = (settings.data_dir / "chroma").resolve()
    with _lock:
        client = _persistent.get(path)
        if client is None:
            path.mkdir(parents=True, exist_ok=True)
            client = _persistent[path] = chromadb.PersistentClient(
                path=str(path), settings=_chroma_settings()
            )
        return client


def http_chroma_client(url: str) -> ClientAPI:
    """A client for the Chroma server at ``url`` (http:// or https://)."""
    try:
        parsed = urlparse(url) if isinstance(url, str) else None
        port = parsed.port if parsed is not None else None  # out of range: ValueError
    except ValueError:
        parsed, port = None, None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigurationError(f"unsupported Chroma URL {shown(url)}: use http(s)://host:port")
    try:
        return chromadb.HttpClient(
            host=parsed.hostname,
            port=port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
            settings=_chroma_settings(),
        )
    except ValueError as exc:  # chromadb's "Could not connect", raised from the httpx error
        if isinstance(exc.__context__, httpx.TransportError):
            raise BackendUnavailableError(
                f"cannot reach the Chroma server at {url}: {exc}"
            ) from exc
        raise ConfigurationError(f"unusable Chroma URL {url!r}: {exc}") from exc
