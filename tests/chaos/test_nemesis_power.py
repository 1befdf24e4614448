"""The power-loss and slow-disk nemeses: Redis's files on the FUSE filesystem, what a strike
keeps under each appendfsync mode, heals, and a clean skip where FUSE is missing.

Tests that mount need FUSE (they skip with the reason otherwise) and redis-server; the
skip tests run everywhere.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from duetime.chaos.client.workload import Workload
from duetime.chaos.history.clock import TestbedClock
from duetime.chaos.history.sink import EventSink
from duetime.chaos.nemesis import NemesisContext, NemesisUnavailable, PowerLoss, SlowDisk
from duetime.chaos.report.live import LiveView
from duetime.chaos.runner import RunRequest, run_scenario
from duetime.chaos.scenario import Scenario
from duetime.chaos.system.backends import power_disk
from duetime.chaos.system.cluster import Cluster, ClusterSettings
from duetime.chaos.system.powerfs import available
from duetime.chaos.system.powerfs.mounts import is_mounted
from duetime.chaos.system.redis_server import Persistence

FUSE, WHY_NOT = available()
needs_fuse = pytest.mark.skipif(not FUSE, reason=f"FUSE is not available here: {WHY_NOT}")

ClusterFactory = Callable[[str], Cluster]


@pytest.fixture
def make_cluster(tmp_path: Path) -> Iterator[ClusterFactory]:
    made: list[Cluster] = []

    def make(aof: str) -> Cluster:
        clock = TestbedClock.anchored_now()
        run_dir = tmp_path / f"run-{len(made)}"
        cluster = Cluster(
            settings=ClusterSettings(workers=0),
            persistence=Persistence(aof=aof),
            run_dir=run_dir,
            sink_dir=run_dir / "sink",
            clock=clock,
            recorder=EventSink(run_dir / "sink" / "cluster.jsonl", "cluster", clock),
        )
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.stop()


def context(cluster: Cluster) -> NemesisContext:
    return NemesisContext(cluster, LiveView(cluster.sink_dir), random.Random(3), threading.Event())


def write_keys(cluster: Cluster, n: int) -> None:
    with redis.Redis.from_url(cluster.client_url) as client:
        for i in range(n):
            client.set(f"k{i}", i)


def keys_left(cluster: Cluster) -> int:
    with redis.Redis.from_url(cluster.client_url) as client:
        return len(client.keys("k*"))


@needs_fuse
@pytest.mark.parametrize(("aof", "kept"), [("always", 50), ("no", 0), ("off", 0)])
def test_power_loss_keeps_only_what_was_fsynced_then_heals(
    make_cluster: ClusterFactory, aof: str, kept: int
) -> None:
    cluster = make_cluster(aof)
    nemesis = PowerLoss()
    nemesis.before_start(cluster)
    assert cluster.disk is not None and cluster.redis.data_dir == cluster.disk.redis_dir
    cluster.start_redis()
    write_keys(cluster, 50)
    fault = nemesis.inject(context(cluster))
    assert fault is not None and fault.targets == ()
    assert not cluster.redis.running
    assert fault.detail["struck_at"] <= cluster.clock.now()
    assert (fault.detail["aof_dropped_bytes"] > 0) == (aof == "no")
    fault.heal()
    assert keys_left(cluster) == kept
    mountpoint = cluster.disk.fs.mountpoint
    cluster.stop()
    assert not is_mounted(mountpoint) and not mountpoint.exists()


@needs_fuse
def test_a_slow_disk_without_a_strike_only_slows_fsync(make_cluster: ClusterFactory) -> None:
    cluster = make_cluster("everysec")
    nemesis = SlowDisk(fsync_delay_s=2.5, then="none")
    nemesis.before_start(cluster)
    cluster.start_redis()
    assert cluster.disk is not None
    fault = nemesis.inject(context(cluster))
    assert fault is not None and fault.detail["struck_at"] is None
    assert cluster.disk.fs.stats().fsync_delay == 2.5 and cluster.redis.running
    fault.heal()
    assert cluster.disk.fs.stats().fsync_delay == 0.0


@needs_fuse
@pytest.mark.slow
def test_a_slow_disk_kill_under_everysec_loses_acknowledged_writes(
    make_cluster: ClusterFactory,
) -> None:
    cluster = make_cluster("everysec")
    nemesis = SlowDisk(fsync_delay_s=3.0, then="kill")
    nemesis.before_start(cluster)
    cluster.start_redis()
    acked: list[int] = []
    halt = threading.Event()

    def writer() -> None:
        client = redis.Redis.from_url(cluster.client_url, socket_timeout=30)
        try:
            i = 0
            while not halt.is_set():
                client.set(f"k{i}", i)
                acked.append(i)
                i += 1
        except redis.RedisError:
            pass  # killed
        finally:
            client.close()

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    fault = nemesis.inject(context(cluster))
    halt.set()
    thread.join(timeout=30)
    assert fault is not None and fault.detail["aimed"], fault.detail
    fault.heal()
    assert keys_left(cluster) < len(acked), "acknowledged writes held in Redis's buffer survived"


def test_power_loss_is_unavailable_without_fuse_and_says_why(
    make_cluster: ClusterFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(power_disk, "available", lambda: (False, "no /dev/fuse here"))
    cluster = make_cluster("everysec")
    for nemesis in (PowerLoss(), SlowDisk()):
        with pytest.raises(NemesisUnavailable, match="no /dev/fuse here"):
            nemesis.before_start(cluster)
    assert cluster.disk is None


def test_a_run_whose_only_faults_need_fuse_is_skipped_without_fuse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(power_disk, "available", lambda: (False, "no /dev/fuse here"))
    scenario = Scenario(
        name="power_only",
        description="A power loss and nothing else.",
        workload=Workload(tasks=5, duration=1.0),
        nemeses=(PowerLoss(),),
    )
    outcome = run_scenario(
        RunRequest(
            scenario=scenario,
            persistence=Persistence(aof="everysec"),
            seed=1,
            out_root=tmp_path,
            command="(test)",
        )
    )
    results = outcome.results
    assert results["status"] == "skipped"
    assert "power_loss" in results["skip_reason"] and "no /dev/fuse here" in results["skip_reason"]
    assert "power_loss: power_loss" not in results["skip_reason"]
    assert results["warnings"] == []  # the reason is said once, in skip_reason
    assert results["checkers"] == {} and results["history_ops"] < 5
    assert "**Skipped**" in (outcome.run_dir / "report.md").read_text()
