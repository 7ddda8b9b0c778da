"""Verbs for the runtime: run an agent, and the Redis URL other processes can use."""

from __future__ import annotations

import argparse

from soorma_lc.cli import Verbs, add_verb, err, out
from soorma_lc.cli.settings import verb_settings


def cmd_run(args: argparse.Namespace) -> int:
    """Import a worker or planner and serve it until SIGINT/SIGTERM."""
    from soorma_lc.agents.loading import load_worker
    from soorma_lc.agents.worker import Worker

    agent = load_worker(args.worker)
    worker = agent if isinstance(agent, Worker) else agent.worker
    if args.concurrency is not None:
        worker.concurrency = args.concurrency
    agent.run()
    return 0


def cmd_redis_url(args: argparse.Namespace) -> int:
    """Print the Redis URL in use (an embedded server lives while a process uses it).

    The URL goes to stdout alone; where it comes from goes to stderr. For an embedded server
    that no other process keeps up, stderr says that the socket vanishes when this exits.
    """
    from soorma_lc.backends.embedded_redis import embedded_redis
    from soorma_lc.backends.redis_clients import resolve_redis_url

    settings = verb_settings()
    out(resolve_redis_url(settings))
    if not settings.redis_url and not embedded_redis(settings.data_dir).used_by_other_processes():
        err(
            "warning: no other process uses this embedded redis-server, so it stops when "
            "this command exits and the socket above vanishes with it. Start your agents "
            "(soorma-lc run ...) first and ask again, or run a Redis server and set "
            "SOORMA_REDIS_URL"
        )
    return 0


def register(verbs: Verbs) -> None:
    """Add run and redis-url."""
    run = add_verb(verbs, "run", cmd_run, log_level="INFO")
    run.add_argument("worker", help="module.path:attribute (or file.py:attribute) of a Worker")
    run.add_argument("--concurrency", type=int, help="handlers running at once")

    add_verb(verbs, "redis-url", cmd_redis_url)
