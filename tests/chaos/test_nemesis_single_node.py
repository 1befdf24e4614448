"""Faults on the one redis-server are unavailable on a replicated or cluster topology."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from duetime.chaos.config import parse_run_config
from duetime.chaos.history.clock import TestbedClock
from duetime.chaos.history.sink import EventSink
from duetime.chaos.nemesis import (
    FillMemory,
    KillRedis,
    NemesisUnavailable,
    NetworkToxic,
    Partition,
    PoisonRecords,
    PowerLoss,
    SlowDisk,
)
from duetime.chaos.nemesis.base import Nemesis
from duetime.chaos.system.cluster import Cluster, ClusterSettings


def unstarted(tmp_path: Path, label: str) -> Iterator[Cluster]:
    config = parse_run_config(label)
    clock = TestbedClock.anchored_now()
    cluster = Cluster(
        settings=ClusterSettings(),
        persistence=config.persistence,
        run_dir=tmp_path,
        sink_dir=tmp_path / "sink",
        clock=clock,
        recorder=EventSink(tmp_path / "sink" / "cluster.jsonl", "cluster", clock),
        config=config,
    )
    try:
        yield cluster
    finally:
        cluster.stop()


SINGLE_NODE_ONLY: list[tuple[Nemesis, str]] = [
    (KillRedis(), "setup"),
    (FillMemory(), "setup"),
    (NetworkToxic(), "setup"),
    (Partition(), "setup"),
    (PowerLoss(), "before_start"),
    (SlowDisk(), "before_start"),
]


@pytest.mark.parametrize("topology", ["replicated", "cluster"])
@pytest.mark.parametrize(("nemesis", "hook"), SINGLE_NODE_ONLY)
def test_a_single_node_fault_is_unavailable_on_several_nodes(
    tmp_path: Path, topology: str, nemesis: Nemesis, hook: str
) -> None:
    for cluster in unstarted(tmp_path, f"topology={topology},aof=everysec"):
        with pytest.raises(NemesisUnavailable, match=f"topology={topology} has several"):
            getattr(nemesis, hook)(cluster)


def test_on_one_redis_server_the_backstop_lets_the_fault_through(tmp_path: Path) -> None:
    for cluster in unstarted(tmp_path, "aof=everysec"):
        KillRedis().setup(cluster)
        FillMemory().setup(cluster)


def test_poison_records_runs_on_replicated_but_not_on_a_sharded_cluster(tmp_path: Path) -> None:
    for cluster in unstarted(tmp_path / "r", "topology=replicated,aof=everysec"):
        PoisonRecords().setup(cluster)
    for cluster in unstarted(tmp_path / "c", "topology=cluster,aof=everysec"):
        with pytest.raises(NemesisUnavailable, match="shards the namespace"):
            PoisonRecords().setup(cluster)
