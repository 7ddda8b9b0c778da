"""Chroma clients: a Chroma server when ``chroma_url`` is set, else embedded under data_dir.

A client of a Chroma server retries every request whose connection could not be opened (the
server restarting, a load balancer switching over) with backoff for up to
``chroma_retry_timeout`` seconds (``SOORMA_CHROMA_RETRY_TIMEOUT``), then raises
:class:`BackendUnavailableError`. Such a request never reached the server, so retrying it is
safe for writes too; a connection lost after the request was sent is not retried (the server
may have applied it). Every request, the client's first ones included, fails with
:class:`BackendUnavailableError` after ``chroma_timeout`` seconds (``SOORMA_CHROMA_TIMEOUT``)
instead of waiting forever for a server that accepts connections but stopped answering
(chromadb's own HTTP session has no timeout). This covers every Chroma call: memories, the
store and the event index.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar
from urllib.parse import urlparse

import chromadb
import httpx
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError

from soorma_lc.backends.retry_window import RetryWindow
from soorma_lc.checks import shown
from soorma_lc.config import Settings, resolve_settings
from soorma_lc.errors import (
    BackendResponseError,
    BackendUnavailableError,
    ConfigurationError,
)

logger = logging.getLogger(__name__)

DEFAULT_RETRY_TIMEOUT = 10.0
DEFAULT_TIMEOUT = 30.0
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
        return http_chroma_client(
            settings.chroma_url,
            retry_timeout=settings.chroma_retry_timeout,
            timeout=settings.chroma_timeout,
        )
    path = (settings.data_dir / "chroma").resolve()
    with _lock:
        client = _persistent.get(path)
        if client is None:
            path.mkdir(parents=True, exist_ok=True)
            client = _persistent[path] = chromadb.PersistentClient(
                path=str(path), settings=_chroma_settings()
            )
        return client


def http_chroma_client(
    url: str, *, retry_timeout: float = DEFAULT_RETRY_TIMEOUT, timeout: float = DEFAULT_TIMEOUT
) -> ClientAPI:
    """A client for the Chroma server at ``url`` (http:// or https://) that retries requests
    it could not send for up to ``retry_timeout`` seconds and gives every request ``timeout``
    seconds (see the module docstring)."""
    try:
        parsed = urlparse(url) if isinstance(url, str) else None
        port = parsed.port if parsed is not None else None  # out of range: ValueError
    except ValueError:
        parsed, port = None, None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigurationError(f"unsupported Chroma URL {shown(url)}: use http(s)://host:port")
    host = parsed.hostname
    port = port or (443 if parsed.scheme == "https" else 8000)
    connecting = _window(retry_timeout)
    while True:
        try:
            # chromadb's constructor sends requests without a timeout: send a bounded one first.
            _heartbeat(f"{parsed.scheme}://{_netloc(host, port)}", timeout)
            client = chromadb.HttpClient(
                host=host,
                port=port,
                ssl=parsed.scheme == "https",
                settings=_chroma_settings(),
            )
            break
        except (ValueError, httpx.TransportError) as exc:
            # chromadb raises ValueError("Could not connect ...") from the httpx error
            cause = exc if isinstance(exc, httpx.TransportError) else exc.__context__
            if not isinstance(cause, httpx.TransportError):
                raise ConfigurationError(f"unusable Chroma URL {url!r}: {exc}") from exc
            delay = _connect_delay(connecting, cause)
            if delay is None:
                raise BackendUnavailableError(
                    f"cannot reach the Chroma server at {url}: {cause!r}"
                ) from exc
            time.sleep(delay)
    _harden_session(client, retry_timeout, timeout)
    return client


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _heartbeat(base_url: str, timeout: float) -> None:
    """One heartbeat request within ``timeout`` seconds; the server's errors are chromadb's
    to report (an incompatible server, a wrong path), only transport failures raise here."""
    with httpx.Client(timeout=timeout) as probe:
        probe.get(f"{base_url}/api/v2/heartbeat")


def _window(timeout: float) -> RetryWindow:
    return RetryWindow(timeout, first=0.1, cap=2.0)


def _connect_delay(window: RetryWindow, exc: BaseException) -> float | None:
    """Seconds before sending again a request that ``exc`` kept from leaving; None: give up."""
    if not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return None
    delay = window.next_delay()
    if delay is not None:
        logger.debug("Chroma server unreachable (%s); retrying in %.2fs", exc, delay)
    return delay


class _RetryingConnects(httpx.BaseTransport):
    """An httpx transport sending a request again while its connection cannot be opened."""

    def __init__(self, inner: httpx.BaseTransport, timeout: float) -> None:
        self._inner = inner
        self._timeout = timeout

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        window = _window(self._timeout)
        while True:
            try:
                return self._inner.handle_request(request)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                delay = _connect_delay(window, exc)
                if delay is None:
                    raise
                time.sleep(delay)

    def close(self) -> None:
        self._inner.close()


def _harden_session(client: ClientAPI, retry_timeout: float, timeout: float) -> None:
    """Give the HTTP session of ``client`` a timeout per request and put
    :class:`_RetryingConnects` under it (chromadb offers no hook for either: its FastAPI client
    keeps an ``httpx.Client`` without timeout as ``_session``)."""
    session = getattr(getattr(client, "_server", None), "_session", None)
    if not isinstance(session, httpx.Client):
        logger.warning("this chromadb version hides its HTTP session: no timeout, no retries")
        return
    session.timeout = httpx.Timeout(timeout)
    session._transport = _RetryingConnects(session._transport, retry_timeout)
