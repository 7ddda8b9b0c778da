"""What the verbs run against: the settings, the data dir they use, and the tenant and user
whose plans and memories they show."""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from soorma_lc.cli import err
from soorma_lc.config import Settings
from soorma_lc.errors import DataDirNotFoundError


def verb_settings(
    backends: Iterable[str] = ("redis",), *, create: bool = False, announce: bool = True
) -> Settings:
    """The settings from the environment; says on stderr (unless not ``announce``) which data
    dir the embedded ``backends`` ("redis", "chroma") use. Unless ``create``, a data dir that
    does not exist raises :class:`DataDirNotFoundError` instead of being created by an
    embedded server."""
    settings = Settings()
    embedded = [name for name in backends if not getattr(settings, f"{name}_url")]
    if embedded:
        data_dir = settings.data_dir.resolve()
        if not create and not data_dir.is_dir():
            raise DataDirNotFoundError(data_dir)
        names = " and ".join({"redis": "Redis", "chroma": "Chroma"}[name] for name in embedded)
        if announce:
            err(f"data dir: {data_dir} (embedded {names})")
    return settings


def add_scope(parser: argparse.ArgumentParser) -> None:
    """``--tenant`` and ``--user`` (defaults: SOORMA_TENANT_ID, SOORMA_USER_ID)."""
    parser.add_argument("--tenant", help="tenant id (default: SOORMA_TENANT_ID)")
    parser.add_argument("--user", help="user id (default: SOORMA_USER_ID)")


def scope(args: argparse.Namespace, settings: Settings) -> dict[str, str]:
    """``tenant_id`` and ``user_id`` from the options, else from the settings."""
    return {
        "tenant_id": args.tenant or settings.tenant_id,
        "user_id": args.user or settings.user_id,
    }


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a number above 0 (seconds)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value
