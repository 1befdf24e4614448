"""partition_primary against a real Sentinel group with peer links: the cut really cuts
replication and Sentinels (replicas lose their primary, WAIT gets no replica, every
Sentinel names a promoted replica) while the side's client still writes to the old
primary; the heal demotes it and its lone writes are gone (Jepsen's acknowledged write
lost), and the side's client follows the new primary."""

from __future__ import annotations

import random
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
import redis
from replication_helpers import wait_until

from duetime.chaos.history.clock import TestbedClock
from duetime.chaos.history.sink import EventSink
from duetime.chaos.nemesis import NemesisContext, NemesisUnavailable, PartitionPrimary
from duetime.chaos.report.live import LiveView
from duetime.chaos.system.cluster import Cluster, ClusterSettings
from duetime.chaos.system.redis_server import Persistence, RedisServer
from duetime.chaos.system.sentinel_group import SentinelGroup

SIDE = "producer-0"


@dataclass
class ClusterView:
    """What partition_primary reads of a run's cluster, and the URLs it pins."""

    replication: object
    clock: TestbedClock = field(default_factory=TestbedClock.anchored_now)
    pinned: dict[str, str] = field(default_factory=dict)
    peer_links: bool = False

    def pin_url(self, client: str, url: str) -> None:
        self.pinned[client] = url


def as_cluster(view: ClusterView) -> Cluster:
    return cast(Cluster, view)


def context(view: ClusterView, tmp_path: Path) -> NemesisContext:
    return NemesisContext(as_cluster(view), LiveView(tmp_path), random.Random(3), threading.Event())


def replication(server: RedisServer) -> dict[str, Any]:
    with server.client(socket_timeout=2, decode_responses=True) as client:
        return {str(k): v for k, v in client.info("replication").items()}


def test_partition_primary_needs_a_sentinel_group_with_peer_links() -> None:
    nemesis = PartitionPrimary()
    with pytest.raises(NemesisUnavailable, match="topology=replicated"):
        nemesis.setup(as_cluster(ClusterView(replication=None)))
    group = SentinelGroup()
    with pytest.raises(NemesisUnavailable, match="peer_links"):
        nemesis.setup(as_cluster(ClusterView(replication=group)))
    view = ClusterView(replication=None)
    nemesis.before_start(as_cluster(view))
    assert view.peer_links


@pytest.mark.parametrize("side", ["producer-0", ("producer",), ("redis-0",), (0,)])
def test_side_must_name_clients(side: Any) -> None:
    with pytest.raises(ValueError, match="side must be a tuple of client names"):
        PartitionPrimary(side=side)
    assert PartitionPrimary(side=("producer-1", "worker-0")).side == ("producer-1", "worker-0")


def test_a_pinned_client_uses_its_url_and_the_others_keep_theirs(tmp_path: Path) -> None:
    clock = TestbedClock.anchored_now()
    cluster = Cluster(
        settings=ClusterSettings(workers=1),
        persistence=Persistence(aof="off"),
        run_dir=tmp_path,
        sink_dir=tmp_path / "sink",
        clock=clock,
        recorder=EventSink(tmp_path / "sink" / "cluster.jsonl", "cluster", clock),
        producers=2,
    )
    try:
        cluster.client_url = "redis://127.0.0.1:1/0"
        cluster.pin_url(SIDE, "redis://127.0.0.1:2/0")
        assert cluster.url_for(SIDE) == "redis://127.0.0.1:2/0"
        assert cluster.url_for("producer-1") == cluster.url_for("worker-0") == cluster.client_url
    finally:
        cluster.stop()


def side_client(view: ClusterView) -> redis.Redis:
    return redis.Redis.from_url(view.pinned[SIDE], socket_timeout=5, decode_responses=True)


def set_up(linked_group: SentinelGroup) -> tuple[ClusterView, PartitionPrimary]:
    """A run's view of ``linked_group`` and a partition_primary set up on it."""
    view = ClusterView(replication=linked_group)
    nemesis = PartitionPrimary(side=(SIDE,))
    nemesis.setup(as_cluster(view))
    return view, nemesis


def cut_and_check(
    linked_group: SentinelGroup, view: ClusterView, nemesis: PartitionPrimary, tmp_path: Path
) -> Any:
    """Inject and check that the cut cut what it claims; return the fault."""
    old = linked_group.primary()
    with side_client(view) as side:
        assert side.set("before", "1")
        assert side.execute_command("WAIT", 2, 5000) == 2
        fault = nemesis.inject(context(view, tmp_path))
        assert fault is not None
        assert side.set("alone", "1")  # acknowledged by the old primary
        assert side.execute_command("WAIT", 1, 300) == 0
    detail = fault.detail
    assert detail["old_primary"] == old.host_port
    assert detail["struck_at"] == detail["behind_since"] < detail["promoted_at"]
    assert detail["promotion_s"] == pytest.approx(
        detail["promoted_at"] - detail["struck_at"], abs=1e-3
    )
    promoted = next(s for s in linked_group.servers if s.host_port == detail["promoted"])
    assert promoted is not old and replication(promoted)["role"] == "master"
    for watcher in linked_group.watchers:
        named = watcher.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", linked_group.service)
        assert (named[0], int(named[1])) == linked_group.address(promoted)
    assert replication(old)["role"] == "master"
    assert int(replication(old)["connected_slaves"]) == 0
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(linked_group.address(old), timeout=2).close()
    for replica in linked_group.servers:
        if replica is not old and replica is not promoted:
            assert replication(replica)["master_port"] == linked_group.address(promoted)[1]
        if replica is not old:
            with replica.client(socket_timeout=2) as client:
                assert client.get("alone") is None
    return fault


def test_the_cut_isolates_the_primary_and_sentinels_promote_a_replica(
    linked_group: SentinelGroup, tmp_path: Path
) -> None:
    view, nemesis = set_up(linked_group)
    cut_and_check(linked_group, view, nemesis, tmp_path)


@pytest.mark.slow
def test_the_heal_demotes_the_old_primary_and_its_lone_write_is_lost(
    linked_group: SentinelGroup, tmp_path: Path
) -> None:
    view, nemesis = set_up(linked_group)
    old = linked_group.primary()
    fault = cut_and_check(linked_group, view, nemesis, tmp_path)
    healed = fault.heal()
    assert healed is not None and healed["demoted_at"] > fault.detail["promoted_at"]
    info = replication(old)
    assert info["role"] == "slave" and info["master_link_status"] == "up"
    with old.client(socket_timeout=2) as client:
        assert client.get("before") == b"1"
        assert client.get("alone") is None  # acknowledged, then lost
    with side_client(view) as side:
        assert side.set("after", "1")  # the direct link now reaches the new primary
        assert side.execute_command("WAIT", 2, 5000) == 2
    assert linked_group.primary().host_port == fault.detail["promoted"]


def test_the_cut_waits_for_the_turn_another_nemesis_holds(
    linked_group: SentinelGroup, tmp_path: Path
) -> None:
    view, nemesis = set_up(linked_group)
    faults: list[Any] = []
    injecting = threading.Thread(
        target=lambda: faults.append(nemesis.inject(context(view, tmp_path)))
    )
    with linked_group.strikes:  # as a kill_primary strike or heal holds it
        injecting.start()
        wait_until(lambda: linked_group.strikes.waiting == 2, timeout=5)  # the cut asked
        time.sleep(0.3)
        for replica in linked_group.servers[1:]:
            assert replication(replica)["master_link_status"] == "up"  # not cut meanwhile
    injecting.join(60)
    assert faults and faults[0] is not None
    assert faults[0].detail["old_primary"] == linked_group.servers[0].host_port


def test_no_cut_once_the_run_is_ending(linked_group: SentinelGroup, tmp_path: Path) -> None:
    view, nemesis = set_up(linked_group)
    ctx = context(view, tmp_path)
    ctx.stop.set()
    assert nemesis.inject(ctx) is None
    assert int(replication(linked_group.primary())["connected_slaves"]) == 2
