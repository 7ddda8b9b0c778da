"""Checkpointer benchmark: a 50-turn chat thread, RedisCheckpointSaver vs the anchors, one run.

Each turn sends a ~500-character human message through a real StateGraph whose node answers
with a ~500-character AI message (``add_messages`` channel). Measured per saver: ms per turn,
``aget_state`` p50, ``aput`` / ``aput_writes`` / ``aget_tuple`` p50 during the turns, ``alist``
(10 newest) p50, and the Redis memory the thread uses (sum of MEMORY USAGE of its keys;
``used_memory_mb``: how much the server's INFO used_memory drops when the thread is deleted).

Savers: LangGraph's InMemorySaver (the floor), AsyncSqliteSaver (langgraph-checkpoint-sqlite),
langgraph-checkpoint-redis's AsyncRedisSaver (the anchor) and ours, both Redis savers on the same
Redis Stack server. Start one with ``/work/shared/tools/start-redis-stack`` (port 6390).

    python benchmarks/checkpointer.py [--url redis://127.0.0.1:6390] [--turns 50] [--rounds 3]

In each round every saver runs its own thread and the savers take turns, turn by turn (who goes
first rotates), so load from other processes hits them alike; times are per-call p50s. Memory
is measured afterwards on a thread run alone. Medians over rounds are printed, then the ratios
ours / AsyncRedisSaver (goals: turn <= 0.5, aget_state <= 0.4, memory <= 0.2).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import string
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import redis
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

from soorma_lc.memory.checkpoint import RedisCheckpointSaver


class ChatState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def make_texts(count: int, seed: int = 7) -> list[str]:
    """Deterministic ~500-character texts of random words (no artificial repetition)."""
    rng = random.Random(seed)
    vocabulary = [
        "".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 10))) for _ in range(5000)
    ]
    texts = []
    for _ in range(count):
        words: list[str] = []
        while sum(len(w) + 1 for w in words) < 500:
            words.append(rng.choice(vocabulary))
        texts.append(" ".join(words)[:500])
    return texts


def build_graph(answers: list[str]) -> StateGraph:
    def chat(state: ChatState) -> dict[str, Any]:
        turn = len(state["messages"]) // 2
        return {"messages": [AIMessage(content=answers[turn])]}

    builder = StateGraph(ChatState)
    builder.add_node("chat", chat)
    builder.add_edge(START, "chat")
    builder.add_edge("chat", END)
    return builder


class Timed:
    """Records the latency of a saver's async methods while LangGraph calls them."""

    def __init__(self, saver: BaseCheckpointSaver, names: tuple[str, ...]) -> None:
        self.samples: dict[str, list[float]] = {name: [] for name in names}
        for name in names:
            setattr(saver, name, self._wrap(name, getattr(saver, name)))

    def _wrap(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await method(*args, **kwargs)
            finally:
                self.samples[name].append((time.perf_counter() - start) * 1000)

        return timed


def p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


class Contestant:
    """One saver, its graph and thread, and the latencies gathered while they run."""

    def __init__(self, name: str, saver: BaseCheckpointSaver, answers: list[str]) -> None:
        self.name = name
        self.saver = saver
        self.timed = Timed(saver, ("aput", "aput_writes", "aget_tuple"))
        self.graph = build_graph(answers).compile(checkpointer=saver)
        self.thread_id = f"bench-{uuid.uuid4()}"
        self.config = {"configurable": {"thread_id": self.thread_id}}
        self.samples: dict[str, list[float]] = {"turn": [], "get_state": [], "list10": []}

    @contextlib.contextmanager
    def _timing(self, metric: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.samples[metric].append((time.perf_counter() - start) * 1000)

    async def turn(self, question: str) -> None:
        with self._timing("turn"):
            await self.graph.ainvoke({"messages": [HumanMessage(content=question)]}, self.config)

    async def get_state(self, expected_messages: int) -> None:
        with self._timing("get_state"):
            state = await self.graph.aget_state(self.config)
        if len(state.values["messages"]) != expected_messages:
            raise RuntimeError(f"{self.name} lost messages")

    async def list10(self) -> None:
        with self._timing("list10"):
            page = [t async for t in self.saver.alist(self.config, limit=10)]
        if len(page) != 10:
            raise RuntimeError(f"{self.name} listed {len(page)} checkpoints")

    def metrics(self) -> dict[str, float]:
        out = {f"{k}_ms": p50(v) for k, v in self.samples.items()}
        out["turn_mean_ms"] = statistics.fmean(self.samples["turn"])
        for method in ("aput", "aput_writes", "aget_tuple"):
            out[f"{method.removeprefix('a')}_ms"] = p50(self.timed.samples[method])
        return out


async def run_round(
    url: str, workdir: Path, turns: int, questions: list[str], answers: list[str], rotate: int
) -> dict[str, dict[str, float]]:
    """All savers advance their own thread turn by turn, interleaved (rotating who goes first),
    so that load from other processes on the machine hits every saver alike."""
    async with contextlib.AsyncExitStack() as stack:
        players = [
            Contestant(
                name, await stack.enter_async_context(open_saver(name, url, workdir)), answers
            )
            for name in SAVERS
        ]

        def in_turn(rep: int) -> list[Contestant]:
            shift = (rep + rotate) % len(players)
            return players[shift:] + players[:shift]

        for turn in range(turns):
            for player in in_turn(turn):
                await player.turn(questions[turn])
        for rep in range(50):
            for player in in_turn(rep):
                await player.get_state(2 * turns)
        for rep in range(10):
            for player in in_turn(rep):
                await player.list10()
        metrics = {p.name: p.metrics() for p in players}
        for player in players:  # leave nothing behind in the benchmark's Redis
            await player.saver.adelete_thread(player.thread_id)
        return metrics


async def memory_of_thread(
    name: str, url: str, client: redis.Redis, turns: int, questions: list[str], answers: list[str]
) -> dict[str, float]:
    """Redis memory of one thread: its keys' MEMORY USAGE, and how much INFO used_memory drops
    when the saver deletes the thread (indexes included; a drop is less noisy than a growth)."""
    async with open_saver(name, url, Path(".")) as saver:
        player = Contestant(name, saver, answers)
        for turn in range(turns):
            await player.turn(questions[turn])
        keys_mb = thread_memory(client, player.thread_id)
        await asyncio.sleep(1)  # let the server settle (client buffers, background work)
        used_before = client.info("memory")["used_memory"]
        await saver.adelete_thread(player.thread_id)
        await asyncio.sleep(1)
        freed = used_before - client.info("memory")["used_memory"]
    return {"memory_mb": keys_mb, "used_memory_mb": freed / 1e6}


def thread_memory(client: redis.Redis, thread_id: str) -> float:
    """MB held by the keys whose name contains the thread id."""
    total = 0
    for key in client.scan_iter(match=f"*{thread_id}*", count=1000):
        total += client.memory_usage(key, samples=0) or 0
    return total / 1e6


@contextlib.asynccontextmanager
async def open_saver(name: str, url: str, workdir: Path) -> AsyncIterator[BaseCheckpointSaver]:
    if name == "InMemorySaver":
        yield InMemorySaver()
    elif name == "AsyncSqliteSaver":
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        path = workdir / f"{uuid.uuid4()}.sqlite"
        async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
            yield saver
    elif name == "AsyncRedisSaver":
        from langgraph.checkpoint.redis.aio import AsyncRedisSaver

        async with AsyncRedisSaver.from_conn_string(url) as saver:
            await saver.asetup()
            yield saver
    else:
        saver = RedisCheckpointSaver.from_url(url)
        try:
            yield saver
        finally:
            await saver.aclose()
            saver.close()


SAVERS = ("InMemorySaver", "AsyncSqliteSaver", "AsyncRedisSaver", "RedisCheckpointSaver")
REDIS_SAVERS = ("AsyncRedisSaver", "RedisCheckpointSaver")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="redis://127.0.0.1:6390", help="Redis Stack URL")
    parser.add_argument("--turns", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    client = redis.Redis.from_url(args.url)
    try:
        modules = {m[b"name"].decode() for m in client.module_list()}
    except redis.ConnectionError:
        print(f"no Redis at {args.url}: start one with /work/shared/tools/start-redis-stack")
        return 2
    if "search" not in modules or "ReJSON" not in modules:
        print(f"{args.url} lacks RediSearch/RedisJSON (AsyncRedisSaver needs Redis Stack)")
        return 2
    questions = make_texts(args.turns, seed=1)
    answers = make_texts(args.turns, seed=2)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in SAVERS}
    with tempfile.TemporaryDirectory() as tmp:
        for round_no in range(args.rounds):
            found = await run_round(args.url, Path(tmp), args.turns, questions, answers, round_no)
            for name, metrics in found.items():
                results[name].append(metrics)
            print(f"round {round_no + 1} done", file=sys.stderr)
    for name in REDIS_SAVERS:
        memory = await memory_of_thread(name, args.url, client, args.turns, questions, answers)
        for metrics in results[name]:
            metrics.update(memory)
    medians = {
        name: {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        for name, runs in results.items()
    }
    columns = (
        "turn_ms", "turn_mean_ms", "get_state_ms", "put_ms", "put_writes_ms", "get_tuple_ms",
        "list10_ms",
    )  # fmt: skip
    print(f"\n{args.turns}-turn thread, medians of {args.rounds} rounds (ms p50; memory in MB)")
    memory_columns = ("memory_mb", "used_memory_mb")
    print(f"{'saver':22}" + "".join(f"{c:>15}" for c in (*columns, *memory_columns)))
    for name, m in medians.items():
        memory = "".join(f"{m[c]:15.3f}" if c in m else f"{'-':>15}" for c in memory_columns)
        print(f"{name:22}" + "".join(f"{m[c]:15.3f}" for c in columns) + memory)
    ours, anchor = medians["RedisCheckpointSaver"], medians["AsyncRedisSaver"]
    floor = medians["InMemorySaver"]
    print("\nratios ours / AsyncRedisSaver (goal):")
    goals = (("turn_ms", 0.5), ("get_state_ms", 0.4), ("memory_mb", 0.2), ("used_memory_mb", 0.2))
    for key, goal in goals:
        ratio = ours[key] / anchor[key]
        print(f"  {key:14} {ratio:6.3f}  (<= {goal})  {'ok' if ratio <= goal else 'MISSED'}")
    for key in ("turn_mean_ms", "put_ms", "put_writes_ms", "get_tuple_ms", "list10_ms"):
        print(f"  {key:14} {ours[key] / anchor[key]:6.3f}")
    print("ratios ours / InMemorySaver (the floor):")
    for key in ("turn_ms", "get_state_ms"):
        print(f"  {key:14} {ours[key] / floor[key]:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
