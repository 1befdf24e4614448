"""What a worker asked Redis to do with its leases, and whether Redis agreed.

A :class:`Worker` given an ``observer`` calls it once for every lease it got or
presented: each task a claim leased, and each lease it renewed, acknowledged,
failed or handed back, with Redis's answer; and each task it set aside unread
(``quarantine``: the claim found its record unreadable and moved it to the dead
letters; a task whose id, type or payload Python cannot read is a ``fail`` with a
``reason``); and how many task records a claim found gone (``lost``: ids left in
``due`` or ``leases`` whose record Redis no longer has, after an eviction or a restart
that lost data; ``count`` says how many); and keys Redis evicted under a policy the
user allowed (``evicted``). Observers see the protocol from
outside, e.g. a test harness checking that no stale holder was ever let through,
or a metrics exporter counting refused (fenced) state changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .task import Task

LeaseAction = Literal["claim", "renew", "ack", "fail", "release", "quarantine", "lost", "evicted"]


@dataclass(frozen=True)
class LeaseChange:
    """One lease a worker got or presented, and whether Redis accepted the change.

    ``sent_at`` is ``time.monotonic()`` just before the call went to Redis: Redis
    acted on it between then and the moment the observer is called. ``attempt`` is
    set for claims (the run the claim started), 0 otherwise. ``reason`` is set when the
    worker sent the task to the dead letters without running a handler: why it could
    not be read (a ``quarantine`` holds no lease: its token is 0). ``count`` is set for
    ``lost``: how many records the claim found gone, and for ``evicted``: how many keys
    Redis evicted since the worker last looked, under a policy the user allowed (both
    with an empty ``task_id`` and token 0).

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
    reason: str = ""
    count: int = 0
    task: Task | None = None
    claimed_at: float | None = None
    dead_lettered: bool = False


LeaseObserver = Callable[[LeaseChange], None]
