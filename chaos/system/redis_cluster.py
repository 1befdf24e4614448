"""A local Redis Cluster: masters and their replicas on free loopback ports.

Built from Python alone, as ``redis-cli --cluster create`` would: each master takes an
even share of the 16,384 slots (``CLUSTER ADDSLOTS``, or ``ADDSLOTSRANGE`` where the
server has it), every node meets every other (``CLUSTER MEET``), each replica follows
its master (``CLUSTER REPLICATE``), and ``start()`` returns once every node says
``cluster_state:ok`` and every replica's link to its master is up. ``stop()`` ends
every node it started, whatever state they are in.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis
from redis.cluster import RedisCluster

from .redis_server import (
    Persistence,
    RedisServer,
    RedisStartError,
    find_redis_server,
    free_port,
)

SLOTS = 16384
BUS_OFFSET = 10000
# Short, so a SIGKILLed master's replica takes over within a few seconds in tests.
NODE_TIMEOUT_MS = 1000


def cluster_port(host: str = "127.0.0.1") -> int:
    """A free port whose cluster bus port (port + 10000) is a free port too."""
    for _ in range(100):
        port = free_port(host)
        if port + BUS_OFFSET > 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind((host, port + BUS_OFFSET))
            except OSError:
                continue
        return port
    raise RedisStartError("no free port with a free cluster bus port found")


@dataclass
class LocalCluster:
    """``masters`` masters with ``replicas`` replicas each, of the server ``binary``
    (default: ``find_redis_server()``). Use as a context manager, or call ``stop()``."""

    masters: int = 3
    replicas: int = 1
    binary: str = ""
    persistence: Persistence = field(default_factory=lambda: Persistence(aof="off"))
    nodes: list[RedisServer] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        if self.masters < 1 or self.replicas < 0:
            raise ValueError("a cluster needs at least one master and no negative replicas")
        self.binary = self.binary or find_redis_server()

    @property
    def url(self) -> str:
        """A ``redis://`` URL of the first master: duetime detects the cluster from it."""
        return self.nodes[0].url

    @property
    def version(self) -> tuple[int, ...]:
        return self.nodes[0].version

    def client(self, **kwargs: object) -> RedisCluster:
        first = self.nodes[0]
        return RedisCluster(host=first.host, port=first.port, **kwargs)  # type: ignore[arg-type]

    def start(self, timeout: float = 30.0) -> LocalCluster:
        total = self.masters * (1 + self.replicas)
        try:
            for _ in range(total):
                node = RedisServer(
                    self.persistence,
                    port=cluster_port(),
                    binary=self.binary,
                    extra=[
                        "cluster-enabled yes",
                        "cluster-config-file nodes.conf",
                        f"cluster-node-timeout {NODE_TIMEOUT_MS}",
                        # A replica of a master that was SIGKILLed takes over however stale.
                        "cluster-replica-validity-factor 0",
                        # Replicas sync at once, not after the default 5 s wait for others.
                        "repl-diskless-sync-delay 0",
                    ],
                )
                self.nodes.append(node)
                node.start()
            self._build(time.monotonic() + timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _build(self, deadline: float) -> None:
        masters, replicas = self.nodes[: self.masters], self.nodes[self.masters :]
        ids = [str(self._call(n, "CLUSTER", "MYID")) for n in self.nodes]
        for n, node in enumerate(masters):
            lo, hi = n * SLOTS // self.masters, (n + 1) * SLOTS // self.masters - 1
            if node.version >= (7,):
                self._call(node, "CLUSTER", "ADDSLOTSRANGE", lo, hi)
            else:  # Redis 6.2 has no ADDSLOTSRANGE
                self._call(node, "CLUSTER", "ADDSLOTS", *range(lo, hi + 1))
        # Every node meets every other: gossip alone takes seconds to spread the news.
        for node in self.nodes:
            for other in self.nodes:
                if other is not node:
                    self._call(node, "CLUSTER", "MEET", other.host, other.port)
        self._wait(deadline, "every node to know every other", lambda: self._all_known(ids))
        for n, node in enumerate(replicas):
            self._call(node, "CLUSTER", "REPLICATE", ids[n % self.masters])
        self._wait(deadline, "cluster_state:ok and every replica in sync", self._ready)

    def _call(self, node: RedisServer, *command: object) -> Any:
        with redis.Redis(
            host=node.host, port=node.port, socket_timeout=5, decode_responses=True
        ) as admin:
            return admin.execute_command(*command)

    def _info(self, node: RedisServer, section: str) -> dict[str, Any]:
        info = self._call(node, "INFO", section)  # redis-py parses it into a dict
        return {str(k): v for k, v in info.items()}

    def _state_ok(self, node: RedisServer) -> bool:
        return "cluster_state:ok" in str(self._call(node, "CLUSTER", "INFO"))

    def _all_known(self, ids: list[str]) -> bool:
        for node in self.nodes:
            rows = [r.split() for r in str(self._call(node, "CLUSTER", "NODES")).splitlines()]
            known = {r[0] for r in rows if r and "handshake" not in r[2]}
            if not known >= set(ids):
                return False
        return True

    def _ready(self) -> bool:
        for node in self.nodes:
            if not self._state_ok(node):
                return False
            if node in self.nodes[self.masters :]:
                info = self._info(node, "replication")
                if info.get("role") != "slave" or info.get("master_link_status") != "up":
                    return False
        return True

    def _wait(self, deadline: float, what: str, ready: Callable[[], bool]) -> None:
        while time.monotonic() < deadline:
            try:
                if ready():
                    return
            except redis.RedisError:
                pass
            time.sleep(0.05)
        raise RedisStartError(f"local cluster: timed out waiting for {what}")

    def master_of(self, key: str) -> RedisServer:
        """The running master that serves ``key``'s slot now."""
        for node in self.running():
            if self._info(node, "replication").get("role") != "master":
                continue
            slot = int(self._call(node, "CLUSTER", "KEYSLOT", key))
            for row in self._call(node, "CLUSTER", "SLOTS"):
                if int(row[0]) <= slot <= int(row[1]) and int(row[2][1]) == node.port:
                    return node
        raise LookupError(f"no running master serves the slot of {key!r}")

    def running(self) -> list[RedisServer]:
        return [n for n in self.nodes if n.running]

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until every running node says ``cluster_state:ok`` (after a failover)."""

        def ok() -> bool:
            return all(self._state_ok(n) for n in self.running())

        self._wait(time.monotonic() + timeout, "cluster_state:ok on every running node", ok)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
