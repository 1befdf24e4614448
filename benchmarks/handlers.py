"""Handlers for benchmark worker processes.

``noop`` does nothing. ``lateness`` appends how late it started (ms, by the wall
clock, which is Redis's clock too on one machine) to ``$BENCH_LATENESS_LOG``.
"""

from __future__ import annotations

import os
import time

from scheduler import Task


def noop(task: Task) -> None:
    pass


def lateness(task: Task) -> None:
    late_ms = (time.time() - task.due_at) * 1000
    fd = os.open(os.environ["BENCH_LATENESS_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{task.task_id} {late_ms:.3f}\n".encode())
    finally:
        os.close(fd)


HANDLERS = {"noop": noop, "lateness": lateness}
