"""What a worker asked Redis to do with its leases, and whether Redis agreed.

A :class:`Worker` given an ``observer`` calls it once for every lease it got or
presented: each task a claim leased, and each lease it renewed, acknowledged,
failed or handed back, with Redis's answer. Observers see the protocol from
outside, e.g. a test harness checking that no stale holder was ever let through,
or a metrics exporter counting refused (fenced) state changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .task import Task

LeaseAction = Literal["claim", "renew", "ack", "fail", "release"]


@dataclass(frozen=True)
class LeaseChange:
    """One lease a worker got or presented, and whether Redis accepted the change.

    ``sent_at`` is ``time.monotonic()`` just before the call went to Redis: Redis
    acted on it between then and the moment the observer is called. ``attempt`` is
    set for claims (the run the claim started), 0 otherwise.

    For claims, ``task`` is the task claimed (None for one whose record cannot be read)
    and ``claimed_at`` the moment Redis leased it, by Redis's clock, in epoch seconds: a
    run starts ``claimed_at - task.due_at`` late. For accepted fails, ``dead_lettered``
    says the task went to the dead letters instead of waiting for a retry.
    """

    action: LeaseAction
    task_id: str
    token: int
    accepted: bool
    sent_at: float
    attempt: int = 0
    task: Task | None = None
    claimed_at: float | None = None
    dead_lettered: bool = False


LeaseObserver = Callable[[LeaseChange], None]
