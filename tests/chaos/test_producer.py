"""What a producer records for each schedule call's outcome."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from duetime import InvalidInput, NotDurable
from duetime.chaos.client.producer import Producer
from duetime.chaos.client.workload import PlannedTask
from duetime.chaos.history.clock import TestbedClock
from duetime.chaos.history.sink import EventSink
from duetime.chaos.history.sink_reader import read_sink


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
