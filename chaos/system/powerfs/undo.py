"""The undo log of one file: how to put it back to its last durable state.

Each change (a write or a truncation) records the bytes it overwrote and the file
size before it, tagged with a sequence number. Undoing the records newest first
restores the file exactly as it was before the oldest one. An fsync that started
when the sequence counter stood at ``mark`` made every change numbered below
``mark`` durable: those records are forgotten, and undoing the rest restores the
state that fsync saw.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class UndoRecord:
    """One change, seen from before it happened."""

    seq: int
    offset: int
    before: bytes
    """The bytes at ``offset`` that the change overwrote (empty when it only extended)."""
    size_before: int
    changed: int
    """How many bytes the change wrote, cut or added: what it counts as pending."""


class UndoLog:
    """The changes made to one file since its last durable state, oldest first."""

    def __init__(self) -> None:
        self._records: deque[UndoRecord] = deque()
        self._last_mark = -1

    def __bool__(self) -> bool:
        return bool(self._records)

    def __len__(self) -> int:
        return len(self._records)

    @property
    def pending_bytes(self) -> int:
        return sum(r.changed for r in self._records)

    @property
    def durable_size(self) -> int | None:
        """The size the file had when it was last durable, or None if nothing is pending."""
        return self._records[0].size_before if self._records else None

    def add(self, record: UndoRecord) -> None:
        """Append a change. Pure extensions that follow each other with no fsync
        starting in between fold into one record: undoing the first of them alone
        already truncates the others away, and no fsync can separate them."""
        last = self._records[-1] if self._records else None
        if (
            last is not None
            and not record.before
            and not last.before
            and last.seq > self._last_mark
            and record.size_before >= last.size_before
        ):
            self._records[-1] = replace(last, changed=last.changed + record.changed)
            return
        self._records.append(record)

    def sync_started(self, mark: int) -> None:
        """An fsync began at ``mark``; later records must stay apart from earlier ones."""
        self._last_mark = max(self._last_mark, mark)

    def make_durable(self, mark: int) -> None:
        """Forget the records numbered below ``mark``: an fsync covering them ended."""
        while self._records and self._records[0].seq < mark:
            self._records.popleft()

    def undo(self, fd: int) -> None:
        """Put the file behind ``fd`` back to its durable state and empty the log."""
        while self._records:
            record = self._records.pop()
            if record.before:
                os.pwrite(fd, record.before, record.offset)
            os.ftruncate(fd, record.size_before)
