"""Episodic memory vs langchain-chroma's ``Chroma`` vector store, side by side in one run.

Both sides use the same embedded Chroma version, cosine space, the same offline embeddings,
the same metadata and the same scope filter (tenant + agent + user), and are driven through
their async APIs one interaction at a time, as an agent logs them. Printed: ingest throughput,
search latency p50/p99 and their ratios (ours / anchor), then recall@5 on a seeded paraphrase
set with the offline default and (if the ``local`` extra is installed) MiniLM.

    python benchmarks/memory_search.py                     # 1k and 10k interactions
    python benchmarks/memory_search.py --sizes 1000,10000,100000 --repeat 1

Each side runs ``--repeat`` times (default 2) in alternating order and the best figure per
metric is kept, so that load from other processes on a shared machine does not decide the ratio.

Needs the ``bench`` extra (langchain-chroma). Data goes to a temporary directory, deleted at
the end.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import chromadb
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from soorma_lc.backends.embeddings import HashingEmbeddings, resolve_embeddings
from soorma_lc.memory.episodic import EpisodicMemory

TENANT, AGENT, USER = "bench-tenant", "bench-agent", "bench-user"
OTHER_USERS = ("u-2", "u-3", "u-4")
BATCH = 500

_PEOPLE = ["Alice", "Bob", "the customer", "our manager", "the vendor", "Priya", "the intern"]
_ACTIONS = [
    "asked about",
    "approved",
    "complained about",
    "needs an update on",
    "rejected",
    "wants a summary of",
    "scheduled a review of",
    "found a problem with",
]
_THINGS = [
    "the quarterly budget",
    "the login page",
    "the shipping estimate",
    "the hiring plan",
    "the data export",
    "the security audit",
    "the marketing copy",
    "the mobile release",
    "the invoice for March",
    "the onboarding checklist",
    "the database migration",
    "the conference booking",
]
_WHEN = ["today", "yesterday", "on Monday", "before the deadline", "last week", "this morning"]

# (stored text, paraphrase) pairs written for this benchmark; the tests use a different set.
PARAPHRASE_PAIRS = [
    ("My flight to Berlin leaves at 7am on Saturday.", "I fly out to Berlin early Saturday."),
    ("The printer on the third floor is out of toner.", "No toner left in the 3rd floor printer."),
    (
        "We decided to hire two more backend engineers.",
        "Two extra backend developers will be hired.",
    ),
    (
        "The client prefers email over phone calls.",
        "The customer would rather be emailed than phoned.",
    ),
    ("Lunch with the design team is moved to noon.", "The design team lunch now starts at 12."),
    ("Our website was down for two hours last night.", "The site had a two hour outage overnight."),
    (
        "Please renew the SSL certificate before it expires.",
        "The SSL cert needs renewing before expiry.",
    ),
    (
        "The new laptop arrived with a cracked screen.",
        "My new notebook came with a broken display.",
    ),
    ("She is allergic to peanuts.", "Peanuts give her an allergic reaction."),
    ("The board approved the budget for next year.", "Next year's budget got board approval."),
    ("Sales in Asia dropped by ten percent.", "Asian sales fell ten percent."),
    (
        "I lost my badge and cannot enter the building.",
        "Without my lost badge I can't get into the office.",
    ),
    (
        "The API returns a timeout error after 30 seconds.",
        "Requests to the API time out after half a minute.",
    ),
    ("Remind me to call my mother on Sunday.", "Set a reminder to phone mom on Sunday."),
    (
        "The warehouse in Texas is running out of boxes.",
        "Boxes are nearly gone at the Texas warehouse.",
    ),
    ("Our rent goes up by 5 percent in March.", "In March the rent increases five percent."),
    ("The dog needs its vaccination next week.", "Next week the dog is due for its shots."),
    ("The contract with the supplier ends in June.", "The supplier agreement expires in June."),
    (
        "Customers complain that the app is slow on Android.",
        "Android users say the app is sluggish.",
    ),
    ("We moved the standup to 9:30.", "Daily standup now happens at half past nine."),
    (
        "He wants a refund for the damaged chair.",
        "He is asking for his money back on the broken chair.",
    ),
    ("The conference talk was rejected.", "Our talk proposal for the conference was not accepted."),
    ("The kitchen tap is leaking again.", "Water is dripping from the kitchen faucet again."),
    ("I prefer aisle seats on long flights.", "On long flights I like sitting by the aisle."),
    ("The report must be translated into Spanish.", "We need a Spanish translation of the report."),
    ("My password expired this morning.", "This morning my password stopped being valid."),
    (
        "The meeting notes were shared with the whole team.",
        "Everyone on the team got the meeting notes.",
    ),
    ("The car needs new tires before winter.", "Before winter the vehicle should get new tyres."),
    ("The backup job failed three nights in a row.", "Three consecutive nightly backups failed."),
    ("We are out of coffee in the office.", "The office has no coffee left."),
    ("The hotel booking for Tokyo is confirmed.", "Our Tokyo hotel reservation went through."),
    ("The invoice was paid twice by mistake.", "We accidentally paid the bill two times."),
    (
        "Our biggest customer is threatening to leave.",
        "The largest client may cancel their account.",
    ),
    ("The train to Paris was cancelled due to a strike.", "A strike cancelled the Paris train."),
    ("The new intern starts on Monday.", "Monday is the first day for the new trainee."),
    ("The garden needs watering every evening.", "Water the garden each evening."),
    ("Tickets for the concert sold out in minutes.", "The concert sold out almost instantly."),
    ("The database is using 95 percent of its disk.", "The DB disk is almost full at 95%."),
    ("I forgot my umbrella at the restaurant.", "I left the umbrella behind at the restaurant."),
    ("The package was delivered to the wrong address.", "The parcel went to an incorrect address."),
]


@dataclass(frozen=True)
class Row:
    role: str
    text: str
    metadata: dict[str, str | int]


def synthetic_rows(count: int, seed: int = 7) -> list[Row]:
    """Seeded look-alike interactions with plan/session metadata."""
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        text = (
            f"{rng.choice(_PEOPLE)} {rng.choice(_ACTIONS)} {rng.choice(_THINGS)} "
            f"{rng.choice(_WHEN)} (ticket {rng.randrange(10_000)})"
        )
        role = "user" if n % 2 == 0 else "assistant"
        rows.append(Row(role, text, {"plan_id": f"plan-{n % 97}", "session_id": f"s-{n % 13}"}))
    return rows


def new_client(path: Path) -> chromadb.ClientAPI:
    return chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
    )


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass(frozen=True)
class Measured:
    single_per_s: float
    bulk_per_s: float
    p50_ms: float
    p99_ms: float


def best(runs: list[Measured]) -> Measured:
    """Best of repeated runs per metric (noise on a shared machine only ever slows down)."""
    return Measured(
        max(run.single_per_s for run in runs),
        max(run.bulk_per_s for run in runs),
        min(run.p50_ms for run in runs),
        min(run.p99_ms for run in runs),
    )


def scope_of(n: int) -> str:
    """Most rows belong to the measured user; every fourth to other users of the tenant."""
    return USER if n % 4 else OTHER_USERS[n % 3]


def anchor_metadata(n: int, row: Row) -> dict[str, str | int]:
    return {
        **row.metadata,
        "tenant_id": TENANT,
        "agent_id": AGENT,
        "user_id": scope_of(n),
        "role": row.role,
        "created_at_ns": time.time_ns(),
    }


async def timed(calls: list, per_call: bool) -> tuple[float, list[float]]:
    """Run the coroutine factories in order: total seconds and per-call milliseconds."""
    latencies = []
    started = time.perf_counter()
    for call in calls:
        begin = time.perf_counter()
        await call()
        if per_call:
            latencies.append((time.perf_counter() - begin) * 1000)
    return time.perf_counter() - started, latencies


def by_user(first: int, chunk: list[Row]) -> dict[str, list[tuple[int, Row]]]:
    """A batch's rows grouped by user: both sides write one call per conversation scope."""
    groups: dict[str, list[tuple[int, Row]]] = {}
    for i, row in enumerate(chunk):
        groups.setdefault(scope_of(first + i), []).append((first + i, row))
    return groups


def batches(rows: list[Row], offset: int, size: int) -> list[tuple[int, list[Row]]]:
    return [
        (offset + i, rows[offset + i : offset + i + size])
        for i in range(0, len(rows) - offset, size)
    ]


async def measure(
    rows: list[Row],
    queries: list[str],
    single: int,
    add_one: Callable[[int, Row], Awaitable[object]],
    add_group: Callable[[str, list[tuple[int, Row]]], Awaitable[object]],
    search: Callable[[str], Awaitable[object]],
) -> Measured:
    """The same driver for both sides: ``single`` rows one per call, the rest in batches of
    ``BATCH`` (one call per user of a batch), then each query timed on its own."""

    def add_batch(first: int, chunk: list[Row]):
        async def run() -> None:
            for user, group in by_user(first, chunk).items():
                await add_group(user, group)

        return run

    single_s, _ = await timed([partial(add_one, n, rows[n]) for n in range(single)], False)
    bulk_rows = len(rows) - single
    bulk_s, _ = await timed([add_batch(f, c) for f, c in batches(rows, single, BATCH)], False)
    _, latencies = await timed([partial(search, query) for query in queries], per_call=True)
    return Measured(
        single / single_s,
        bulk_rows / bulk_s,
        percentile(latencies, 0.5),
        percentile(latencies, 0.99),
    )


async def bench_ours(path: Path, rows: list[Row], queries: list[str], single: int) -> Measured:
    memory = EpisodicMemory(new_client(path), HashingEmbeddings())

    def add_group(user: str, group: list[tuple[int, Row]]):
        turns = [(row.role, row.text, row.metadata) for _, row in group]
        return memory.log_interactions(AGENT, turns, tenant_id=TENANT, user_id=user)

    return await measure(
        rows,
        queries,
        single,
        lambda n, row: memory.log_interaction(
            AGENT, row.role, row.text, tenant_id=TENANT, user_id=scope_of(n), metadata=row.metadata
        ),
        add_group,
        lambda query: memory.search_interactions(
            AGENT, query, tenant_id=TENANT, user_id=USER, limit=5
        ),
    )


async def bench_anchor(path: Path, rows: list[Row], queries: list[str], single: int) -> Measured:
    store = Chroma(
        collection_name="anchor",
        embedding_function=HashingEmbeddings(),
        client=new_client(path),
        collection_configuration={"hnsw": {"space": "cosine"}},
    )

    def add_group(user: str, group: list[tuple[int, Row]]):
        return store.aadd_texts(
            [row.text for _, row in group],
            metadatas=[anchor_metadata(n, row) for n, row in group],
        )

    where = {"$and": [{"tenant_id": TENANT}, {"agent_id": AGENT}, {"user_id": USER}]}
    return await measure(
        rows,
        queries,
        single,
        lambda n, row: store.aadd_texts([row.text], metadatas=[anchor_metadata(n, row)]),
        add_group,
        lambda query: store.asimilarity_search_with_score(query, k=5, filter=where),
    )


async def recall_at_5(path: Path, embeddings: Embeddings, distractors: list[Row]) -> float:
    """Share of paraphrase queries whose original is among the top 5 of our search."""
    memory = EpisodicMemory(new_client(path), embeddings)
    originals = {}
    for _, chunk in batches(distractors, 0, BATCH):
        await memory.log_interactions(
            AGENT, [(r.role, r.text) for r in chunk], tenant_id=TENANT, user_id=USER
        )
    for stored, _ in PARAPHRASE_PAIRS:
        originals[stored] = (
            await memory.log_interaction(AGENT, "user", stored, tenant_id=TENANT, user_id=USER)
        ).id
    found = 0
    for stored, paraphrase in PARAPHRASE_PAIRS:
        hits = await memory.search_interactions(
            AGENT, paraphrase, tenant_id=TENANT, user_id=USER, limit=5
        )
        found += originals[stored] in {hit.id for hit in hits}
    return found / len(PARAPHRASE_PAIRS)


def local_embeddings() -> Embeddings | None:
    try:
        return resolve_embeddings("local")
    except Exception as exc:  # the extra is optional: report and go on
        print(f"  MiniLM unavailable ({exc}); install soorma-lc[local] to compare")
        return None


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated row counts")
    parser.add_argument("--queries", type=int, default=200, help="search queries per size")
    parser.add_argument("--single", type=int, default=100, help="rows ingested one per call")
    parser.add_argument("--repeat", type=int, default=2, help="runs per side, alternating order")
    parser.add_argument("--recall-distractors", type=int, default=1000)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="soorma-bench-") as tmp:
        root = Path(tmp)
        print(f"{'size':>7} | {'metric':<22} | {'ours':>9} | {'anchor':>9} | ratio")
        for size in sizes:
            rows = synthetic_rows(size)
            queries = [row.text for row in synthetic_rows(args.queries, seed=size + 1)]
            single = min(args.single, size // 2)
            runs: dict[str, list[Measured]] = {"ours": [], "anchor": []}
            for attempt in range(args.repeat):
                # Alternate who goes first so that load drift on a shared machine hits both.
                order = ("ours", "anchor") if attempt % 2 == 0 else ("anchor", "ours")
                for side in order:
                    bench = bench_ours if side == "ours" else bench_anchor
                    path = root / f"{side}-{size}-{attempt}"
                    runs[side].append(await bench(path, rows, queries, single))
            ours, anchor = best(runs["ours"]), best(runs["anchor"])
            for label, mine, theirs in (
                ("ingest/s, 1 per call", ours.single_per_s, anchor.single_per_s),
                (f"ingest/s, {BATCH} per call", ours.bulk_per_s, anchor.bulk_per_s),
                ("search p50 ms", ours.p50_ms, anchor.p50_ms),
                ("search p99 ms", ours.p99_ms, anchor.p99_ms),
            ):
                print(
                    f"{size:>7} | {label:<22} | {mine:>9.2f} | {theirs:>9.2f} "
                    f"| {mine / theirs:.2f}x"
                )
        print(
            f"best of {args.repeat} alternating runs per side; ratio = ours / anchor: "
            "above 1 is better for ingest/s, below 1 for latency"
        )

        distractors = synthetic_rows(args.recall_distractors, seed=99)
        print(f"recall@5, {len(PARAPHRASE_PAIRS)} paraphrases among {len(distractors)} distractors")
        default = await recall_at_5(root / "recall-default", HashingEmbeddings(), distractors)
        print(f"  offline default (hashing): {default:.2f}")
        minilm = local_embeddings()
        if minilm is not None:
            score = await recall_at_5(root / "recall-minilm", minilm, distractors)
            print(f"  MiniLM (local extra):      {score:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
