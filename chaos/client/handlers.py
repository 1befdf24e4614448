"""Task handlers for chaos workers: they record every execution to the sink.

Workers load them with ``--handlers duetime.chaos.client.handlers:HANDLERS``, and the
reference scheduler's workers also ``--observer duetime.chaos.client.handlers:LEASE_OBSERVER``,
which records every lease state change and Redis's answer (``lease`` ops: ``ok`` when
accepted, ``fail`` when refused, with the fencing token and when it was sent, and the
``reason`` of a task the worker set aside unread: a ``quarantine``, or a ``fail`` whose
task could not be read). Each execution
appends ``invoke execute`` before the work and ``ok execute`` after it (or
``fail execute`` when the task asked to fail this run), so a worker SIGKILLed
mid-task leaves a start without an end: started, not executed.

A task with ``fail_attempts: n`` fails its first ``n`` finished runs, counted
across processes (``fail_plan.fails_now``). An application's own handlers are wrapped
the same way by ``user_handlers``.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, Protocol

from duetime.chaos.history.ops import EXECUTE, LEASE
from duetime.chaos.history.sink import EventSink
from duetime.lease_events import LeaseChange

from .fail_plan import fails_now

TASK_TYPE = "chaos"
CRON_TASK_TYPE = "chaos_cron"


class TaskLike(Protocol):
    """The fields of ``scheduler.Task`` that the handlers read."""

    task_id: str
    task_type: str
    data: Any
    attempt: int
    max_attempts: int
    due_at: float
    idempotency_key: str


class InjectedFailure(RuntimeError):
    """Raised by a handler because the task's data asked this attempt to fail."""


class ExecutionRecorder:
    """Runs a chaos task: records its start, sleeps its ``work_s``, records its end."""

    def __init__(self, sink_factory: Callable[[], EventSink] = EventSink.from_env) -> None:
        self._sink_factory = sink_factory
        self._sink: EventSink | None = None

    @property
    def sink(self) -> EventSink:
        if self._sink is None:
            self._sink = self._sink_factory()
        return self._sink

    def __call__(self, task: TaskLike) -> None:
        data = task.data if isinstance(task.data, Mapping) else {}
        value = self.start(task)
        time.sleep(float(data.get("work_s", 0.0)))
        if fails_now(self.sink.path.parent, task.task_id, int(data.get("fail_attempts", 0))):
            self.fail(
                value, InjectedFailure(f"{task.task_id}: attempt {task.attempt} asked to fail")
            )
        self.sink.record("ok", EXECUTE, value)

    def start(self, task: TaskLike) -> dict[str, Any]:
        """Record that a run of ``task`` starts; returns what its end record repeats."""
        value = {
            "exec_id": uuid.uuid4().hex,
            "task_id": task.task_id,
            "task_type": task.task_type,
            "attempt": task.attempt,
            "max_attempts": task.max_attempts,
            "due_at": task.due_at,
            "idempotency_key": task.idempotency_key,
            # The reference scheduler's fencing token; published designs have none.
            "token": int(getattr(task, "token", 0)),
            # This process's wall clock against the testbed's: the skew really in force.
            "wall_skew_s": round(time.time() - self.sink.clock.now(), 3),
            "pid": os.getpid(),
        }
        self.sink.record("invoke", EXECUTE, value)
        return value

    def fail(self, value: dict[str, Any], error: BaseException) -> NoReturn:
        """Record that the run of ``value`` failed with ``error``, and raise it."""
        self.sink.record("fail", EXECUTE, {**value, "error": repr(error)[:500]})
        raise error


class LeaseRecorder:
    """A worker's lease observer: one ``lease`` op per change, in the worker's sink."""

    def __init__(self, recorder: ExecutionRecorder) -> None:
        self._recorder = recorder

    def __call__(self, change: LeaseChange) -> None:
        sink = self._recorder.sink
        value = {
            "action": change.action,
            "task_id": change.task_id,
            "token": change.token,
            "attempt": change.attempt,
            # CLOCK_MONOTONIC is the testbed clock's base: same clock, same offset.
            "sent": change.sent_at + sink.clock.offset,
        }
        if change.reason:  # set aside unread: moved to the dead letters, no handler ran
            value["reason"] = change.reason
        if change.action in ("lost", "evicted"):  # records gone, keys Redis evicted
            value["count"] = change.count
        sink.record("ok" if change.accepted else "fail", LEASE, value)


# One recorder per worker process: its handlers and its lease observer share its sink.
RECORDER = ExecutionRecorder()
LEASE_OBSERVER = LeaseRecorder(RECORDER)

HANDLERS: dict[str, Callable[[TaskLike], None]] = {
    TASK_TYPE: RECORDER,
    CRON_TASK_TYPE: RECORDER,
}
