"""Handlers for worker processes started by the tests.

Each appends JSON lines (``start`` before running, ``end`` after) to the file
named by ``$RECORDING_LOG``. ``O_APPEND`` writes survive a SIGKILL of the worker.
Payload keys: ``sleep`` (seconds), ``fail_attempts`` (fail while attempt <= n).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from duetime import Task


def _write(event: str, task: Task) -> None:
    line = (
        json.dumps(
            {
                "event": event,
                "task_id": task.task_id,
                "attempt": task.attempt,
                "pid": os.getpid(),
                "time": time.time(),
                "due_at": task.due_at,
                "key": task.idempotency_key,
            }
        )
        + "\n"
    )
    fd = os.open(os.environ["RECORDING_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def record(task: Task) -> None:
    _write("start", task)
    data: Any = task.data or {}
    if data.get("sleep"):
        time.sleep(float(data["sleep"]))
    if task.attempt <= int(data.get("fail_attempts", 0)):
        _write("fail", task)
        raise RuntimeError(f"planned failure on attempt {task.attempt}")
    _write("end", task)


async def record_async(task: Task) -> None:
    record(task)


HANDLERS = {"record": record, "record_async": record_async}
