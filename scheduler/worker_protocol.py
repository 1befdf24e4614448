"""The worker's protocol with Redis: how it takes tasks, keeps them, and gives them up.

A claimed task is leased: it stays in the ``leases`` set until its holder acks,
fails or releases it, or until the lease expires and another worker claims it.
Each claim issues a fencing token (``Task.token``) from a per-namespace counter
that is never reset, so no two claims of a task, even across ``retry_dead`` or a
task id deleted and scheduled again, share one. Every call below presents the
token, and Redis refuses a call whose token is not the current one, so a worker
that was paused past its lease can no longer change the task. The attempt number
only counts runs against ``max_attempts``; it is not a token.

In a sharded namespace (``Scheduler(shards=N)``) each shard has its own counter: a
task never leaves its shard, and a token is only ever compared with other tokens of
the same task. A claim leases from one shard; ack, renew and release send one call
per shard the leases live on, and fail goes to the task's shard.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import redis

from .errors import CorruptRecord, RefusalLog, is_refusal
from .plural import counted
from .record import Record
from .results import Result
from .settings import TRIM_PER_CALL
from .task import Task, idempotency_key

if TYPE_CHECKING:
    from .client import Scheduler

log = logging.getLogger("duetime.worker_protocol")


Lease = tuple[str, int]
"""(task id, fencing token): what a lease holder presents. One worker may hold two leases
of the same task id (its first run outlived the lease, and it claimed the task again)."""


def lease_of(task: Task) -> Lease:
    """The lease under which ``task`` was claimed."""
    return (task.task_id, task.token)


@dataclass(frozen=True)
class Unreadable:
    """A claimed task the worker cannot read (its id, type or payload): it runs no handler,
    and its holder fails it to the dead letters with ``reason`` (:func:`fail`, no retry).
    ``task_id`` is the id's raw bytes, to give back to Redis as they are."""

    task_id: bytes
    token: int
    reason: str

    @property
    def shown_id(self) -> str:
        """The id for messages: undecodable bytes as escapes."""
        return self.task_id.decode(errors="backslashreplace")


@dataclass(frozen=True)
class Claimed:
    """What one claim returned.

    ``lost``: ids of ``due`` or ``leases`` whose record was gone (eviction, data loss).
    ``quarantined``: ids whose record did not parse; Redis already moved them to the dead
    letters. ``unreadable``: tasks claimed whose id, type or payload Python cannot read.
    ``claim_id``: pass it as the next claim's ``previous``.
    """

    now_ms: int
    next_wake_ms: int | None
    buried: int
    tasks: list[Task]
    lost: int = 0
    quarantined: list[str] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)
    claim_id: str = ""


def read_task(namespace: str, raw_id: bytes, raw_record: bytes) -> Task:
    """The task of one claimed record. Raises :class:`CorruptRecord` if it cannot be read."""
    try:
        tid = raw_id.decode()
    except UnicodeDecodeError as exc:
        raise CorruptRecord(f"unreadable task id: not UTF-8 ({exc})") from None
    r = Record.decode(raw_record)
    return Task(
        task_id=tid,
        task_type=r.task_type,
        data=r.data(),
        attempt=r.attempt,
        max_attempts=r.max_attempts,
        due_at=r.due_ms / 1000,
        idempotency_key=idempotency_key(namespace, tid, r.due_ms),
        token=r.token,
    )


def claim(s: Scheduler, lease_ms: int, limit: int, previous: str = "", shard: int = 0) -> Claimed:
    """Lease up to ``limit`` due tasks (expired leases first) of shard ``shard``, by that
    shard's clock.

    Each call gets a fresh claim id, so a claim the client re-sends after losing its reply
    (redis-py's ``Retry``) returns the leases the first send took rather than leasing a
    second batch that nobody would hold (each of its tasks would lose an attempt).
    ``previous``: the ``claim_id`` of the caller's last claim on this shard, whose memo
    Redis may drop.
    """
    k = s.shard_keys()[shard]
    claim_id = uuid.uuid4().hex
    reply = s.scripts.run(
        "claim",
        [
            k.tasks,
            k.due,
            k.leases,
            k.retrying,
            k.dead,
            k.errors,
            k.fence,
            k.lost,
            k.claims,
            k.claim_memos,
        ],
        [s.now_arg(), lease_ms, limit, claim_id, previous],
    )
    now, wake, buried, lost = int(reply[0]), int(reply[1]), int(reply[2]), int(reply[3])
    quarantined = [i.decode(errors="backslashreplace") for i in reply[4]]
    tasks, unreadable = [], []
    for i in range(5, len(reply), 2):
        try:
            tasks.append(read_task(s.namespace, reply[i], reply[i + 1]))
        except CorruptRecord as exc:
            unreadable.append(Unreadable(reply[i], _token_of(reply[i + 1]), str(exc)))
    return Claimed(
        now, None if wake < 0 else wake, buried, tasks, lost, quarantined, unreadable, claim_id
    )


def _token_of(raw_record: bytes) -> int:
    """The token claim.lua just wrote, read from the header's bytes: the rest may not decode."""
    header = raw_record.partition(b"\n")[0]
    return int(header.rpartition(b"|")[2])


def ack(s: Scheduler, held: Sequence[Lease]) -> list[bool]:
    """Mark tasks done. False for a task whose lease its caller no longer holds."""
    if not held:
        return []
    shards = s.shard_keys()
    out = [False] * len(held)
    for shard, positions in s.by_shard(tid for tid, _ in held).items():
        k = shards[shard]
        args: list[object] = [
            s.now_arg(),
            int(s.retention.done_s * 1000),
            int(s.retention.dead_s * 1000),
            max(TRIM_PER_CALL, 2 * len(positions)),
        ]
        for p in positions:
            args += list(held[p])
        codes = s.scripts.run("ack", [k.tasks, k.leases, k.done, k.errors, k.dead], args)
        for p, c in zip(positions, codes, strict=True):
            out[p] = c == Result.OK
    return out


def fail(
    s: Scheduler, task_id: str | bytes, token: int, error: str, retry_delay_ms: int | None
) -> Result:
    """Record a failure; retry after ``retry_delay_ms``, or bury now when it is None.

    Returns ``Result.OK`` (will retry), ``Result.BURIED`` (dead-lettered) or
    ``Result.REFUSED`` (the caller's lease was taken over).
    """
    k = s.keys_for(task_id)
    code = s.scripts.run(
        "fail",
        [k.tasks, k.due, k.leases, k.retrying, k.dead, k.errors],
        [
            s.now_arg(),
            k.wake,
            task_id,
            token,
            error,
            -1 if retry_delay_ms is None else retry_delay_ms,
            int(s.retention.dead_s * 1000),
            TRIM_PER_CALL,
        ],
    )
    return Result(int(code))


def renew(s: Scheduler, held: Sequence[Lease], lease_ms: int) -> set[Lease]:
    """Extend leases; return those of ``held`` that the caller lost.

    Every shard is sent its leases even when another shard's call fails (its master
    is down): the first such error is raised after the others were renewed."""
    if not held:
        return set()
    shards = s.shard_keys()
    gone: set[Lease] = set()
    failed: redis.RedisError | None = None
    for shard, positions in s.by_shard(tid for tid, _ in held).items():
        k = shards[shard]
        args: list[object] = [s.now_arg(), lease_ms]
        for p in positions:
            args += list(held[p])
        try:
            lost = s.scripts.run("renew", [k.tasks, k.leases], args)
        except redis.RedisError as exc:
            failed = failed or exc
            continue
        gone |= {(lost[i].decode(), int(lost[i + 1])) for i in range(0, len(lost), 2)}
    if failed is not None:
        raise failed
    return gone


def release(s: Scheduler, held: Sequence[Lease]) -> list[bool]:
    """Hand tasks back to run again now, giving back the attempt each claim counted: a
    release is not a failure. False for a lease the caller no longer held."""
    if not held:
        return []
    shards = s.shard_keys()
    out = [False] * len(held)
    for shard, positions in s.by_shard(tid for tid, _ in held).items():
        k = shards[shard]
        args: list[object] = [s.now_arg(), k.wake]
        for p in positions:
            args += list(held[p])
        codes = s.scripts.run("release", [k.tasks, k.due, k.leases], args)
        for p, c in zip(positions, codes, strict=True):
            out[p] = c == Result.OK
    return out


class LeaseKeeper:
    """Renews the leases a worker holds, in one call per round, every third of a lease.

    ``held`` returns a snapshot of (task id, token) pairs; ``on_lost`` is told
    which of them another worker took over (or which were cancelled);
    ``on_renewed`` (if given) every round's leases, those lost, and when it was sent.
    """

    def __init__(
        self,
        scheduler: Scheduler,
        lease_ms: int,
        held: Callable[[], list[Lease]],
        on_lost: Callable[[set[Lease]], None],
        on_renewed: Callable[[list[Lease], set[Lease], float], None] | None = None,
    ) -> None:
        self._s = scheduler
        self._on_renewed = on_renewed
        self._lease_ms = lease_ms
        self._held = held
        self._on_lost = on_lost
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        interval = self._lease_ms / 3000
        refusals = RefusalLog(log, "lease keeper", interval)
        while not self._stop.wait(interval):
            held = self._held()
            if not held:
                continue
            sent = time.monotonic()
            try:
                lost = renew(self._s, held, self._lease_ms)
                refusals.allowed()
            except redis.RedisError as exc:  # keep renewing through Redis outages
                if is_refusal(exc):
                    refusals.refused(exc)
                else:
                    log.warning("could not renew %s: %s", counted(len(held), "lease"), exc)
                continue
            if self._on_renewed is not None:
                self._on_renewed(held, lost, sent)
            if lost:
                self._on_lost(lost)
