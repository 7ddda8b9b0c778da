"""Small eval scenarios for the harness tests: an echo world with one worker, as dicts."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from soorma_lc.evals.scenario import Scenario
from soorma_lc.evals.suite import scenario_from

ECHO: dict[str, Any] = {
    "soorma_eval": 1,
    "id": "echo",
    "title": "Echo a word back",
    "tags": ["echo"],
    "registry": {
        "events": [
            {
                "name": "echo.requested",
                "description": "Repeat a word",
                "payload": {"word": "string"},
            }
        ]
    },
    "workers": [
        {
            "name": "echoer",
            "consumes": ["echo.requested"],
            "replies": [{"data": {"echo": "${request.word} ${request.word}"}}],
        }
    ],
    "goal": {"event": "echo.goal", "payload": {"word": "string"}, "data": {"word": "hello"}},
    "script": [
        {"call": "echo.requested", "args": {"word": "${goal.word}"}},
        {"call": "complete_goal", "args": {"result": "${last.echo}"}},
    ],
    "expect": {
        "status": "completed",
        "trajectory": {"events": ["echo.requested"], "match": "strict"},
        "completion": {"contains": ["hello hello"]},
    },
}


def echo(**changes: Any) -> dict[str, Any]:
    """The echo scenario as a dict, with top-level ``changes`` applied."""
    document = copy.deepcopy(ECHO)
    document.update(copy.deepcopy(changes))
    return document


def scenario(**changes: Any) -> Scenario:
    return scenario_from(echo(**changes), "test")


def write_suite(folder: Path, *documents: dict[str, Any]) -> Path:
    """Each document as ``<id>.yaml`` in ``folder``; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for document in documents:
        (folder / f"{document['id']}.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    return folder
