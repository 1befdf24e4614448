"""A durable, append-only record of operations, kept outside the Redis under test.

Each writing process owns one JSONL file and appends each operation with a single
``os.write`` on an ``O_APPEND`` descriptor, so a line is either fully in the file
or absent, even when the writer is SIGKILLed right after, and threads of one
process can share the descriptor. Children learn where to write from the
environment the runner gives them.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from .clock import TestbedClock
from .ops import Op, OpType

SINK_DIR_ENV = "CHAOS_SINK_DIR"
PROCESS_NAME_ENV = "CHAOS_PROCESS"


class EventSink:
    """Appends :class:`Op` records for one logical process to one file."""

    def __init__(self, path: Path, process: str, clock: TestbedClock) -> None:
        self.path = path
        self.process = process
        self.clock = clock
        self._fd: int | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> EventSink:
        """The sink of a child process started by the runner."""
        sink_dir = os.environ.get(SINK_DIR_ENV)
        if not sink_dir:
            raise RuntimeError(f"${SINK_DIR_ENV} is not set: run this under the chaos runner")
        process = os.environ.get(PROCESS_NAME_ENV, "process")
        path = Path(sink_dir) / f"{process}-{os.getpid()}.jsonl"
        return cls(path, process, TestbedClock.from_env())

    @staticmethod
    def env(sink_dir: Path, process: str) -> dict[str, str]:
        return {SINK_DIR_ENV: str(sink_dir), PROCESS_NAME_ENV: process}

    def record(self, type: OpType, f: str, value: dict[str, Any] | None = None) -> Op:
        """Append one operation stamped with the testbed clock, and return it."""
        op = Op(type=type, process=self.process, time=self.clock.now(), f=f, value=value or {})
        data = (op.to_json() + "\n").encode()
        with self._lock:
            if self._fd is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.write(self._fd, data)
        return op

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
