"""What handlers receive, and what ``Scheduler.get`` returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .record import Status


@dataclass(frozen=True)
class Task:
    """One execution of a task, as handed to its handler.

    ``attempt`` counts from 1. ``due_at`` is the time the task was scheduled for,
    in epoch seconds (a retry keeps it). ``idempotency_key`` is the same on every
    attempt of the same task and due time: use it to make side effects exactly-once
    downstream. ``token`` is this execution's fencing token: no other execution of any
    task of the namespace gets the same one, and later claims get larger ones, so a
    downstream store can refuse writes from an execution older than the last it saw.
    """

    task_id: str
    task_type: str
    data: Any
    attempt: int
    max_attempts: int
    due_at: float
    idempotency_key: str
    token: int = 0


@dataclass(frozen=True)
class TaskInfo:
    """A task's state. ``run_at`` is when it will next run, if it is waiting.

    ``unreadable`` says why the record (status :attr:`Status.UNREADABLE`, the other fields
    empty) or its payload (``data`` None) cannot be read, and ``raw`` holds the record's
    bytes as Redis has them; both are None for a record that reads.
    """

    task_id: str
    task_type: str
    status: Status
    attempts: int
    max_attempts: int
    due_at: float
    run_at: float | None
    last_error: str | None
    data: Any
    unreadable: str | None = None
    raw: bytes | None = None


@dataclass(frozen=True)
class Stats:
    """Counts of one namespace, taken atomically.

    ``due``: ready to run now. ``scheduled``: waiting for a later time. Tasks waiting
    for a retry are in one of those two and are also counted in ``retrying``.
    ``in_flight``: held by a worker. ``dead``: in the dead-letter set. ``done``:
    finished or cancelled records not yet expired. ``lost``: ids a worker found in ``due``
    or ``leases`` whose record was gone (eviction or data loss), since the namespace began.
    """

    scheduled: int
    due: int
    in_flight: int
    retrying: int
    dead: int
    done: int
    lost: int = 0


def idempotency_key(namespace: str, task_id: str, due_ms: int) -> str:
    return f"{namespace}/{task_id}@{due_ms}"
