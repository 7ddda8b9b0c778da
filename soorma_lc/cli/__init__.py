"""The ``soorma-lc`` command.

Each verb is one small function taking the parsed arguments and returning an exit code. Verbs
live in modules of this package, one concern each; a module's ``register(verbs)`` adds its verbs
with :func:`add_verb` (a group of verbs, such as ``plan list``, with :func:`add_group`), and
:data:`VERB_MODULES` lists the modules.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import logging
import sys
from collections.abc import Callable, Sequence

from soorma_lc.errors import SoormaError

Verb = Callable[[argparse.Namespace], int]
Verbs = argparse._SubParsersAction  # the object ``register`` functions add their verbs to

VERB_MODULES: tuple[str, ...] = (
    "soorma_lc.cli.demo",
    "soorma_lc.cli.runtime",
    "soorma_lc.cli.plans",
    "soorma_lc.cli.registry",
    "soorma_lc.cli.bus",
    "soorma_lc.cli.memory",
    "soorma_lc.cli.reset",
    "soorma_lc.cli.evals",
)
"""Modules whose ``register(verbs)`` adds verbs, in the order ``--help`` lists them."""

DESCRIPTION = "soorma-lc: run agents, watch plans, and look into the bus, the registry and memory."

DEFAULT_LOG_LEVEL = "WARNING"
"""Log level of verbs that report through their own output (``run`` logs at INFO)."""


def out(text: str = "") -> None:
    """One line on standard output (what a verb shows the user)."""
    sys.stdout.write(text + "\n")


def err(text: str) -> None:
    """One line on standard error (where things come from, warnings): stdout stays clean."""
    sys.stderr.write(text + "\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every verb."""
    parser = argparse.ArgumentParser(prog="soorma-lc", description=DESCRIPTION)
    parser.add_argument(
        "--log-level",
        help=f"logging level (default {DEFAULT_LOG_LEVEL}; INFO for run)",
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for module in VERB_MODULES:
        importlib.import_module(module).register(verbs)
    return parser


def add_verb(
    verbs: Verbs, name: str, func: Verb, *, log_level: str = DEFAULT_LOG_LEVEL
) -> argparse.ArgumentParser:
    """Add a verb: its one-line help is the first paragraph of ``func``'s docstring, its
    ``--help`` shows the whole docstring."""
    doc = inspect.cleandoc(func.__doc__ or "")
    sub = verbs.add_parser(
        name,
        help=" ".join(doc.split("\n\n")[0].split()),
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub.set_defaults(func=func, default_log_level=log_level)
    return sub


def add_group(verbs: Verbs, name: str, doc: str) -> Verbs:
    """Add a verb made of sub-verbs (``soorma-lc plan list``); returns where they go."""
    group = verbs.add_parser(name, help=doc, description=doc)
    return group.add_subparsers(dest=f"{name}_verb", required=True, metavar="VERB")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``soorma-lc`` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=(args.log_level or args.default_log_level).upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    verb = " ".join(v for v in (args.verb, getattr(args, f"{args.verb}_verb", None)) if v)
    try:
        return args.func(args)
    except SoormaError as exc:
        err(f"soorma-lc {verb}: {exc}")
        return 1
    except KeyboardInterrupt:
        err(f"soorma-lc {verb}: interrupted")
        return 130
