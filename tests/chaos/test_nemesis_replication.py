"""Replication nemeses against real Sentinel groups and Clusters: each strike is checked
from outside (the old primary's process is gone, every Sentinel or most Cluster nodes
name the promoted replica, it says ``role:master``, an acknowledged write survives) and
so is each heal (the old primary is back on its port as a replica in sync).

The nemeses get a double of the run's ``Cluster`` (``RunView``): a run wires
``Cluster.replication`` elsewhere, and these tests need only a real topology and a clock.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
import redis
from redis.crc import key_slot

from duetime.chaos.history.clock import TestbedClock
from duetime.chaos.nemesis import (
    FailoverPowerLoss,
    Fault,
    KillPrimary,
    LagReplica,
    NemesisContext,
    NemesisUnavailable,
)
from duetime.chaos.report.live import LiveView
from duetime.chaos.system.cluster import Cluster
from duetime.chaos.system.powerfs import available
from duetime.chaos.system.promotion import Turns, replication_info
from duetime.chaos.system.redis_cluster import SLOTS, LocalCluster
from duetime.chaos.system.redis_server import (
    Persistence,
    RedisNotFound,
    RedisServer,
)
from duetime.chaos.system.sentinel_group import SentinelGroup

FUSE, WHY_NOT = available()
CONTRACT_KEYS = {
    "struck_at",
    "behind_since",
    "old_primary",
    "promoted",
    "promoted_at",
    "promotion_s",
}


@dataclass
class RunView:
    """The part of a run's ``Cluster`` the replication nemeses use."""

    replication: SentinelGroup | LocalCluster | None
    clock: TestbedClock = field(default_factory=TestbedClock.anchored_now)
    topology: str = "replicated"
    node_power_disks: bool = False


class Drawn(random.Random):
    """A random source whose every choice is ``pick``: the test knows which master the
    nemesis strikes, so it can write to that one beforehand."""

    def __init__(self, pick: RedisServer) -> None:
        super().__init__(0)
        self.pick = pick

    def choice(self, seq: Sequence[Any]) -> Any:
        assert self.pick in seq, f"{self.pick.host_port} is not among {seq}"
        return self.pick


def context(view: RunView, tmp_path: Path, rng: random.Random | None = None) -> NemesisContext:
    cluster = cast(Cluster, view)
    return NemesisContext(cluster, LiveView(tmp_path), rng or random.Random(5), threading.Event())


def gone(pid: int | None) -> bool:
    assert pid is not None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def acknowledged_write(server: RedisServer, key: str) -> None:
    """SET ``key`` on ``server`` and wait until a replica has it (``WAIT 1``)."""
    with server.client(socket_timeout=5) as c:
        c.set(key, "kept")
        assert c.wait(1, 5000) >= 1


def value(server: RedisServer, key: str, *, readonly: bool = False) -> bytes | None:
    """GET ``key`` on ``server``; ``readonly``: a Cluster replica (it redirects otherwise)."""
    with server.client(socket_timeout=5) as c:
        if readonly:
            c.execute_command("READONLY")
        got: bytes | None = c.get(key)
        return got


def check_promotion(view: RunView, fault: Fault, old: RedisServer, old_pid: int | None) -> None:
    """The strike happened as the fault's record says."""
    detail = fault.detail
    assert detail.keys() >= CONTRACT_KEYS and fault.targets == ()
    assert gone(old_pid) and not old.running
    assert detail["old_primary"] == old.host_port
    assert detail["promoted"] != old.host_port
    assert detail["struck_at"] < detail["promoted_at"] <= view.clock.now()
    assert detail["promotion_s"] == detail["promoted_at"] - detail["struck_at"]
    assert detail["began_at"] == detail["behind_since"] <= detail["struck_at"]
    group = view.replication
    assert group is not None
    servers = group.servers if isinstance(group, SentinelGroup) else group.nodes
    promoted = next(s for s in servers if s.host_port == detail["promoted"])
    assert replication_info(promoted)["role"] == "master"
    if isinstance(group, SentinelGroup):
        for watcher in group.watchers:
            reply = watcher.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", group.service)
            assert f"{reply[0]}:{reply[1]}" == promoted.host_port


def check_rejoined(old: RedisServer, port: int, primary: str) -> None:
    """The heal brought the old primary back on its port as a replica of ``primary``, the
    primary now (usually the promoted one; on a loaded machine a Sentinel that misses a
    ping of the new primary for a second may fail over once more)."""
    info = replication_info(old)
    assert old.running and old.port == port
    assert info["role"] == "slave" and f"{info['master_host']}:{info['master_port']}" == primary
    assert info["master_link_status"] == "up"


def test_the_nemeses_need_a_replicated_topology() -> None:
    single = cast(Cluster, RunView(None, topology="single"))
    for nemesis in (KillPrimary(), LagReplica(), FailoverPowerLoss()):
        with pytest.raises(NemesisUnavailable, match="topology=replicated or topology=cluster"):
            nemesis.setup(single)
    with pytest.raises(NemesisUnavailable, match="not single"):
        FailoverPowerLoss().before_start(single)
    assert not cast(RunView, single).node_power_disks
    # A group whose nodes were left off the power-loss disks (the request not honoured).
    not_on_disks = cast(Cluster, RunView(SentinelGroup()))
    with pytest.raises(NemesisUnavailable, match="not on power-loss disks"):
        FailoverPowerLoss().setup(not_on_disks)
    with pytest.raises(ValueError, match="lag_s"):
        LagReplica(lag_s=0)


def test_turns_are_granted_in_the_order_asked_for() -> None:
    turns, entered = Turns(), []

    def take(name: str) -> None:
        with turns:
            entered.append(name)

    threads = []
    with turns:
        for n, name in enumerate("abcde"):
            threads.append(threading.Thread(target=take, args=(name,)))
            threads[-1].start()
            deadline = time.monotonic() + 5
            while turns.waiting < n + 2 and time.monotonic() < deadline:
                time.sleep(0.001)
        assert entered == []  # nobody gets in while the turn is held
    for thread in threads:
        thread.join(5)
    assert entered == list("abcde")


def test_kill_primary_promotes_a_replica_every_sentinel_names_and_heals(
    sentinel_group: SentinelGroup, tmp_path: Path
) -> None:
    view = RunView(sentinel_group)
    old = sentinel_group.primary()
    old_pid, port = old.pid, old.port
    acknowledged_write(old, "before")

    fault = KillPrimary().inject(context(view, tmp_path))

    assert fault is not None
    check_promotion(view, fault, old, old_pid)
    assert fault.detail["behind_since"] == fault.detail["struck_at"]
    assert "struck_slots" not in fault.detail  # a Sentinel group's primary holds every key
    promoted = sentinel_group.primary()
    assert value(promoted, "before") == b"kept"
    # Written after the kill: the old primary can only have it from the new one.
    with promoted.client() as c:
        c.set("after", "kept")
    healed = fault.heal()
    check_rejoined(old, port, sentinel_group.primary().host_port)
    assert value(old, "before") == value(old, "after") == b"kept"
    assert healed is not None and healed["rejoined"] == old.host_port
    assert fault.detail["promoted_at"] < healed["rejoined_at"] <= view.clock.now()
    assert healed["primary_at_heal"] == sentinel_group.primary().host_port
    # With no replica left to promote the nemesis does not strike.
    primary = sentinel_group.primary()
    for replica in sentinel_group.replicas_of(primary):
        replica.kill()
    assert KillPrimary().inject(context(view, tmp_path)) is None
    assert primary.running and replication_info(primary)["role"] == "master"


@pytest.mark.slow
def test_kill_primary_in_a_cluster_hands_the_slots_to_the_replica_and_heals(
    local_cluster: LocalCluster, tmp_path: Path
) -> None:
    view = RunView(local_cluster, topology="cluster")
    # A key on each master, acknowledged by its replica: whichever master is drawn has one.
    slots = {
        key_slot(f"k{i}".encode()) * local_cluster.masters // SLOTS: f"k{i}" for i in range(50)
    }
    keys = {local_cluster.master_of(key).host_port: key for key in slots.values()}
    assert len(keys) == local_cluster.masters
    for key in keys.values():
        acknowledged_write(local_cluster.master_of(key), key)
    ctx = context(view, tmp_path)
    pids = {m.host_port: (m, m.pid, m.port) for m in local_cluster.primaries()}

    fault = KillPrimary().inject(ctx)

    assert fault is not None
    old, old_pid, port = pids[fault.detail["old_primary"]]
    check_promotion(view, fault, old, old_pid)
    key = keys[old.host_port]
    # The struck slots hold the struck master's key and no other master's.
    struck = fault.detail["struck_slots"]
    for k in keys.values():
        on_it = any(lo <= key_slot(k.encode()) <= hi for lo, hi in struck)
        assert on_it == (k == key), (k, struck)
    local_cluster.wait_ready()
    assert local_cluster.master_of(key).host_port == fault.detail["promoted"]
    assert value(local_cluster.master_of(key), key) == b"kept"
    # Written after the kill: the old master can only have it from the new one.
    with local_cluster.master_of(key).client() as c:
        c.set(key, "after")
    fault.heal()
    check_rejoined(old, port, local_cluster.master_of(key).host_port)
    assert value(old, key, readonly=True) == b"after"


class Writer:
    """Writes small values to one server, a few hundred a second (a light load, which the
    stopped replicas' kernel buffers would hold whole), until it fails or is stopped;
    keeps the keys the server acknowledged."""

    def __init__(self, server: RedisServer, limit: int, prefix: str = "lag:") -> None:
        self.server, self.limit, self.prefix = server, limit, prefix
        self.acked: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        blob = b"x" * 200
        with self.server.client(socket_timeout=2) as c:
            for i in range(self.limit):
                if self.stop.wait(0.003):
                    return
                try:
                    c.set(f"{self.prefix}{i}", blob)
                except redis.RedisError:
                    return
                self.acked.append(f"{self.prefix}{i}")

    def __enter__(self) -> Writer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)


def test_lag_replica_promotes_a_replica_that_lacks_acknowledged_writes(
    sentinel_group: SentinelGroup, tmp_path: Path
) -> None:
    view = RunView(sentinel_group)
    old = sentinel_group.primary()
    old_pid, port = old.pid, old.port
    acknowledged_write(old, "before")
    with Writer(old, limit=600) as writer:
        fault = LagReplica(lag_s=1.0).inject(context(view, tmp_path))
    assert fault is not None
    check_promotion(view, fault, old, old_pid)
    promoted = sentinel_group.primary()
    assert value(promoted, "before") == b"kept"
    check_lag(fault, promoted, writer, replicas=2)
    fault.heal()
    check_rejoined(old, port, sentinel_group.primary().host_port)


def check_lag(fault: Fault, promoted: RedisServer, writer: Writer, replicas: int) -> None:
    """The replicas were paused, fell behind, and the promoted one lacks acknowledged
    writes the old primary had."""
    detail = fault.detail
    assert detail["behind_since"] < detail["struck_at"]
    assert len(detail["paused"]) == replicas and detail["promoted"] in detail["paused"]
    assert all(offset < detail["old_offset"] for offset in detail["paused_offsets"].values())
    assert detail["lag_bytes"] > 0 and detail["missing_bytes"] > 0
    with promoted.client() as c:
        kept = sum(1 for key in writer.acked if c.exists(key))
    assert len(writer.acked) > 0 and kept < len(writer.acked), "no acknowledged write lost"


@pytest.mark.slow
def test_lag_replica_in_a_cluster_promotes_a_replica_that_lacks_acknowledged_writes(
    local_cluster: LocalCluster, tmp_path: Path
) -> None:
    view = RunView(local_cluster, topology="cluster")
    old = local_cluster.master_of("tag")
    old_pid, port = old.pid, old.port
    with Writer(old, limit=600, prefix="{tag}:lag:") as writer:
        fault = LagReplica(lag_s=1.0).inject(context(view, tmp_path, Drawn(old)))
    assert fault is not None
    check_promotion(view, fault, old, old_pid)
    local_cluster.wait_ready()
    promoted = local_cluster.master_of("tag")
    assert promoted.host_port == fault.detail["promoted"]
    check_lag(fault, promoted, writer, replicas=1)
    fault.heal()
    check_rejoined(old, port, local_cluster.master_of("tag").host_port)


@pytest.fixture
def group_on_power_disks() -> Iterator[SentinelGroup]:
    """A Sentinel group whose servers keep their AOF (``appendfsync no``) on power-loss
    disks: nothing is ever fsynced, so a strike drops all of the primary's AOF."""
    if not FUSE:
        pytest.skip(f"FUSE is not available here: {WHY_NOT}")
    try:
        group = SentinelGroup(persistence=Persistence(aof="no"))
    except RedisNotFound as exc:
        pytest.skip(str(exc))
    view = RunView(None)
    FailoverPowerLoss().before_start(cast(Cluster, view))
    # What the run's Cluster does with the request before it starts the topology.
    assert view.node_power_disks
    group.put_on_power_disks()
    with group:
        yield group


@pytest.mark.slow
def test_failover_power_loss_drops_the_primarys_unsynced_writes_and_fails_over(
    group_on_power_disks: SentinelGroup, tmp_path: Path
) -> None:
    group = group_on_power_disks
    view = RunView(group)
    FailoverPowerLoss().setup(cast(Cluster, view))
    old = group.primary()
    old_pid, port = old.pid, old.port
    acknowledged_write(old, "before")
    disks = {s.host_port: group.disk_of(s) for s in group.servers}
    assert old.data_dir == disks[old.host_port].redis_dir  # type: ignore[union-attr]

    fault = FailoverPowerLoss().inject(context(view, tmp_path))

    assert fault is not None
    check_promotion(view, fault, old, old_pid)
    assert fault.detail["aof_dropped_bytes"] > 0
    # Only the struck primary's disk lost power.
    drops = {hp: d.fs.stats().drops for hp, d in disks.items() if d is not None}
    assert drops == {hp: int(hp == old.host_port) for hp in disks}
    promoted = group.primary()
    assert value(promoted, "before") == b"kept"
    fault.heal()
    check_rejoined(old, port, group.primary().host_port)
    assert value(old, "before") == b"kept"


@pytest.fixture
def cluster_on_power_disks() -> Iterator[LocalCluster]:
    """A Cluster whose first shard keeps its AOF (``appendfsync no``) on power-loss disks."""
    if not FUSE:
        pytest.skip(f"FUSE is not available here: {WHY_NOT}")
    try:
        cluster = LocalCluster(persistence=Persistence(aof="no"))
    except RedisNotFound as exc:
        pytest.skip(str(exc))
    cluster.put_on_power_disks()
    with cluster:
        yield cluster


@pytest.mark.slow
def test_failover_power_loss_in_a_cluster_strikes_the_master_on_a_power_loss_disk(
    cluster_on_power_disks: LocalCluster, tmp_path: Path
) -> None:
    cluster = cluster_on_power_disks
    view = RunView(cluster, topology="cluster")
    FailoverPowerLoss().setup(cast(Cluster, view))
    on_disk = [m for m in cluster.primaries() if cluster.disk_of(m) is not None]
    assert len(on_disk) == 1
    old = on_disk[0]
    old_pid, port = old.pid, old.port
    key = next(f"k{i}" for i in range(1000) if cluster.master_of(f"k{i}") is old)
    acknowledged_write(old, key)

    fault = FailoverPowerLoss().inject(context(view, tmp_path))

    assert fault is not None
    check_promotion(view, fault, old, old_pid)
    assert fault.detail["aof_dropped_bytes"] > 0
    cluster.wait_ready()
    promoted = cluster.master_of(key)
    assert promoted.host_port == fault.detail["promoted"]
    assert value(promoted, key) == b"kept"
    fault.heal()
    check_rejoined(old, port, cluster.master_of(key).host_port)
