"""What a producer records for each schedule call's outcome."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from redis.crc import key_slot

from duetime import InvalidInput, NotDurable, Scheduler
from duetime.chaos.client.producer import Producer
from duetime.chaos.client.workload import PlannedTask
from duetime.chaos.designs.reference import ReferenceClient
from duetime.chaos.history.clock import TestbedClock
from duetime.chaos.history.sink import EventSink
from duetime.chaos.history.sink_reader import read_sink
from duetime.chaos.system.redis_cluster import LocalCluster


class NeverDurable:
    """A scheduler whose writes are never confirmed on a replica in time."""

    def schedule_task(self, timestamp: float, data: Any, **kw: Any) -> str:
        raise NotDurable("WAIT 1: 0 replicas in 1 s", task_ids=[kw["task_id"]])


def test_a_write_not_confirmed_durable_is_indeterminate_not_acknowledged(tmp_path: Path) -> None:
    clock = TestbedClock.anchored_now()
    sink = EventSink(tmp_path / "producer-0.jsonl", "producer-0", clock)
    task = PlannedTask(
        task_id="t-1",
        producer=0,
        send_at=0.0,
        due_in=0.0,
        work_s=0.01,
        max_attempts=3,
        fail_attempts=0,
    )
    Producer(
        scheduler=NeverDurable(),
        plan=[task],
        sink=sink,
        # Due a second ago (due_at is rounded to the millisecond, which could put it
        # after the first try): past give_up_after, so the first indeterminate reply ends it.
        run_start=clock.now() - 1.0,
        task_type="chaos",
        rejected=(InvalidInput,),
        give_up_after=0.0,
        stop=threading.Event(),
    ).run()
    sink.close()
    outcomes = [op.type for op in read_sink(tmp_path) if op.f == "schedule"]
    assert outcomes == ["invoke", "info"]


def planned(n: int) -> list[PlannedTask]:
    """``n`` tasks due in an hour (nobody runs them here)."""
    return [
        PlannedTask(f"t-{i}", 0, 0.0, 3600.0, 0.01, max_attempts=3, fail_attempts=0)
        for i in range(n)
    ]


@pytest.mark.parametrize("redis_server", ["cluster"], indirect=True)
def test_on_a_cluster_the_recorded_slot_is_the_one_that_holds_the_task(
    redis_server: LocalCluster, tmp_path: Path
) -> None:
    namespace = f"slots-{uuid.uuid4().hex[:8]}"
    client = ReferenceClient(Scheduler.from_url(redis_server.url, namespace=namespace, shards=3))
    clock = TestbedClock.anchored_now()
    sink = EventSink(tmp_path / "producer-0.jsonl", "producer-0", clock)
    try:
        Producer(
            scheduler=client,
            plan=planned(30),
            sink=sink,
            run_start=clock.now(),
            task_type="chaos",
            rejected=(InvalidInput,),
            give_up_after=5.0,
            stop=threading.Event(),
            slot_of=client.slot_of,
        ).run()
    finally:
        sink.close()
        client.close()
    recorded = {
        op.value["task_id"]: op.value["slot"] for op in read_sink(tmp_path) if op.type == "ok"
    }
    # Where the Cluster itself holds each task: the slot of the hash that has its record.
    held = {}
    with redis_server.client(decode_responses=True) as cluster:
        for key in cluster.scan_iter(match=f"dt:{{{namespace}*}}:tasks"):
            held.update({task_id: key_slot(key.encode()) for task_id in cluster.hkeys(key)})
    assert len(recorded) == 30
    assert recorded == held
    assert len(set(recorded.values())) == 3


def test_without_slot_of_no_slot_is_recorded(tmp_path: Path) -> None:
    class Accepts:
        def schedule_task(self, timestamp: float, data: Any, **kw: Any) -> str:
            return str(kw["task_id"])

    clock = TestbedClock.anchored_now()
    sink = EventSink(tmp_path / "producer-0.jsonl", "producer-0", clock)
    Producer(
        scheduler=Accepts(),
        plan=planned(2),
        sink=sink,
        run_start=clock.now(),
        task_type="chaos",
        rejected=(InvalidInput,),
        give_up_after=5.0,
        stop=threading.Event(),
    ).run()
    sink.close()
    oks = [op.value for op in read_sink(tmp_path) if op.type == "ok"]
    assert len(oks) == 2 and all("slot" not in value for value in oks)
