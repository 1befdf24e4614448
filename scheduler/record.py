"""The stored form of a task, shared by the Python side and the Lua scripts.

A task is one field of the ``tasks`` hash. Its value is a header line and the
JSON payload: ``status|attempt|max_attempts|due_ms|task_type`` ``\\n`` ``payload``.
The Lua scripts rewrite the header and never parse the payload, so a payload
reaches the handler byte for byte as the producer wrote it. ``json.dumps`` never
emits a raw newline, so the first newline always ends the header.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Status(str, enum.Enum):
    """Where a task is in its life."""

    SCHEDULED = "P"
    RUNNING = "R"
    RETRYING = "Y"
    DONE = "D"
    DEAD = "X"
    CANCELLED = "C"


@dataclass(frozen=True)
class Record:
    """A decoded task record."""

    status: Status
    attempt: int
    max_attempts: int
    due_ms: int
    task_type: str
    payload: str

    @classmethod
    def decode(cls, raw: bytes | str) -> Record:
        text = raw.decode() if isinstance(raw, bytes) else raw
        header, _, payload = text.partition("\n")
        status, attempt, max_attempts, due_ms, task_type = header.split("|", 4)
        return cls(Status(status), int(attempt), int(max_attempts), int(due_ms), task_type, payload)

    @staticmethod
    def new(max_attempts: int, due_ms: int, task_type: str, payload: str) -> str:
        """The encoded record of a task not yet run (``encode`` of a fresh Record)."""
        return f"P|0|{max_attempts}|{due_ms}|{task_type}\n{payload}"

    def encode(self) -> str:
        return (
            f"{self.status.value}|{self.attempt}|{self.max_attempts}|{self.due_ms}|"
            f"{self.task_type}\n{self.payload}"
        )
