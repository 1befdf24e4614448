"""Producers: client threads that schedule the planned tasks and record each call."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from duetime.chaos.history.ops import SCHEDULE
from duetime.chaos.history.sink import EventSink

from .workload import PlannedTask

RETRY_PAUSE_S = 0.25


class SchedulesTasks(Protocol):
    """The part of ``scheduler.Scheduler`` a producer uses."""

    def schedule_task(
        self,
        timestamp: float,
        data: Any,
        *,
        task_type: str,
        task_id: str,
        max_attempts: int,
    ) -> str: ...


class Producer:
    """Schedules its share of the plan on time; retries indeterminate calls with the same id.

    Every call is recorded as ``invoke`` then ``ok`` (acknowledged), ``fail``
    (rejected: certainly not written) or ``info`` (indeterminate: may be written).
    Retrying with the same task id is safe by the scheduler's contract, and a
    later ``ok`` makes the task acknowledged. A task is given up after
    ``give_up_after`` seconds past its due time. ``slot_of``: on a Redis Cluster, the
    slot of the keys a task is written to; the ``ok`` records it as ``slot``, so a
    checker knows which master's failover could take the task.
    """

    def __init__(
        self,
        *,
        scheduler: SchedulesTasks,
        plan: Sequence[PlannedTask],
        sink: EventSink,
        run_start: float,
        task_type: str,
        rejected: tuple[type[BaseException], ...],
        give_up_after: float,
        stop: threading.Event,
        slot_of: Callable[[str], int] | None = None,
    ) -> None:
        self.scheduler = scheduler
        self.plan = plan
        self.sink = sink
        self.run_start = run_start
        self.task_type = task_type
        self.rejected = rejected
        self.give_up_after = give_up_after
        self.stop = stop
        self.slot_of = slot_of

    def run(self) -> None:
        for task in self.plan:
            if self._wait_until(self.run_start + task.send_at):
                return
            self._schedule(task)

    def _wait_until(self, when: float) -> bool:
        """Sleep until ``when`` on the testbed clock; True if asked to stop meanwhile."""
        return self.stop.wait(max(0.0, when - self.sink.clock.now()))

    def _schedule(self, task: PlannedTask) -> None:
        due_at = round(self.run_start + task.due_in, 3)
        task_type = task.task_type or self.task_type
        value = {
            "task_id": task.task_id,
            "task_type": task_type,
            "due_at": due_at,
            "max_attempts": task.max_attempts,
            # fail_attempts >= max_attempts: the task must run out of attempts (doomed).
            "fail_attempts": task.fail_attempts,
        }
        data: Any
        if task.task_type is not None:
            # An application's own task: its payload as given (failures: the fail plan).
            data = task.payload
        else:
            data = {"work_s": task.work_s, "fail_attempts": task.fail_attempts}
            if task.payload_bytes:
                data["filler"] = "x" * task.payload_bytes
        give_up_at = due_at + self.give_up_after
        while not self.stop.is_set():
            self.sink.record("invoke", SCHEDULE, value)
            try:
                self.scheduler.schedule_task(
                    due_at,
                    data,
                    task_type=task_type,
                    task_id=task.task_id,
                    max_attempts=task.max_attempts,
                )
            except self.rejected as exc:
                self.sink.record("fail", SCHEDULE, {**value, "error": repr(exc)})
                return
            except Exception as exc:  # indeterminate: the write may have happened
                self.sink.record("info", SCHEDULE, {**value, "error": repr(exc)})
                if self.sink.clock.now() >= give_up_at or self.stop.wait(RETRY_PAUSE_S):
                    return
                continue
            if self.slot_of is not None:
                value = {**value, "slot": self.slot_of(task.task_id)}
            self.sink.record("ok", SCHEDULE, value)
            return


def start_producers(
    producers: Sequence[Producer], on_crash: Callable[[BaseException], None]
) -> list[threading.Thread]:
    """Start each producer on a daemon thread; a crash is reported, never swallowed."""

    def body(producer: Producer) -> None:
        try:
            producer.run()
        except BaseException as exc:
            on_crash(exc)

    threads = [
        threading.Thread(target=body, args=(p,), name=f"producer-{i}", daemon=True)
        for i, p in enumerate(producers)
    ]
    for t in threads:
        t.start()
    return threads
