"""LangGraph store benchmark: SoormaStore vs langgraph-checkpoint-redis's RedisStore, one run.

Same data, same offline embeddings (``HashingEmbeddings``, 256 dims, field ``text``), same
Redis Stack server for both Redis stores (ours uses plain commands; the anchor needs RediSearch):
start one with ``/work/shared/tools/start-redis-stack`` (port 6390). InMemoryStore is the floor
and the exact reference for search quality. Measured per store: ``aput`` items/s (one item per
call), ``aget`` p50, ``asearch`` p50 with a query in one user's namespace and across all users,
``asearch`` p50 with a filter and no query, overlap@10 of query results with InMemoryStore's
exact ranking (1.0 = same top 10), whether ``aget`` finds the items, and puts via ``abatch``.

    python benchmarks/store.py [--url redis://127.0.0.1:6390] [--items 1000] [--queries 100]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from langgraph.store.base import BaseStore, PutOp
from langgraph.store.memory import InMemoryStore
from langgraph.store.redis import RedisStore

from soorma_lc.backends.chroma import chroma_client
from soorma_lc.backends.embeddings import HashingEmbeddings
from soorma_lc.config import Settings
from soorma_lc.memory.store import SoormaStore

WORDS = (
    "invoice",
    "refund",
    "shipment",
    "delay",
    "meeting",
    "budget",
    "server",
    "outage",
    "password",
    "login",
    "contract",
    "flight",
    "hotel",
    "dinner",
    "doctor",
    "weather",
    "report",
    "summary",
    "customer",
    "manager",
    "deadline",
    "laptop",
    "database",
    "latency",
    "bug",
    "release",
    "roadmap",
    "hiring",
    "salary",
    "vacation",
    "printer",
    "coffee",
)
USERS = 20


def dataset(items: int, seed: int = 7) -> list[tuple[tuple[str, ...], str, dict[str, Any]]]:
    rng = random.Random(seed)
    rows = []
    for i in range(items):
        text = " ".join(rng.choices(WORDS, k=rng.randint(4, 9)))
        value = {"text": text, "n": rng.randint(0, 99), "tag": rng.choice(["a", "b", "c"])}
        rows.append((("users", f"u{i % USERS}"), f"item{i}", value))
    return rows


def queries(count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choices(WORDS, k=rng.randint(2, 4))) for _ in range(count)]


async def p50_ms(calls: list[Callable[[], Awaitable[Any]]]) -> float:
    times = []
    for call in calls:
        start = time.perf_counter()
        await call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def measure(store: BaseStore, rows: list, qs: list[str]) -> tuple[dict[str, float], dict]:
    start = time.perf_counter()
    for namespace, key, value in rows:
        await store.aput(namespace, key, value)
    put_rate = len(rows) / (time.perf_counter() - start)
    rng = random.Random(3)
    picks = [rng.choice(rows) for _ in qs]
    results: dict[str, float] = {"aput items/s": put_rate}
    results["aget p50 ms"] = await p50_ms([lambda r=r: store.aget(r[0], r[1]) for r in picks])
    found = [await store.aget(r[0], r[1]) for r in picks]
    results["aget found"] = sum(item is not None for item in found) / len(found)
    user_ns = ("users", "u3")
    results["search 1 user p50 ms"] = await p50_ms(
        [lambda q=q: store.asearch(user_ns, query=q, limit=10) for q in qs]
    )
    results["search all p50 ms"] = await p50_ms(
        [lambda q=q: store.asearch(("users",), query=q, limit=10) for q in qs]
    )
    results["filter p50 ms"] = await p50_ms(
        [lambda: store.asearch(user_ns, filter={"tag": "b"}, limit=10) for _ in qs]
    )
    tops = {q: [h.key for h in await store.asearch(("users",), query=q, limit=10)] for q in qs}
    start = time.perf_counter()
    for first in range(0, len(rows), 50):  # a batch of 50 puts per abatch call
        chunk = rows[first : first + 50]
        await store.abatch([PutOp(("batched", *ns[1:]), key, value) for ns, key, value in chunk])
    results["abatch(50 puts) items/s"] = len(rows) / (time.perf_counter() - start)
    return results, tops


def overlap(tops: dict[str, list[str]], exact: dict[str, list[str]]) -> float:
    return statistics.mean(len(set(tops[q]) & set(exact[q])) / 10 for q in exact)


async def main(url: str, items: int, count: int) -> None:
    rows, qs = dataset(items), queries(count)
    index = {"dims": 256, "embed": HashingEmbeddings(256), "fields": ["text"]}
    table: dict[str, dict[str, float]] = {}

    exact_results, exact = await measure(InMemoryStore(index=index), rows, qs)
    table["InMemoryStore"] = {**exact_results, "overlap@10": 1.0}

    prefix = f"bench{uuid.uuid4().hex[:8]}"
    # AsyncRedisStore fails to construct with the installed redisvl (it hands an async client to
    # a sync SearchIndex), so the anchor is the sync RedisStore through BaseStore's async API.
    with RedisStore.from_conn_string(
        url, index=index, store_prefix=f"{prefix}_store", vector_prefix=f"{prefix}_vec"
    ) as anchor:
        anchor.setup()
        results, tops = await measure(anchor, rows, qs)
        table["RedisStore"] = {**results, "overlap@10": overlap(tops, exact)}
        anchor._redis.ft(f"{prefix}_store").dropindex(delete_documents=True)
        anchor._redis.ft(f"{prefix}_vec").dropindex(delete_documents=True)

    with tempfile.TemporaryDirectory() as tmp:
        ours = SoormaStore.from_url(
            url,
            tenant_id=f"bench-{uuid.uuid4().hex[:8]}",
            index=index,
            chroma=chroma_client(Settings(data_dir=Path(tmp))),
        )
        try:
            results, tops = await measure(ours, rows, qs)
            table["SoormaStore"] = {**results, "overlap@10": overlap(tops, exact)}
            for namespace, key, _ in rows:  # leave the shared server as we found it
                await ours.abatch(
                    [PutOp(namespace, key, None), PutOp(("batched", *namespace[1:]), key, None)]
                )
        finally:
            await ours.aclose()

    metrics = list(table["SoormaStore"])
    print(f"{items} items, {count} queries, {USERS} users, embeddings HashingEmbeddings(256)")
    print(f"{'metric':24}" + "".join(f"{name:>17}" for name in table) + f"{'ours/anchor':>13}")
    for metric in metrics:
        cells = "".join(f"{table[name][metric]:>17.3f}" for name in table)
        anchor_value = table["RedisStore"][metric]
        ratio = f"{table['SoormaStore'][metric] / anchor_value:.2f}" if anchor_value else "n/a"
        print(f"{metric:24}{cells}{ratio:>13}")
    print("ratios: items/s, found and overlap higher is better; ms lower is better")
    print("aget found: share of gets that returned the stored item (must be 1.0)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="redis://127.0.0.1:6390")
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.url, args.items, args.queries))
