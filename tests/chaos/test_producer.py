"""What a producer records for each schedule call's outcome."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from redis.crc import key_slot

from duetime import InvalidInput, NotDurable, Scheduler
from duetime.chaos.client.producer import Producer, SchedulesTasks
from duetime.chaos.client.workload import PlannedTask
from duetime.chaos.designs.reference import ReferenceClient
from duetime.chaos.history.clock import TestbedClock
from duetime.chaos.history.ops import Op
from duetime.chaos.history.sink import EventSink
from duetime.chaos.history.sink_reader import read_sink
from duetime.chaos.system.redis_cluster import LocalCluster


class NeverDurable:
    """A scheduler whose writes are never confirmed on a replica in time."""

    def schedule_task(self, timestamp: float, data: Any, **kw: Any) -> str:
        raise NotDurable("WAIT 1: 0 replicas in 1 s", task_ids=[kw["task_id"]])


def produce(
    scheduler: SchedulesTasks,
    plan: list[PlannedTask],
    tmp_path: Path,
    *,
    late_s: float = 0.0,
    give_up_after: float = 5.0,
    slot_of: Callable[[str], int] | None = None,
) -> list[Op]:
    """Run one producer over ``plan`` (started ``late_s`` ago); the ops it recorded."""
    clock = TestbedClock.anchored_now()
    sink = EventSink(tmp_path / "producer-0.jsonl", "producer-0", clock)
    try:
        Producer(
            scheduler=scheduler,
            plan=plan,
            sink=sink,
            run_start=clock.now() - late_s,
            task_type="chaos",
            rejected=(InvalidInput,),
            give_up_after=give_up_after,
            stop=threading.Event(),
            slot_of=slot_of,
        ).run()
    finally:
        sink.close()
    return [op for op in read_sink(tmp_path) if op.f == "schedule"]


def planned(n: int, due_in: float = 3600.0) -> list[PlannedTask]:
    """``n`` tasks due ``due_in`` seconds after the start (nobody runs them here)."""
    return [
        PlannedTask(f"t-{i}", 0, 0.0, due_in, 0.01, max_attempts=3, fail_attempts=0)
        for i in range(n)
    ]


def test_a_write_not_confirmed_durable_is_indeterminate_not_acknowledged(tmp_path: Path) -> None:
    # Due a second ago (due_at is rounded to the millisecond, which could put it after
    # the first try): past give_up_after, so the first indeterminate reply ends it.
    ops = produce(NeverDurable(), planned(1, due_in=0.0), tmp_path, late_s=1.0, give_up_after=0.0)
    assert [op.type for op in ops] == ["invoke", "info"]


@pytest.mark.parametrize("redis_server", ["cluster"], indirect=True)
def test_on_a_cluster_the_recorded_slot_is_the_one_that_holds_the_task(
    redis_server: LocalCluster, tmp_path: Path
) -> None:
    namespace = f"slots-{uuid.uuid4().hex[:8]}"
    client = ReferenceClient(Scheduler.from_url(redis_server.url, namespace=namespace, shards=3))
    try:
        ops = produce(client, planned(30), tmp_path, slot_of=client.slot_of)
    finally:
        client.close()
    recorded = {op.value["task_id"]: op.value["slot"] for op in ops if op.type == "ok"}
    # Where the Cluster itself holds each task: the slot of the hash that has its record.
    held = {}
    with redis_server.client(decode_responses=True) as cluster:
        for key in cluster.scan_iter(match=f"dt:{{{namespace}*}}:tasks"):
            held.update({task_id: key_slot(key.encode()) for task_id in cluster.hkeys(key)})
    assert len(recorded) == 30
    assert recorded == held
    assert len(set(recorded.values())) == 3


class Accepts:
    """A scheduler that acknowledges every call."""

    def schedule_task(self, timestamp: float, data: Any, **kw: Any) -> str:
        return str(kw["task_id"])


def test_without_slot_of_no_slot_is_recorded(tmp_path: Path) -> None:
    oks = [op.value for op in produce(Accepts(), planned(2), tmp_path) if op.type == "ok"]
    assert len(oks) == 2 and all("slot" not in value for value in oks)
