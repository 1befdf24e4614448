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
from typing import TYPE_CHECKING, Any

import redis
from redis.cluster import RedisCluster

from .node_disks import NodeDisks
from .promotion import (
    Clock,
    Pause,
    Promotion,
    Rejoin,
    Strike,
    Turns,
    no_retry,
    pause,
    replica_in_sync,
    role,
    strike_and_wait,
    wait_for,
)
from .redis_server import (
    Persistence,
    RedisServer,
    RedisStartError,
    find_redis_server,
    free_port,
)

if TYPE_CHECKING:
    from .backends.power_disk import PowerDisk

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
    # Nodes (by index: masters first, then replicas) whose files sit on a power-loss disk.
    disks: NodeDisks = field(default_factory=NodeDisks, init=False)
    # Held by a replication nemesis for a whole strike and for a whole heal, so faults of
    # several nemeses never interleave their steps on one topology.
    strikes: Turns = field(default_factory=Turns, init=False, repr=False)

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
            for index in range(total):
                node = RedisServer(
                    self.persistence,
                    port=cluster_port(),
                    binary=self.binary,
                    data_dir=self.disks.data_dir(index),
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
            host=node.host,
            port=node.port,
            socket_timeout=5,
            decode_responses=True,
            retry=no_retry(),
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

    def primaries(self) -> list[RedisServer]:
        """The running nodes that say ``role:master`` now."""
        return [n for n in self.running() if role(n) == "master"]

    def replicas_of(self, primary: RedisServer) -> list[RedisServer]:
        """The running nodes that ``CLUSTER NODES`` on ``primary`` lists as its replicas."""
        mine = self._view(primary)
        me = next(row for row in mine if "myself" in row.flags)
        ports = {row.port for row in mine if row.master == me.id}
        return [n for n in self.running() if n.port in ports]

    def kill_primary(
        self,
        primary: RedisServer | None = None,
        *,
        clock: Clock = time.time,
        strike: Strike = RedisServer.kill,
        timeout: float = 30.0,
    ) -> Promotion:
        """Strike the master ``primary`` (default: the first running master; SIGKILL unless
        ``strike`` says otherwise) and wait until ``CLUSTER NODES`` on a majority of the
        nodes gives its slots to one of its replicas, which says ``role:master`` and
        ``cluster_state:ok``."""
        old = primary or self.primaries()[0]
        rows = self._view(old)
        me = next(row for row in rows if "myself" in row.flags)
        if "master" not in me.flags or not me.slots:
            raise ValueError(f"{old.host_port} is not a master holding slots")
        slot = me.slots[0][0]
        heirs = {row.id: row.port for row in rows if row.master == me.id}
        if not heirs:
            raise ValueError(f"{old.host_port} has no replica to promote")
        majority = len(self.nodes) // 2 + 1

        def promoted() -> RedisServer | None:
            votes: dict[str, int] = {}
            for node in self.running():
                owner = _owner(self._view(node), slot)
                if owner is not None:
                    votes[owner] = votes.get(owner, 0) + 1
            winner = [i for i, n in votes.items() if i in heirs and n >= majority]
            if not winner:
                return None
            new = next(n for n in self.nodes if n.port == heirs[winner[0]])
            return new if role(new) == "master" and self._state_ok(new) else None

        return strike_and_wait(old, strike, clock, promoted, timeout, slots=me.slots)

    def rejoin(
        self, node: RedisServer, *, clock: Clock = time.time, timeout: float = 60.0
    ) -> Rejoin:
        """Start a killed ``node`` again on its port (its ``nodes.conf`` keeps its id) and
        wait until it is a replica of the master that took its slots, caught up, and a
        majority of the nodes see it up."""
        node.start(timeout=min(timeout, 60.0))
        majority = len(self.nodes) // 2 + 1
        followed: list[RedisServer] = []

        def rejoined() -> bool:
            if role(node) != "slave":
                return False
            rows = self._view(node)
            me = next(row for row in rows if "myself" in row.flags)
            master = next(row for row in rows if row.id == me.master)
            leader = next(n for n in self.nodes if n.port == master.port)
            if not replica_in_sync(node, leader) or node not in self.replicas_of(leader):
                return False
            followed.append(leader)
            seen = 0
            for other in self.running():
                row = next((r for r in self._view(other) if r.id == me.id), None)
                if row is not None and "slave" in row.flags and "fail" not in row.flags:
                    seen += 1
            return seen >= majority and self._state_ok(node)

        wait_for(f"{node.host_port} to rejoin as a replica in sync", rejoined, timeout)
        return Rejoin(node, followed[-1], clock())

    def put_on_power_disks(self) -> None:
        """Before ``start()``: the nodes of the first shard (its master and replicas, each
        of which may become its master) keep their files on power-loss disks of their own.
        One shard, not all: each disk is a FUSE process. Raises ``PowerDiskUnavailable``."""
        if self.nodes:
            raise RuntimeError("put the nodes on power-loss disks before the cluster starts")
        self.disks.attach(range(0, self.masters * (1 + self.replicas), self.masters))

    def disk_of(self, node: RedisServer) -> PowerDisk | None:
        """The power-loss disk under ``node``'s files, if any."""
        return self.disks.disk(self.nodes.index(node))

    def pause_replicas(self, primary: RedisServer, *, clock: Clock = time.time) -> Pause:
        """SIGSTOP every replica of the master ``primary``; ``Pause.resume()`` sends SIGCONT."""
        return pause(self.replicas_of(primary), clock)

    def _view(self, node: RedisServer) -> list[NodeRow]:
        """``CLUSTER NODES`` as ``node`` sees it."""
        text = str(self._call(node, "CLUSTER", "NODES"))
        return [NodeRow.parse(line) for line in text.splitlines() if line.strip()]

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        self.disks.unmount()

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class NodeRow:
    """One line of ``CLUSTER NODES``: id, port, flags, master id (``-``: none), slot ranges."""

    id: str
    port: int
    flags: frozenset[str]
    master: str
    slots: tuple[tuple[int, int], ...]

    @classmethod
    def parse(cls, line: str) -> NodeRow:
        fields = line.split()
        address = fields[1].split("@")[0]
        ranges = []
        for item in fields[8:]:
            if item.startswith("["):  # a slot being migrated or imported
                continue
            lo, _, hi = item.partition("-")
            ranges.append((int(lo), int(hi or lo)))
        return cls(
            id=fields[0],
            port=int(address.rsplit(":", 1)[1]),
            flags=frozenset(fields[2].split(",")),
            master=fields[3],
            slots=tuple(ranges),
        )


def _owner(rows: list[NodeRow], slot: int) -> str | None:
    """The id of the master, not failed, that ``rows`` give ``slot`` to."""
    for row in rows:
        up = "master" in row.flags and not {"fail", "fail?"} & row.flags
        if up and any(lo <= slot <= hi for lo, hi in row.slots):
            return row.id
    return None
