"""The reset verb: delete the embedded data dir (Redis and Chroma data) after a confirmation."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from soorma_lc.cli import Verbs, add_verb, err, out
from soorma_lc.config import Settings
from soorma_lc.errors import ConfigurationError

_KNOWN_ENTRIES = ("redis.db", "redis.lock", "chroma")
"""Entries that mark a directory as a soorma-lc data dir (reset deletes nothing else)."""


def _confirmed(data_dir: Path) -> bool:
    if not sys.stdin.isatty():
        err("soorma-lc reset: not a terminal, so no confirmation can be asked: add --yes")
        return False
    answer = input(f"Delete {data_dir} (plans, events, registry, memories)? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def _stop_embedded_redis(data_dir: Path) -> None:
    """Stop this data dir's embedded server, refusing while other processes use it."""
    from soorma_lc.backends.embedded_redis import embedded_redis, shutdown_embedded_redis

    if not (data_dir / "redis.db").exists():
        return
    if embedded_redis(data_dir).used_by_other_processes():
        raise ConfigurationError(
            f"processes still use the embedded Redis of {data_dir}: stop your agents first"
        )
    shutdown_embedded_redis(data_dir, force=True)


def cmd_reset(args: argparse.Namespace) -> int:
    """Delete the embedded data dir (SOORMA_DATA_DIR, default ./.soorma): every plan, event,
    registration and memory kept there. Asks first, unless --yes.

    A Redis or Chroma server named by SOORMA_REDIS_URL / SOORMA_CHROMA_URL is not touched.
    """
    data_dir = Settings().data_dir.resolve()
    if not data_dir.exists():
        out(f"nothing to reset: no data dir at {data_dir}")
        return 0
    if not data_dir.is_dir() or not any((data_dir / name).exists() for name in _KNOWN_ENTRIES):
        raise ConfigurationError(
            f"{data_dir} does not look like a soorma-lc data dir (none of "
            f"{', '.join(_KNOWN_ENTRIES)} in it); not deleting it"
        )
    if not args.yes and not _confirmed(data_dir):
        out("nothing deleted")
        return 1
    _stop_embedded_redis(data_dir)
    shutil.rmtree(data_dir)
    out(f"deleted {data_dir}")
    return 0


def register(verbs: Verbs) -> None:
    """Add reset."""
    reset = add_verb(verbs, "reset", cmd_reset)
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")
