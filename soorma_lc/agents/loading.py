"""Find the agent (a Worker or a ChoreographyPlanner) that ``soorma-lc run module:attr`` names."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from soorma_lc.agents.worker import Worker
from soorma_lc.errors import WorkerLoadError

if TYPE_CHECKING:
    from soorma_lc.planners import ChoreographyPlanner


def _is_agent(value: Any) -> bool:
    from soorma_lc.planners import ChoreographyPlanner

    return isinstance(value, Worker | ChoreographyPlanner)


def load_worker(reference: str) -> Worker | ChoreographyPlanner:
    """The agent at ``module:attribute`` (or ``path/to/file.py:attribute``).

    The attribute may be a Worker or ChoreographyPlanner, or a callable returning one. The
    current directory is importable, as with ``python -m``.
    """
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise WorkerLoadError(f"expected module:attribute, got {reference!r}")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            spec = importlib.util.spec_from_file_location(path.stem, path)
            if spec is None or spec.loader is None or not path.is_file():
                raise WorkerLoadError(f"no Python file at {module_name!r}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except WorkerLoadError:
        raise
    except ImportError as exc:
        raise WorkerLoadError(f"cannot import {module_name!r}: {exc}") from exc
    target = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise WorkerLoadError(f"{module_name!r} has no attribute {attribute!r}")
        target = getattr(target, part)
    if not _is_agent(target) and callable(target):
        try:
            target = target()
        except TypeError as exc:
            raise WorkerLoadError(f"{reference!r} must take no arguments: {exc}") from exc
    if not _is_agent(target):
        raise WorkerLoadError(
            f"{reference!r} is a {type(target).__name__}, not a Worker or ChoreographyPlanner"
        )
    return target
