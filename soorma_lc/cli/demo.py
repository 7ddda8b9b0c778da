"""The demo verb: the research-advisor choreography with a live timeline (see
examples/research_advisor/README.md). It runs the example's code from the source checkout."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
from pathlib import Path
from types import ModuleType

import soorma_lc
from soorma_lc.cli import Verbs, add_verb
from soorma_lc.cli.settings import positive_float, verb_settings
from soorma_lc.errors import ConfigurationError

EXAMPLE_DIR = Path(soorma_lc.__file__).resolve().parents[1] / "examples" / "research_advisor"


def load_demo(example_dir: Path = EXAMPLE_DIR) -> ModuleType:
    """The example's ``demo.py`` as a module."""
    script = example_dir / "demo.py"
    if not script.is_file():
        raise ConfigurationError(
            f"the demo's code is not at {script}: it ships with the source checkout "
            "(git clone, then pip install -e . and soorma-lc demo in the checkout)"
        )
    spec = importlib.util.spec_from_file_location("research_advisor_demo", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the research-advisor choreography (a planner, a researcher, an advisor and a
    validator on the bus) on one goal, with a live timeline; ends by itself.

    With SOORMA_LLM_MODEL or --model every decision is a real LLM call; with neither, the
    offline heuristic planner decides and says so.
    """
    from rich.console import Console

    demo = load_demo()
    chosen = {"topic": args.topic, "audience": args.audience, "timeout": args.timeout}
    snapshot = asyncio.run(
        demo.run_demo(
            Console(),
            settings=verb_settings(("redis", "chroma"), create=True, announce=False),
            model=args.model,
            external_agents=args.external_agents,
            **{name: value for name, value in chosen.items() if value is not None},
        )
    )
    outcome = snapshot.outcome
    return 0 if outcome is not None and outcome.ok else 1


def register(verbs: Verbs) -> None:
    """Add demo."""
    demo = add_verb(verbs, "demo", cmd_demo, log_level="ERROR")
    demo.add_argument("--topic", help="what to research (default: vector search)")
    demo.add_argument(
        "--audience", help="who the briefing is for (default: backend developers; '' for none)"
    )
    demo.add_argument(
        "--model", help="litellm model string for every decision (default: SOORMA_LLM_MODEL)"
    )
    demo.add_argument(
        "--external-agents",
        action="store_true",
        help="start no agents here: use the ones running elsewhere on the same Redis",
    )
    demo.add_argument(
        "--timeout", type=positive_float, help="seconds to wait for the plan (default 300)"
    )
