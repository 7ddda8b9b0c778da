"""RedisCheckpointSaver passes langgraph-checkpoint-conformance at level FULL.

All eight capabilities (the five base ones plus delete_for_runs, copy_thread and prune) run
against the real embedded Redis, in three configurations: defaults; TTL with refresh-on-read and
an EncryptedSerializer; and no delta encoding (every blob stored in full); and all three again
on a Redis Cluster (3 masters, one replica each).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import ALL_CAPABILITIES
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer

from soorma_lc.memory.checkpoint import RedisCheckpointSaver

CONFIGURATIONS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "ttl-encrypted": {
        "ttl_minutes": 5,
        "refresh_on_read": True,
        "serde": EncryptedSerializer.from_pycryptodome_aes(key=b"0123456789abcdef"),
    },
    "no-deltas": {"max_chain": 0},
}


@pytest.mark.parametrize("server", ["redis_url", "cluster_url"])
@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
async def test_conformance_full(request: pytest.FixtureRequest, server: str, name: str) -> None:
    url = request.getfixturevalue(server)

    @checkpointer_test(name=f"RedisCheckpointSaver[{name}]")
    async def factory() -> AsyncIterator[RedisCheckpointSaver]:
        saver = RedisCheckpointSaver.from_url(url, **CONFIGURATIONS[name])
        yield saver
        await saver.aclose()
        saver.close()

    report = await validate(factory)
    failures = {cap: r.failures for cap, r in report.results.items() if r.failures}
    assert failures == {}
    assert {cap for cap, r in report.results.items() if r.detected} == {
        c.value for c in ALL_CAPABILITIES
    }
    assert report.conformance_level() == "FULL"
