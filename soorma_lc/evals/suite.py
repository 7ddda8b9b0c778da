"""Finding and loading scenario files: a suite is a folder (or one file) of scenarios.

A scenario file is a ``.yaml``, ``.yml`` or ``.json`` file whose top level carries
``soorma_eval: <version>``; other files (READMEs, cassettes, configuration) are skipped.
Problems are :class:`~soorma_lc.errors.ScenarioError` naming the file and every location.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from soorma_lc.errors import ScenarioError, SoormaValidationError
from soorma_lc.evals.scenario import SCENARIO_MARKER, SCENARIO_VERSION, Scenario

SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")
SKIPPED_SUFFIXES = (".cassette.json",)


def read_document(path: Path) -> Any:
    """The parsed YAML or JSON content of ``path`` (:class:`ScenarioError` if unreadable)."""
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        raise ScenarioError(str(path), [f"cannot read it: {exc}"]) from None


def is_scenario_document(document: Any) -> bool:
    return isinstance(document, dict) and SCENARIO_MARKER in document


def scenario_from(document: Any, source: str) -> Scenario:
    """A validated :class:`Scenario` from parsed content (``source`` names it in errors)."""
    if not is_scenario_document(document):
        raise ScenarioError(source, [f"not a scenario: no top-level {SCENARIO_MARKER!r} key"])
    version = document[SCENARIO_MARKER]
    if version != SCENARIO_VERSION:
        raise ScenarioError(
            source, [f"{SCENARIO_MARKER}: version {version!r} is not supported (use 1)"]
        )
    try:
        return Scenario.model_validate(document)
    except ValidationError as exc:
        raise ScenarioError(source, _problems(exc)) from None
    except SoormaValidationError as exc:  # an invalid event name or schema
        raise ScenarioError(source, exc.errors) from None


def _problems(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        problems.append(f"{where}: {item['msg']}")
    return problems


EXTENDS_KEY = "extends"
"""A scenario key naming a file (relative to the scenario) whose content it builds on."""


def merged(base: Any, override: Any, depth: int = 2) -> Any:
    """``override`` over ``base``, merging mappings ``depth`` levels deep: a scenario's
    sections (``registry``, ``planner``, ``goal``, ``expect``) merge field by field, and a
    field's value (``goal.data``, ``registry.events``, ``expect.completion``) is replaced."""
    if depth and isinstance(base, dict) and isinstance(override, dict):
        return {**base, **{k: merged(base.get(k), v, depth - 1) for k, v in override.items()}}
    return override


def resolved_document(path: Path, seen: tuple[Path, ...] = ()) -> Any:
    """The content of ``path`` with its ``extends`` chain applied (shared parts of several
    scenarios live in one file; see :func:`merged`)."""
    document = read_document(path)
    if not isinstance(document, dict) or EXTENDS_KEY not in document:
        return document
    base_path = (path.parent / str(document.pop(EXTENDS_KEY))).resolve()
    if base_path in seen or base_path == path.resolve():
        raise ScenarioError(str(path), [f"{EXTENDS_KEY}: {base_path} extends itself"])
    if not base_path.is_file():
        raise ScenarioError(str(path), [f"{EXTENDS_KEY}: no file {base_path}"])
    return merged(resolved_document(base_path, (*seen, path.resolve())), document)


def load_scenario(path: Path) -> Scenario:
    """The scenario in ``path`` (its ``extends`` chain applied)."""
    return scenario_from(resolved_document(path), str(path))


def is_scenario_file(path: Path) -> bool:
    """Whether ``path`` looks like a scenario file (by name; the marker is checked on load)."""
    name = path.name
    return name.endswith(SCENARIO_SUFFIXES) and not name.endswith(SKIPPED_SUFFIXES)


def scenario_files(root: Path) -> list[Path]:
    """The scenario files under ``root`` (or ``root`` itself), sorted; hidden folders and
    files without the marker are skipped."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise ScenarioError(str(root), ["no such file or folder"])
    found = []
    for path in sorted(root.rglob("*")):
        hidden = any(part.startswith((".", "_")) for part in path.relative_to(root).parts)
        if hidden or not path.is_file() or not is_scenario_file(path):
            continue
        if is_scenario_document(read_document(path)):
            found.append(path)
    return found


@dataclass(frozen=True)
class Suite:
    """The scenarios of a folder, in file order, and where each came from."""

    root: Path
    scenarios: tuple[Scenario, ...]
    files: dict[str, Path]

    @property
    def hash(self) -> str:
        """A digest of every scenario's content: two runs with the same hash ran the same
        cases (file layout, comments and formatting do not count)."""
        digest = hashlib.sha256()
        for scenario in sorted(self.scenarios, key=lambda s: s.id):
            digest.update(scenario.model_dump_json(by_alias=True).encode("utf-8"))
        return digest.hexdigest()[:16]

    def selected(self, patterns: Iterable[str] = (), tags: Iterable[str] = ()) -> Suite:
        """The scenarios whose id matches one of ``patterns`` (globs) and carries one of
        ``tags`` (an empty filter keeps everything)."""
        patterns, tags = list(patterns), set(tags)
        kept = tuple(
            s
            for s in self.scenarios
            if (not patterns or any(fnmatch.fnmatch(s.id, p) for p in patterns))
            and (not tags or tags & set(s.tags))
        )
        return Suite(self.root, kept, {s.id: self.files[s.id] for s in kept})


def load_suite(root: Path | str) -> Suite:
    """Every scenario under ``root``; ids must be unique."""
    root = Path(root)
    scenarios: list[Scenario] = []
    files: dict[str, Path] = {}
    for path in scenario_files(root):
        scenario = load_scenario(path)
        if scenario.id in files:
            raise ScenarioError(
                str(path), [f"id {scenario.id!r} is also used by {files[scenario.id]}"]
            )
        scenarios.append(scenario)
        files[scenario.id] = path
    if not scenarios:
        raise ScenarioError(str(root), [f"no scenario files ({SCENARIO_MARKER}: 1) found"])
    return Suite(root, tuple(scenarios), files)
