"""RegistryHttp: the HTTP transport of the Soorma Registry client.

One ``httpx.AsyncClient`` with the bearer token and extra headers; every call bounded by
``timeout`` (retries and backoff included); 5xx answers and connection errors retried with
exponential backoff; every failure a typed error carrying the status and body.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import SecretStr

from soorma_lc.checks import check_int, check_seconds, header_problem, shown
from soorma_lc.errors import ConfigurationError, RegistryResponseError, RegistryUnavailableError
from soorma_lc.jsonvalues import parse_json
from soorma_lc.registry.common import ModelT, decode

logger = logging.getLogger(__name__)

MAX_RETRIES = 10
_MAX_SHOWN_BODY = 10_000


def body_of(response: httpx.Response) -> Any:
    """The decoded JSON body, or the raw text when it is not strict JSON (NaN, too deep)."""
    try:
        return parse_json(response.content, "body", RegistryResponseError)
    except RegistryResponseError:
        return response.text[:_MAX_SHOWN_BODY]


def failure(
    method: str, path: str, response: httpx.Response, problem: str = "failed"
) -> RegistryResponseError:
    """The typed error for an answer the caller cannot use (a 401 says what to fix)."""
    if response.status_code == 401:
        problem += (
            ": the service refused the credentials; it requires a bearer JWT it accepts on "
            "every route (SOORMA_REGISTRY_TOKEN)"
        )
    return RegistryResponseError(
        f"Soorma Registry {method} {path} {problem}",
        status_code=response.status_code,
        body=body_of(response),
    )


def _headers(token: str | SecretStr | None, extra: Mapping[str, str] | None) -> dict[str, str]:
    """The headers of every request: JSON, the bearer token, then ``extra``."""
    headers = {"Accept": "application/json"}
    if isinstance(token, SecretStr):
        token = token.get_secret_value()
    if token:
        problem = header_problem("Authorization", token)
        if problem is not None:
            raise ConfigurationError(f"the registry token is unusable: {problem}")
        headers["Authorization"] = f"Bearer {token}"
    if extra is None:
        return headers
    if not isinstance(extra, Mapping):
        raise ConfigurationError(f"headers must be a mapping, got {shown(extra)}")
    for name, value in extra.items():
        problem = header_problem(name, value)
        if problem is not None:
            raise ConfigurationError(f"the registry headers are unusable: {problem}")
        if name.lower() == "authorization" and "Authorization" in headers:
            raise ConfigurationError("give the registry a token or an Authorization header")
        headers[name] = value
    return headers


class RegistryHttp:
    """Requests to one Soorma Registry service (see the module docstring)."""

    def __init__(
        self,
        base_url: str,
        token: str | SecretStr | None,
        *,
        timeout: float,
        retries: int,
        backoff: float,
        headers: Mapping[str, str] | None,
    ) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"Soorma Registry URL must be http(s)://, got {shown(base_url)}"
            )
        self.timeout = check_seconds(timeout, "timeout", positive=True)
        self.retries = check_int(retries, "retries", minimum=0, maximum=MAX_RETRIES)
        self.backoff = check_seconds(backoff, "backoff")
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=_headers(token, headers), timeout=self.timeout
        )

    async def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request, retried on 5xx and transport errors; any other answer is returned.

        The whole call, every attempt and backoff included, ends within ``timeout``.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        last: httpx.Response | httpx.TransportError | None = None
        attempts = 0
        for attempt in range(self.retries + 1):
            if attempt:
                pause = self.backoff * 2 ** (attempt - 1)
                if loop.time() + pause >= deadline:
                    break
                await asyncio.sleep(pause)
            attempts += 1
            try:
                async with asyncio.timeout_at(deadline):
                    response = await self._http.request(method, path, **kwargs)
            except TimeoutError:
                raise RegistryUnavailableError(
                    f"Soorma Registry {method} {path} did not answer within {self.timeout:g} s"
                ) from None
            except httpx.TransportError as exc:
                last = exc
                logger.warning("Soorma Registry %s %s failed: %r", method, path, exc)
                continue
            except httpx.HTTPError as exc:  # e.g. a malformed URL built from our own path
                raise RegistryResponseError(
                    f"Soorma Registry {method} {path} could not be sent: {exc}"
                ) from exc
            if response.status_code < 500:
                return response
            last = response
            logger.warning("Soorma Registry %s %s answered %s", method, path, response.status_code)
        if isinstance(last, httpx.Response):
            raise RegistryUnavailableError(
                f"Soorma Registry {method} {path} answered {last.status_code} "
                f"{attempts} times: {body_of(last)!r}",
                status_code=last.status_code,
                body=body_of(last),
            )
        raise RegistryUnavailableError(
            f"Soorma Registry {method} {path} unreachable after {attempts} attempts: {last!r}"
        )

    async def json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """A request that must answer 200 with a JSON object."""
        response = await self.send(method, path, **kwargs)
        if response.status_code != 200:
            raise failure(method, path, response)
        body = body_of(response)
        if not isinstance(body, dict):
            raise failure(method, path, response, "answered malformed JSON")
        return body

    async def entries(self, key: str, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
        """The ``key`` list of a ``{key: [...], count}`` answer to GET ``path``."""
        body = await self.json("GET", path, params=params)
        entries = body.get(key)
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise RegistryResponseError(
                f"Soorma Registry GET {path} answered without a list of {key!r}",
                status_code=200,
                body=body,
            )
        return entries

    async def items(
        self, model: type[ModelT], key: str, path: str, params: dict[str, str]
    ) -> list[ModelT]:
        """GET a ``{key: [...], count}`` answer and decode its readable entries."""
        decoded = (
            decode(model, {k: v for k, v in entry.items() if v is not None}, f"{key}[{i}]")
            for i, entry in enumerate(await self.entries(key, path, params))
        )
        return [item for item in decoded if item is not None]

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()
