"""A design whose source has a central dispatcher runs it as a process of its own, and the
clock-skew fault shifts the process that decides due times."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from duetime.chaos.designs import BATCH_DISPATCHER, REFERENCE, WATCH_DISPATCHER, Design
from duetime.chaos.history.clock import TestbedClock
from duetime.chaos.history.sink import EventSink
from duetime.chaos.system.backends import Backend
from duetime.chaos.system.cluster import DISPATCHER_ROLE, Cluster, ClusterSettings
from duetime.chaos.system.redis_server import Persistence


class NoRedis:
    """Nothing is started here: the cluster's plan needs no redis-server (finding one costs 1 s)."""

    def redis(self, *_: Any, **__: Any) -> object:
        return object()


def cluster_of(design: Design, tmp_path: Path) -> Cluster:
    clock = TestbedClock.anchored_now()
    return Cluster(
        settings=ClusterSettings(workers=3),
        persistence=Persistence(aof="off"),
        run_dir=tmp_path,
        sink_dir=tmp_path / "sink",
        clock=clock,
        recorder=EventSink(tmp_path / "sink" / "cluster.jsonl", "cluster", clock),
        design=design,
        backend=cast(Backend, NoRedis()),
    )


def test_the_central_dispatcher_is_its_own_process_and_the_skew_target(tmp_path: Path) -> None:
    cluster = cluster_of(BATCH_DISPATCHER, tmp_path)
    assert ("dispatcher-0", DISPATCHER_ROLE) in cluster.planned_clients()
    assert cluster.due_time_deciders() == ["dispatcher-0"]
    spec = cluster._dispatcher_spec("dispatcher-0")
    assert spec.role == DISPATCHER_ROLE and "dispatcher" in spec.argv


@pytest.mark.parametrize("design", [REFERENCE, WATCH_DISPATCHER])
def test_without_a_dispatcher_process_the_workers_decide(design: Design, tmp_path: Path) -> None:
    cluster = cluster_of(design, tmp_path)
    assert not any(role == DISPATCHER_ROLE for _, role in cluster.planned_clients())
    assert cluster.due_time_deciders() == ["worker-0", "worker-1", "worker-2"]
