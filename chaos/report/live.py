"""What the runner knows while a run is going, from tailing the sink."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from duetime.chaos.history.ops import EXECUTE, SCHEDULE, Op
from duetime.chaos.history.sink_reader import SinkTail


@dataclass(frozen=True)
class OpenExecution:
    task_id: str
    process: str
    start: float


@dataclass(frozen=True)
class Progress:
    """Counts for the progress display and the drain decision."""

    invoked: int
    acked: int
    indeterminate: int
    executed: int
    acked_pending: int
    running: int
    executions: int


class LiveView:
    """Folds newly appended operations into counts; safe to share between threads."""

    def __init__(self, sink_dir: Path) -> None:
        self._tail = SinkTail(sink_dir)
        self._lock = threading.Lock()
        self._invoked: set[str] = set()
        self._acked: set[str] = set()
        self._info: set[str] = set()
        self._executed: set[str] = set()
        self._executions = 0
        self._open: dict[str, OpenExecution] = {}
        self._ops: list[Op] = []

    def refresh(self) -> None:
        with self._lock:
            for op in self._tail.poll():
                self._fold(op)

    def _fold(self, op: Op) -> None:
        self._ops.append(op)
        if op.f == SCHEDULE:
            task_id = str(op.value["task_id"])
            if op.type == "invoke":
                self._invoked.add(task_id)
            elif op.type == "ok":
                self._acked.add(task_id)
            elif op.type == "info":
                self._info.add(task_id)
        elif op.f == EXECUTE:
            exec_id = str(op.value["exec_id"])
            if op.type == "invoke":
                self._open[exec_id] = OpenExecution(str(op.value["task_id"]), op.process, op.time)
            else:
                self._open.pop(exec_id, None)
                if op.type == "ok":
                    self._executions += 1
                    self._executed.add(str(op.value["task_id"]))

    def progress(self) -> Progress:
        with self._lock:
            return Progress(
                invoked=len(self._invoked),
                acked=len(self._acked),
                indeterminate=len(self._info - self._acked),
                executed=len(self._executed & self._invoked),
                acked_pending=len(self._acked - self._executed),
                running=len(self._open),
                executions=self._executions,
            )

    def running_in(self, process: str, since: float) -> list[OpenExecution]:
        """Handler runs in ``process`` that started after ``since`` and have not ended."""
        with self._lock:
            return [e for e in self._open.values() if e.process == process and e.start >= since]

    def ops(self) -> list[Op]:
        with self._lock:
            return list(self._ops)
