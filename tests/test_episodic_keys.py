"""Idempotent episodic logging: a turn logged with a key is stored once per scope, however
often it is logged (retried handlers, a rerun example)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
from longterm_helpers import AGENT, OTHER_USER, TENANT, USER, new_chroma

from soorma_lc.config import Settings
from soorma_lc.errors import InvalidMemoryInputError
from soorma_lc.memory.episodic import EpisodicMemory

SCOPE = {"tenant_id": TENANT, "user_id": USER}


@pytest.fixture
def memory(tmp_path: Path) -> EpisodicMemory:
    return EpisodicMemory(new_chroma(tmp_path / "chroma"))


def test_a_key_logs_a_turn_once_and_returns_the_first(memory: EpisodicMemory) -> None:
    first = memory.log_interaction_sync(AGENT, "user", "Budget is 1500", **SCOPE, key="evt-1")
    again = memory.log_interaction_sync(AGENT, "user", "Budget is 1500", **SCOPE, key="evt-1")
    assert again == first
    other = memory.log_interaction_sync(AGENT, "user", "Budget is 1500", **SCOPE)
    assert other.id != first.id
    history = memory.get_recent_history_sync(AGENT, **SCOPE)
    assert [turn.id for turn in history] == [first.id, other.id]


async def test_keys_per_turn_and_per_scope(memory: EpisodicMemory) -> None:
    turns = [("user", "hello"), ("assistant", "hi"), ("user", "bye")]
    keys = ["m-1", None, "m-3"]
    first = await memory.log_interactions(AGENT, turns, **SCOPE, keys=keys)
    second = await memory.log_interactions(AGENT, turns, **SCOPE, keys=keys)
    assert [second[0], second[2]] == [first[0], first[2]]
    assert second[1].id != first[1].id  # unkeyed turns are appended each time
    assert len(memory.get_recent_history_sync(AGENT, **SCOPE)) == 4

    elsewhere = await memory.log_interaction(
        AGENT, "user", "hello", tenant_id=TENANT, user_id=OTHER_USER, key="m-1"
    )
    assert elsewhere.id != first[0].id and elsewhere.user_id == OTHER_USER


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (["only-one"], "keys must be a sequence of 2 keys"),
        (["same", "same"], "a key appears twice"),
        (["", None], "key"),
        (["x" * 513, None], "at most 512 allowed"),
        (["a\x00b", None], "visible text"),
        ("ab", "keys must be a sequence"),
        (5, "keys must be a sequence"),
    ],
)
def test_bad_keys_are_refused_before_anything_is_written(
    memory: EpisodicMemory, keys: Any, message: str
) -> None:
    with pytest.raises(InvalidMemoryInputError, match=message):
        memory.log_interactions_sync(AGENT, [("user", "a"), ("user", "b")], **SCOPE, keys=keys)
    assert memory.get_recent_history_sync(AGENT, **SCOPE) == []


async def test_the_memory_example_remembers_once(tmp_path: Path) -> None:
    path = Path(__file__).resolve().parents[1] / "examples" / "memory" / "long_term_memory.py"
    spec = importlib.util.spec_from_file_location("long_term_memory_example", path)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = example
    spec.loader.exec_module(example)
    settings = Settings(data_dir=tmp_path / "soorma")

    await example.remember(settings)
    await example.remember(settings)

    episodic = EpisodicMemory.from_settings(settings)
    history = await episodic.get_recent_history(
        example.AGENT, tenant_id=example.TENANT, user_id=example.ALICE, limit=50
    )
    assert [turn.content for turn in history] == [content for _, content, _ in example.CHAT]
