"""Scale-out: completed plans per second and event latency of the research choreography with
1, 2 and 4 worker processes per role, on one Redis server and on a Redis Cluster.

Every agent is its own process (``soorma-lc run tests/scale_out_agents.py:...``, the agents of
tests/test_cluster_scale_out.py): ``--planners`` planner processes and N worker processes for
each of the three roles (researcher, advisor, validator), so 3N worker processes in all. Each
handler holds its core for ``--cpu-ms`` (parsing, scoring: work that more processes can share)
and then waits ``--wait-ms`` (a remote call: work that one process's concurrent handlers
overlap). Per configuration the benchmark starts a fresh set of processes on an emptied
backend, waits until all have registered, submits ``--goals`` goals at once from this process
and times until the last plan's outcome arrives (each plan: goal, three requests and results,
the answer; four planner decisions).

Printed per configuration: plans/s, the ratio to 1 worker process per role on the same backend,
the ratio of the cluster to the single server at the same process count, the event latency
(p50/p95, from a request's creation to the start of its handler, wall clock), and the CPU time
per completed plan of the planner processes, the worker processes and the redis-servers (from
/proc and INFO cpu): what a capacity model on other hardware starts from. The numbers and a
model of where the limits lie on real hardware are in docs/deployment.md.

Needs Debian's redis-server (7.x) for the cluster: 3 masters with one replica each, on loopback
ports; the single server is the same binary, so the two differ only by the cluster.

    python benchmarks/scale_out.py [--goals 60] [--workers 1,2,4] [--planners 2]
        [--cpu-ms 5] [--wait-ms 0] [--backends single,cluster]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from soorma_lc import Settings
from tests.agent_processes import Processes
from tests.bus_helpers import eventually
from tests.planner_helpers import Stack, research_policy
from tests.redis_cluster import LocalCluster, Node, standalone_server
from tests.scale_out_agents import PLANNER, PLANNER_TARGET, ROLES, WORKER_TARGET

LATENCY_KEY = "bench:scale-out:latency"
SCOPE = {"tenant_id": "acme", "user_id": "alice"}
CPU_KINDS = ("planners", "workers", "redis")


@dataclass
class Result:
    backend: str
    workers: int
    plans_per_second: float
    p50_ms: float
    p95_ms: float
    cpu_ms_per_plan: dict[str, float]
    """CPU time per completed plan of the planner processes, the worker processes and Redis."""


@dataclass
class Backend:
    """A Redis deployment the benchmark empties between configurations."""

    name: str
    url: str
    flush: Callable[[], object]
    nodes: list[Node]

    def cpu_seconds(self) -> float:
        """CPU time used so far by every redis-server of the backend (replicas included)."""
        total = 0.0
        for node in self.nodes:
            with closing(node.client()) as client:
                info = client.info("cpu")
            total += float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
        return total


@contextmanager
def backends(names: list[str], base: Path) -> Iterator[list[Backend]]:
    """The requested backends (same redis-server binary), running until the block ends; only
    those asked for are started."""
    started: list[Backend] = []
    with ExitStack() as running:
        if "single" in names:
            node = running.enter_context(standalone_server(base / "single"))
            single = running.enter_context(node.client())
            url = f"redis://127.0.0.1:{node.port}/0"
            started.append(Backend("single", url, single.flushall, [node]))
        if "cluster" in names:
            cluster = running.enter_context(LocalCluster(base / "cluster"))
            started.append(Backend("cluster", cluster.url, cluster.flush, cluster.nodes))
        yield started


async def run_configuration(
    backend: Backend, workers: int, args: argparse.Namespace, base: Path
) -> Result:
    backend.flush()
    logs = base / f"logs-{backend.name}-{workers}"
    logs.mkdir()
    settings = Settings(redis_url=backend.url, data_dir=base / "data")
    processes = Processes(settings, logs)
    env = {
        "SCALE_OUT_EPISODES": "0",
        "SCALE_OUT_CPU_MS": str(args.cpu_ms),
        "SCALE_OUT_WORK_MS": str(args.wait_ms),
        "SCALE_OUT_LATENCY_KEY": LATENCY_KEY,
    }
    try:
        for n in range(args.planners):
            processes.start(f"planner-{n}", PLANNER_TARGET, **env)
        for role in ROLES:
            for n in range(workers):
                processes.start(f"{role}-{n}", WORKER_TARGET, SCALE_OUT_ROLE=role, **env)
        async with Stack(settings) as stack:
            await eventually(lambda: _registered(stack, args.planners, workers), timeout=180)
            client = stack.planner(research_policy)  # submits goals; never started
            cpu_before = _cpu_seconds(processes, backend)
            started = time.perf_counter()
            outcomes = await asyncio.gather(
                *(
                    client.submit("research.goal", {"topic": f"t{n}"}, timeout=300, **SCOPE)
                    for n in range(args.goals)
                )
            )
            elapsed = time.perf_counter() - started
            cpu_used = {
                kind: seconds - cpu_before[kind]
                for kind, seconds in _cpu_seconds(processes, backend).items()
            }
            failed = [o for o in outcomes if o.status != "completed"]
            if failed:
                raise RuntimeError(f"{len(failed)} plans did not complete: {failed[0]}")
            waits = sorted(float(v) for v in await stack.bus.client.lrange(LATENCY_KEY, 0, -1))
    except BaseException:
        print(processes.tails(), file=sys.stderr)
        raise
    finally:
        processes.stop_all()
    return Result(
        backend.name,
        workers,
        args.goals / elapsed,
        statistics.median(waits),
        waits[int(0.95 * (len(waits) - 1))],
        {kind: 1000 * seconds / args.goals for kind, seconds in cpu_used.items()},
    )


def _cpu_seconds(processes: Processes, backend: Backend) -> dict[str, float]:
    """CPU time so far of the planner processes, the worker processes and the Redis servers."""
    used = {"planners": 0.0, "workers": 0.0, "redis": backend.cpu_seconds()}
    for name, process in processes.running.items():
        kind = "planners" if name.startswith("planner") else "workers"
        used[kind] += _process_cpu_seconds(process.pid)
    return used


def _process_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a running process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _registered(stack: Stack, planners: int, workers: int) -> bool:
    names = [agent.name for agent in await stack.registry.list_agents()]
    return names.count(PLANNER) >= planners and all(names.count(role) >= workers for role in ROLES)


def report(results: list[Result]) -> None:
    baseline = {r.backend: r.plans_per_second for r in results if r.workers == results[0].workers}
    single = {r.workers: r.plans_per_second for r in results if r.backend == "single"}
    print(
        f"{'backend':8} {'workers/role':>12} {'plans/s':>8} {'x 1st':>6} {'x single':>9} "
        f"{'p50 ms':>7} {'p95 ms':>7}   CPU ms per plan: planners, workers, redis"
    )
    for r in results:
        versus_single = (
            f"{r.plans_per_second / single[r.workers]:.2f}x" if r.workers in single else "-"
        )
        print(
            f"{r.backend:8} {r.workers:>12} {r.plans_per_second:>8.1f} "
            f"{r.plans_per_second / baseline[r.backend]:>5.2f}x {versus_single:>9} "
            f"{r.p50_ms:>7.1f} {r.p95_ms:>7.1f}   "
            + ", ".join(f"{r.cpu_ms_per_plan[kind]:.1f}" for kind in CPU_KINDS)
        )


async def main(args: argparse.Namespace) -> None:
    names = args.backends.split(",")
    counts = [int(n) for n in args.workers.split(",")]
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp, backends(names, Path(tmp)) as started:
        for backend in started:
            for workers in counts:
                result = await run_configuration(backend, workers, args, Path(tmp))
                results.append(result)
                print(
                    f"  {backend.name} x{workers}: {result.plans_per_second:.1f} plans/s",
                    flush=True,
                )
    print(
        f"\n{args.goals} goals at once, {args.planners} planner processes, handlers "
        f"{args.cpu_ms} ms CPU + {args.wait_ms} ms wait\n"
    )
    report(results)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--goals", type=int, default=60)
    parser.add_argument("--workers", default="1,2,4", help="worker processes per role")
    parser.add_argument("--planners", type=int, default=2)
    parser.add_argument("--cpu-ms", type=float, default=5.0)
    parser.add_argument("--wait-ms", type=float, default=0.0)
    parser.add_argument("--backends", default="single,cluster")
    asyncio.run(main(parser.parse_args()))
