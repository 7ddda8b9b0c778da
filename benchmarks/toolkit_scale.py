"""EventToolkit at scale: tool building, retrieval quality and prompt size, against the anchors.

1. Build LangChain tools for 1,000 registered events with ``EventToolkit.as_tools`` and, side
   by side, the same tools by hand (a pydantic args model per event and
   ``StructuredTool.from_function``): time, memory and the ``bind_tools`` conversion.
2. Retrieval: the synthetic registry of benchmarks/synthetic_events.py (1,000 events, 20
   domains, one paraphrased goal per event); recall@1, recall@5 and nDCG@10 of
   ``select_events`` with the offline default embeddings and with the ``local`` MiniLM.
3. Prompt size (tiktoken cl100k): the tool definitions for 50 events, ours vs Soorma's
   ``format_as_prompt_text`` layout and Soorma's ``format_for_llm`` JSON of the same events.

    python benchmarks/toolkit_scale.py [--seed 7] [--queries 1000] [--skip-local]
                                       [--retrieval-only]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from langchain_core.tools import BaseTool, StructuredTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, Field, create_model
from synthetic_events import PARAPHRASE_MODES, GoalQuery, generate

from soorma_lc.config import Settings
from soorma_lc.errors import ConfigurationError
from soorma_lc.events import AgentDefinition, EventDefinition
from soorma_lc.registry.memory import InMemoryRegistry
from soorma_lc.toolkit import EventToolkit, sanitize_tool_name

# --- 1. building tools --------------------------------------------------------------------

_JSON_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "object": dict[str, Any],
}


def _python_type(prop: dict[str, Any]) -> Any:
    if "enum" in prop:
        return Literal[tuple(prop["enum"])]
    if prop.get("type") == "array":
        return list[_python_type(prop.get("items", {}))]
    return _JSON_TYPES.get(prop.get("type", ""), Any)


def hand_written_tool(event: EventDefinition) -> StructuredTool:
    """What a developer writes per event: a pydantic args model and a publishing function."""
    schema = event.payload_schema or {}
    required = set(schema.get("required", []))
    fields: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        kind = _python_type(prop)
        description = prop.get("description")
        if name in required:
            fields[name] = (kind, Field(..., description=description))
        else:
            fields[name] = (kind | None, Field(prop.get("default"), description=description))
    model: type[BaseModel] = create_model(f"{sanitize_tool_name(event.event_name)}_args", **fields)

    async def publish(**payload: Any) -> str:
        return f"published {event.event_name}"

    return StructuredTool.from_function(
        coroutine=publish,
        name=sanitize_tool_name(event.event_name),
        description=event.description,
        args_schema=model,
    )


def build_ours(events: list[EventDefinition]) -> list[BaseTool]:
    return list(EventToolkit(InMemoryRegistry()).as_tools(events))


def build_by_hand(events: list[EventDefinition]) -> list[BaseTool]:
    return [hand_written_tool(event) for event in events]


def best_time(function: Callable[[], Any], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def retained_bytes(function: Callable[[], Any]) -> int:
    """Bytes still allocated while the result of ``function()`` is alive."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    result = function()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del result
    return after - before


def bench_building(events: list[EventDefinition]) -> None:
    print(f"\n== 1. Build tools for {len(events)} events ==")
    ours_tools, hand_tools = build_ours(events), build_by_hand(events)
    rows = [
        ("build", best_time(lambda: build_ours(events)), best_time(lambda: build_by_hand(events))),
        (
            "bind (to OpenAI dicts)",
            best_time(lambda: [convert_to_openai_tool(t) for t in ours_tools]),
            best_time(lambda: [convert_to_openai_tool(t) for t in hand_tools]),
        ),
    ]
    print(f"{'step':<24}{'EventToolkit':>14}{'by hand':>14}{'speed-up':>10}")
    for step, ours, hand in rows:
        print(f"{step:<24}{ours * 1000:>12.1f}ms{hand * 1000:>12.1f}ms{hand / ours:>9.1f}x")
    ours_mem = retained_bytes(lambda: build_ours(events))
    hand_mem = retained_bytes(lambda: build_by_hand(events))
    print(
        f"{'memory retained':<24}{ours_mem / 2**20:>12.1f}MB{hand_mem / 2**20:>12.1f}MB"
        f"{hand_mem / ours_mem:>9.1f}x"
    )


# --- 2. retrieval quality ----------------------------------------------------------------


async def bench_retrieval(
    events: list[EventDefinition], queries: list[GoalQuery], spec: str, k: int = 10
) -> dict[str, float] | None:
    registry = InMemoryRegistry()
    for event in events:
        await registry.register_event(event)
    names = [event.event_name for event in events]
    await registry.register_agent(
        AgentDefinition(agent_id="all", name="all", consumed_events=names)
    )
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(data_dir=Path(data_dir))
        toolkit = EventToolkit(registry, settings=settings, embeddings=spec)
        await toolkit.discover_events()  # registry read, timed apart from indexing
        try:
            start = time.perf_counter()
            embedded = await toolkit.sync_index()
        except ConfigurationError as exc:
            print(f"{spec:<10} skipped: {exc}")
            return None
        index_seconds = time.perf_counter() - start
        ranks: list[int | None] = []
        latencies = []
        for query in queries:
            start = time.perf_counter()
            selected = await toolkit.select_events(query.text, k=k)
            latencies.append(time.perf_counter() - start)
            found = [e.event_name for e in selected]
            ranks.append(found.index(query.event_name) + 1 if query.event_name in found else None)
        for event in events[:10]:
            await registry.register_event(
                event.model_copy(update={"description": event.description + " Updated."})
            )
        await toolkit.discover_events()
        start = time.perf_counter()
        reembedded = await toolkit.sync_index()
        resync_seconds = time.perf_counter() - start
    result = _metrics(ranks)
    median_ms = statistics.median(latencies) * 1000
    print(
        f"{spec:<10}{result['recall@1']:>10.3f}{result['recall@5']:>10.3f}"
        f"{result['ndcg@10']:>10.3f}{index_seconds:>10.1f}s{median_ms:>9.1f}ms"
        f"   ({embedded} embedded; 10 edited events re-embedded: {reembedded} in "
        f"{resync_seconds * 1000:.0f}ms)"
    )
    for mode in PARAPHRASE_MODES:
        subset = [rank for rank, q in zip(ranks, queries, strict=True) if q.paraphrased == mode]
        part = _metrics(subset)
        label = "action+entity" if mode == "both" else mode
        print(
            f"  {label:<14}{part['recall@1']:>6.3f}{part['recall@5']:>10.3f}"
            f"{part['ndcg@10']:>10.3f}   ({len(subset)} goals rewording the {label})"
        )
    return result


def _metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    return {
        "recall@1": sum(1 for r in ranks if r == 1) / n,
        "recall@5": sum(1 for r in ranks if r is not None and r <= 5) / n,
        "ndcg@10": sum(1 / math.log2(r + 1) for r in ranks if r is not None) / n,
    }


# --- 3. prompt size ----------------------------------------------------------------------


def bench_prompt_size(events: list[EventDefinition]) -> None:
    from litellm.litellm_core_utils.default_encoding import encoding  # cl100k, bundled

    def tokens(text: str) -> int:
        return len(encoding.encode(text))

    toolkit = EventToolkit(InMemoryRegistry())
    tools = toolkit.as_tools(events)
    ours = sum(tokens(json.dumps(convert_to_openai_tool(tool))) for tool in tools)
    descriptors = toolkit.format_for_llm(events)
    soorma_text = tokens(toolkit.format_as_prompt_text(descriptors))
    soorma_json = tokens(json.dumps(descriptors, indent=2))
    fields_text = tokens(toolkit.format_as_prompt_text(descriptors, include_fields=True))
    print(f"\n== 3. Prompt size for {len(events)} events (tiktoken cl100k) ==")
    print(f"our tool definitions (JSON Schema, as bind_tools sends): {ours:>7} tokens")
    print(
        f"Soorma format_as_prompt_text (name + description only): {soorma_text:>7} tokens"
        f"  ours/that = {ours / soorma_text:.2f}"
    )
    print(
        f"Soorma format_for_llm JSON (fields, example, response):  {soorma_json:>7} tokens"
        f"  ours/that = {ours / soorma_json:.2f}"
    )
    print(f"our prompt text with a one-line field summary:          {fields_text:>7} tokens")
    selected = json.dumps([convert_to_openai_tool(t) for t in tools[:5]])
    print(
        f"5 selected tools instead of all 50: {tokens(selected)} tokens "
        f"({ours / tokens(selected):.1f}x fewer)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--queries", type=int, default=1000, help="goal queries to evaluate")
    parser.add_argument("--skip-local", action="store_true", help="skip the MiniLM run")
    parser.add_argument(
        "--retrieval-only", action="store_true", help="run only part 2 (retrieval quality)"
    )
    args = parser.parse_args()
    events, queries = generate(args.seed)
    if not args.retrieval_only:
        bench_building(events)
    print(f"\n== 2. Retrieval: {len(events)} events, {min(args.queries, len(queries))} goals ==")
    print(
        f"{'embedding':<10}{'recall@1':>10}{'recall@5':>10}{'nDCG@10':>10}{'index':>12}"
        f"{'query p50':>25}"
    )
    specs = ["offline"] if args.skip_local else ["offline", "local"]
    for spec in specs:
        await bench_retrieval(events, queries[: args.queries], spec)
    if not args.retrieval_only:
        bench_prompt_size(events[:: len(events) // 50][:50])


if __name__ == "__main__":
    asyncio.run(main())
