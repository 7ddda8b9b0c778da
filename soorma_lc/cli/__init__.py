"""The ``soorma-lc`` command.

Each verb is one small function taking the parsed arguments and returning an exit code. Verbs
live in modules of this package, one concern each; a module's ``register(verbs)`` adds its verbs
with :func:`add_verb`, and :data:`VERB_MODULES` lists the modules.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence

from soorma_lc.errors import SoormaError

Verb = Callable[[argparse.Namespace], int]
Verbs = argparse._SubParsersAction  # the object ``register`` functions add their verbs to

VERB_MODULES: tuple[str, ...] = ("soorma_lc.cli.runtime", "soorma_lc.cli.evals")
"""Modules whose ``register(verbs)`` adds verbs, in the order ``--help`` lists them."""


def out(text: str = "") -> None:
    """One line on standard output (what a verb shows the user)."""
    sys.stdout.write(text + "\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every verb."""
    parser = argparse.ArgumentParser(prog="soorma-lc", description=__doc__.splitlines()[0])
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for module in VERB_MODULES:
        importlib.import_module(module).register(verbs)
    return parser


def add_verb(verbs: Verbs, name: str, func: Verb) -> argparse.ArgumentParser:
    """Add a verb whose help is ``func``'s docstring."""
    doc = (func.__doc__ or "").strip()
    sub = verbs.add_parser(name, help=doc, description=doc)
    sub.set_defaults(func=func)
    return sub


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``soorma-lc`` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return args.func(args)
    except SoormaError as exc:
        sys.stderr.write(f"soorma-lc {args.verb}: {exc}\n")
        return 1
