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
import json
import re
from dataclasses import dataclass
from typing import Any

from .errors import CorruptRecord


class Status(str, enum.Enum):
    """Where a task is in its life."""

    SCHEDULED = "P"
    RUNNING = "R"
    RETRYING = "Y"
    DONE = "D"
    DEAD = "X"
    CANCELLED = "C"
    UNREADABLE = "?"
    """Never stored: what admin calls report for a record they cannot read."""


# The header as record.lua's parse reads it; task types cannot contain "|", so a sixth
# field can only be the token (records from before tokens have none).
_HEADER = re.compile(r"([A-Z])\|([0-9]+)\|([0-9]+)\|([0-9]+)\|([^|\n]*)(?:\|([0-9]*))?")
_STORED = frozenset(s.value for s in Status if s is not Status.UNREADABLE)


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
        """Parse a stored record, in the current format or the one without a token.

        Raises :class:`CorruptRecord` saying why when it cannot (the payload is not
        parsed: see :meth:`data`).
        """
        try:
            text = raw.decode() if isinstance(raw, bytes) else raw
        except UnicodeDecodeError as exc:
            raise CorruptRecord(f"unreadable record: not UTF-8 ({exc})") from None
        header, newline, payload = text.partition("\n")
        m = _HEADER.fullmatch(header)
        if not newline or m is None or m[1] not in _STORED:
            shown = header[:80] + ("..." if len(header) > 80 else "")
            raise CorruptRecord(
                f"unreadable record: header {shown!r} is not "
                f"'status|attempt|max_attempts|due_ms|task_type|token' with a known status"
            )
        status, attempt, max_attempts, due_ms, task_type, token = m.groups()
        return cls(
            Status(status),
            int(attempt),
            int(max_attempts),
            int(due_ms),
            task_type,
            payload,
            int(token) if token else 0,
        )

    def data(self) -> Any:
        """The payload, parsed. Raises :class:`CorruptRecord` if it is not JSON."""
        try:
            return json.loads(self.payload)
        except (ValueError, RecursionError) as exc:
            raise CorruptRecord(f"unreadable payload: not valid JSON ({exc})") from None

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
