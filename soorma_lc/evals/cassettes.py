"""Cassettes: provider HTTP exchanges recorded in live runs and replayed with the network blocked.

litellm reaches every provider through httpx (with ``DISABLE_AIOHTTP_TRANSPORT=True``, which
:func:`provider_traffic` sets), so the two httpx transports are wrapped while a run records or
replays: a request made inside a trial goes to that trial's :class:`Cassette` (found through a
context variable, so concurrent trials keep their own), which records it (live) or answers it
from the recording (replay). During a replay no request reaches the network: one the cassette
does not hold, or one made outside any trial, fails with :class:`CassetteMissError`, and the
trial fails with it. Requests match on method, URL without its query, and the JSON body with
ids normalised; headers (API keys) and query strings (Gemini's ``key=``) are never stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ValidationError

from soorma_lc.errors import CassetteMissError, ReportError
from soorma_lc.evals.problems import TrialProblems

CASSETTE_VERSION = 1
CASSETTE_SUFFIX = ".cassette.json"
CassetteMode = Literal["record", "replay"]

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class Interaction(BaseModel):
    """One request and its response."""

    method: str
    url: str
    key: str
    request: Any = None
    status: int
    content_type: str | None = None
    response: str


class CassetteFile(BaseModel):
    cassette_version: Literal[1] = CASSETTE_VERSION
    recorded_at: datetime
    interactions: list[Interaction]


def _normalised(value: Any) -> Any:
    if isinstance(value, str):
        return _UUID.sub("<id>", value)
    if isinstance(value, dict):
        return {k: _normalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalised(v) for v in value]
    return value


def _describe(request: httpx.Request) -> tuple[str, str, Any]:
    """The URL without its query, the request key, and the body as stored."""
    url = str(request.url.copy_with(query=None))
    content = request.content
    try:
        body: Any = _normalised(json.loads(content)) if content else None
        digest = json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeDecodeError):
        body, digest = None, content
    key = f"{request.method} {url} {hashlib.sha256(digest).hexdigest()[:24]}"
    return url, key, body


class Cassette:
    """The provider exchanges of one trial: recorded into, or replayed from, one file."""

    def __init__(
        self, path: Path, mode: CassetteMode, problems: TrialProblems | None = None
    ) -> None:
        self.path = path
        self.mode = mode
        self.problems = problems
        self.interactions: list[Interaction] = []
        self._unplayed: dict[str, deque[Interaction]] = defaultdict(deque)
        self._lock = threading.Lock()
        if mode == "replay" and path.exists():
            for interaction in load_cassette(path).interactions:
                self._unplayed[interaction.key].append(interaction)

    def _replay(self, request: httpx.Request) -> httpx.Response:
        _, key, _ = _describe(request)
        with self._lock:
            queue = self._unplayed.get(key)
            interaction = queue.popleft() if queue else None
        if interaction is None:
            miss = CassetteMissError(str(self.path), key)
            if self.problems is not None:
                self.problems.add(str(miss), fatal=True)
            raise miss
        headers = {"content-type": interaction.content_type} if interaction.content_type else {}
        return httpx.Response(
            interaction.status, headers=headers, text=interaction.response, request=request
        )

    def _recorded(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        url, key, body = _describe(request)
        content_type = response.headers.get("content-type")
        interaction = Interaction(
            method=request.method,
            url=url,
            key=key,
            request=body,
            status=response.status_code,
            content_type=content_type,
            response=response.text,
        )
        with self._lock:
            self.interactions.append(interaction)
        headers = {"content-type": content_type} if content_type else {}
        return httpx.Response(
            response.status_code, headers=headers, content=response.content, request=request
        )

    async def handle_async(
        self, request: httpx.Request, send: Callable[[], Awaitable[httpx.Response]]
    ) -> httpx.Response:
        if self.mode == "replay":
            return self._replay(request)
        response = await send()
        await response.aread()
        return self._recorded(request, response)

    def handle(self, request: httpx.Request, send: Callable[[], httpx.Response]) -> httpx.Response:
        if self.mode == "replay":
            return self._replay(request)
        response = send()
        response.read()
        return self._recorded(request, response)

    def save(self) -> None:
        """Write what was recorded (record mode)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = CassetteFile(recorded_at=datetime.now(UTC), interactions=self.interactions)
        self.path.write_text(document.model_dump_json(indent=1), encoding="utf-8")


def load_cassette(path: Path) -> CassetteFile:
    try:
        return CassetteFile.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError) as exc:
        raise ReportError(f"cassette {path} cannot be read: {exc}") from None


def cassette_path(root: Path, model: str, scenario: str, trial: int) -> Path:
    """Where the cassette of one trial lives: ``<root>/<model>/<scenario>/trial-<n>``."""
    return root / _UNSAFE.sub("_", model) / scenario / f"trial-{trial}{CASSETTE_SUFFIX}"


# -- routing httpx through cassettes -----------------------------------------------------------

_active: ContextVar[Cassette | None] = ContextVar("soorma_eval_cassette", default=None)
_original_async = httpx.AsyncHTTPTransport.handle_async_request
_original_sync = httpx.HTTPTransport.handle_request
_routing_lock = threading.Lock()
_routing: dict[str, int] = {"record": 0, "replay": 0}


def _blocked(request: httpx.Request) -> CassetteMissError:
    return CassetteMissError("(none: the request was made outside any trial)", str(request.url))


async def _routed_async(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
    cassette = _active.get()
    if cassette is not None:
        return await cassette.handle_async(request, lambda: _original_async(self, request))
    if _routing["replay"]:
        raise _blocked(request)
    return await _original_async(self, request)


def _routed_sync(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
    cassette = _active.get()
    if cassette is not None:
        return cassette.handle(request, lambda: _original_sync(self, request))
    if _routing["replay"]:
        raise _blocked(request)
    return _original_sync(self, request)


@contextlib.contextmanager
def provider_traffic(mode: CassetteMode) -> Iterator[None]:
    """Route httpx requests through the active trial's cassette while the block runs."""
    os.environ.setdefault("DISABLE_AIOHTTP_TRANSPORT", "True")
    with _routing_lock:
        _routing[mode] += 1
        httpx.AsyncHTTPTransport.handle_async_request = _routed_async  # type: ignore[method-assign]
        httpx.HTTPTransport.handle_request = _routed_sync  # type: ignore[method-assign]
    try:
        yield
    finally:
        with _routing_lock:
            _routing[mode] -= 1
            if not any(_routing.values()):
                httpx.AsyncHTTPTransport.handle_async_request = _original_async  # type: ignore[method-assign]
                httpx.HTTPTransport.handle_request = _original_sync  # type: ignore[method-assign]


@contextlib.contextmanager
def using(cassette: Cassette | None) -> Iterator[None]:
    """Make ``cassette`` the one requests of this context (and tasks started in it) go to."""
    token = _active.set(cassette)
    try:
        yield
    finally:
        _active.reset(token)
