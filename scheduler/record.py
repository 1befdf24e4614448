"""The stored form of a task, shared by the Python side and the Lua scripts.

A task is one field of the ``tasks`` hash. Its value is a header line and the
JSON payload: ``status|attempt|max_attempts|due_ms|task_type|token`` ``\\n`` ``payload``.
``token`` is the fencing token of the task's latest claim (0 before the first); records
written before tokens existed have no such field and decode with token 0.
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
    token: int = 0

    @classmethod
    def decode(cls, raw: bytes | str) -> Record:
        """Parse a stored record, in the current format or the one without a token."""
        text = raw.decode() if isinstance(raw, bytes) else raw
        header, _, payload = text.partition("\n")
        # Task types cannot contain "|", so a sixth field can only be the token.
        status, attempt, max_attempts, due_ms, task_type, *token = header.split("|", 5)
        return cls(
            Status(status),
            int(attempt),
            int(max_attempts),
            int(due_ms),
            task_type,
            payload,
            int(token[0]) if token and token[0] else 0,
        )

    @staticmethod
    def new(max_attempts: int, due_ms: int, task_type: str, payload: str) -> str:
        """The encoded record of a task not yet run (``encode`` of a fresh Record)."""
        return f"P|0|{max_attempts}|{due_ms}|{task_type}|0\n{payload}"

    def encode(self) -> str:
        """The stored form, always in the current format (with the token)."""
        return (
            f"{self.status.value}|{self.attempt}|{self.max_attempts}|{self.due_ms}|"
            f"{self.task_type}|{self.token}\n{self.payload}"
        )
