"""Exceptions raised by the scheduler. All subclass :class:`SchedulerError`."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence

import redis

ACL_HINT = 'README.md, "Least privilege", lists the ACL each role needs'


class SchedulerError(Exception):
    """Base class of every error the scheduler raises."""


class InvalidInput(SchedulerError, ValueError):
    """The call was rejected before anything was written."""


class ShardsMismatch(InvalidInput):
    """The namespace is stored with another shard count than this Scheduler was given:
    nothing was written. Every producer and worker of a namespace must name the same count
    (or none, to use the stored one); changing it for a namespace that holds data is not
    supported (README: Scaling out)."""

    def __init__(self, namespace: str, stored: int, wanted: int) -> None:
        super().__init__(
            f"namespace {namespace!r} has {stored} shard{'s' if stored != 1 else ''} in "
            f"Redis, but shards={wanted} was asked: every process of a namespace must use "
            f"the same count (leave it out to use the stored one); nothing was written"
        )
        self.namespace = namespace
        self.stored = stored
        self.wanted = wanted


class RedisUnavailable(SchedulerError):
    """Redis could not be reached or did not answer in time.

    For a write, the outcome is unknown: the write may or may not have happened.
    ``task_id`` is set when the call was a ``schedule_task``: retrying with that id
    (and the same time) is safe: it never creates a second task.
    """

    def __init__(self, message: str, *, task_id: str | None = None) -> None:
        super().__init__(message)
        self.task_id = task_id


class NotDurable(RedisUnavailable):
    """The write was made on the primary, but not confirmed by the replicas or the fsyncs
    the ``durability`` setting asks for before its timeout (``WAIT``/``WAITAOF`` answered
    fewer). The outcome is indeterminate: the write stands unless a failover or a crash
    takes it. Retrying with the same ``task_id`` (and time) is safe: it never creates a
    second task. ``task_ids`` lists every id of the call; ``confirmed`` is what Redis
    answered (replicas for ``WAIT``; ``[local, replicas]`` for ``WAITAOF``)."""

    def __init__(self, message: str, *, task_ids: Sequence[str], confirmed: object = None) -> None:
        super().__init__(message, task_id=task_ids[0] if task_ids else None)
        self.task_ids = list(task_ids)
        self.confirmed = confirmed


class TaskNotFound(SchedulerError, KeyError):
    """No task with this id (it never existed, or its record expired)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "task not found"


class InvalidState(SchedulerError):
    """The task exists but is in a state that does not allow the operation."""


class PermissionDenied(SchedulerError):
    """Redis refused the credentials, or a command, key or channel (ACL ``NOPERM``).

    Retrying does not help until the Redis user or its ACL changes.
    """


class RedisFull(SchedulerError):
    """Redis is out of memory (``maxmemory`` under the ``noeviction`` policy) and refused a
    write. Nothing of the refused call was written.

    ``written`` lists the ids a ``schedule_many`` call did store before Redis filled up:
    it writes in chunks of 1,000 tasks, each all or nothing. Workers still drain a full
    Redis (claim, ack, fail, release, renew, cancel and purge run), which frees memory.
    """

    def __init__(self, message: str, *, written: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.written = list(written)


class RedisMisconfigured(SchedulerError):
    """Redis is not one duetime can keep its guarantees on, or refused for a reason only a
    change on its side fixes: an evicting ``maxmemory-policy``, a read-only replica
    (``READONLY``), a Redis Cluster node that does not hold the namespace (``MOVED``), a
    key of the namespace holding another type (``WRONGTYPE``)."""


class CorruptRecord(SchedulerError, ValueError):
    """A task record or recurring-schedule spec in Redis cannot be read: bytes that are not
    UTF-8, a header not in duetime's format, a payload that is not JSON. Restores, manual
    edits or another program put it there. Workers move such tasks to the dead letters
    with the reason, keeping the raw bytes; see ``TaskInfo.unreadable``."""


def is_refusal(exc: BaseException) -> bool:
    """Whether Redis refused ``exc``'s call for want of credentials or permission.

    A refusal inside a script is a plain error reply, so it is known by its text.
    """
    if isinstance(exc, redis.exceptions.NoPermissionError | redis.exceptions.AuthenticationError):
        return True
    return isinstance(exc, redis.ResponseError) and "user executing the script" in str(exc)


class RefusalLog:
    """Logs a refusal once, not on every retry, and once more when it is lifted."""

    def __init__(self, log: logging.Logger, what: str, max_backoff_s: float) -> None:
        self._log = log
        self._what = what
        self._max_backoff_s = max_backoff_s
        self._last: str | None = None

    def refused(self, exc: BaseException) -> None:
        text = str(exc)
        if text != self._last:
            self._last = text
            hint = "" if ACL_HINT in text else f"; {ACL_HINT}"
            said = "" if isinstance(exc, PermissionDenied) else "Redis refused: "
            self._log.error(
                "%s: %s%s (retrying with a backoff of up to %.0fs until it is allowed%s)",
                self._what,
                said,
                text,
                self._max_backoff_s,
                hint,
            )

    def allowed(self) -> None:
        if self._last is not None:
            self._last = None
            self._log.info("%s: Redis allows it again", self._what)


def unreachable(exc: BaseException) -> str:
    """Why Redis could not be reached, in a few words: a refused connection is said as such."""
    if isinstance(exc, RedisUnavailable) and exc.__cause__ is not None:
        exc = exc.__cause__
    text = str(exc).strip()
    if isinstance(exc, ConnectionRefusedError) or "Connection refused" in text:
        return "Connection refused"
    if isinstance(exc, redis.TimeoutError):
        return f"Redis did not answer in time ({text})"
    return f"Redis did not answer ({text})"


class OutageLog:
    """Says once that Redis cannot be reached, then less and less often, and once, at
    INFO, that it answers again.

    A process's threads (a worker's loop, its cron ticker) share one, so an outage
    reads as one story in the log instead of a warning per thread per retry.
    """

    FIRST_GAP_S = 1.0
    MAX_GAP_S = 30.0

    def __init__(
        self,
        log: logging.Logger,
        where: Callable[[], str],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = log
        self._where = where
        self._clock = clock
        self._lock = threading.Lock()
        self._since: float | None = None
        self._gap = self.FIRST_GAP_S
        self._next_line = 0.0

    def failed(self, exc: BaseException) -> None:
        """A call failed because Redis could not be reached."""
        with self._lock:
            now = self._clock()
            if self._since is None:
                self._since, self._gap = now, self.FIRST_GAP_S
                self._log.warning(
                    "waiting for Redis at %s: %s; retrying", self._where(), unreachable(exc)
                )
            elif now >= self._next_line:
                self._gap = min(self.MAX_GAP_S, self._gap * 2)
                self._log.warning(
                    "still waiting for Redis at %s after %.0fs: %s; retrying",
                    self._where(),
                    now - self._since,
                    unreachable(exc),
                )
            else:
                return
            self._next_line = now + self._gap

    def recovered(self) -> None:
        """A call reached Redis."""
        with self._lock:
            if self._since is not None:
                self._log.info(
                    "reconnected to Redis at %s after %.1fs",
                    self._where(),
                    self._clock() - self._since,
                )
                self._since = None


# A Cluster between a master's failure and its replica's promotion: transient, like an outage.
_CLUSTER_IN_FLUX = (
    redis.exceptions.ClusterDownError,
    redis.exceptions.TryAgainError,
    redis.exceptions.SlotNotCoveredError,
)


def library_error(
    what: str, exc: redis.RedisError, task_ids: Sequence[str] = ()
) -> SchedulerError | None:
    """The library error for redis-py's ``exc`` raised by the call ``what``, or None when it
    is none of those duetime names. Scripts pass a command's error on inside their own
    ("Error running script ... -OOM ..." on 6.2), so errors are known by text too."""
    text = str(exc)
    # AuthenticationError is a ConnectionError: it must not read "did not answer, retry".
    if isinstance(exc, redis.AuthenticationError) or "WRONGPASS" in text:
        return PermissionDenied(
            f"{what}: Redis refused the credentials (authentication failed): {exc}. "
            f"Check the user name and password"
        )
    if is_refusal(exc):
        return PermissionDenied(f"{what}: Redis refused it: {exc}. {ACL_HINT}")
    if isinstance(exc, (redis.ConnectionError, redis.TimeoutError, *_CLUSTER_IN_FLUX)):
        hint = ""
        if task_ids:
            hint = (
                f"; the task may or may not have been scheduled: retry with "
                f"task_id={task_ids[0]!r} and the same time, it never creates a second task"
            )
        reason = unreachable(exc)
        if str(exc) not in reason:
            reason = f"{reason} ({exc})"
        return RedisUnavailable(
            f"{what}: {reason}{hint}",
            task_id=task_ids[0] if task_ids else None,
        )
    if isinstance(exc, redis.exceptions.OutOfMemoryError) or "OOM command not allowed" in text:
        return RedisFull(
            f"{what}: Redis is out of memory (maxmemory reached, policy noeviction) and "
            f"refused the write; nothing was written. Free memory or raise maxmemory "
            f"(workers still drain a full Redis). Redis said: {exc}"
        )
    if isinstance(exc, redis.exceptions.ReadOnlyError) or "READONLY" in text:
        return RedisMisconfigured(
            f"{what}: this Redis is a read-only replica; connect to the primary. Redis said: {exc}"
        )
    if isinstance(exc, redis.exceptions.MovedError) or text.startswith("MOVED"):
        return RedisMisconfigured(
            f"{what}: this Redis is a Redis Cluster node that does not hold the namespace "
            f"(every key of a namespace is on the slot of its hash tag); connect to the node "
            f"Redis names. Redis said: {exc}"
        )
    if "WRONGTYPE" in text:
        return RedisMisconfigured(
            f"{what}: a key of the namespace holds a value of another type: another program "
            f"or a manual edit wrote it (every duetime key is dt:{{namespace}}:<name>). "
            f"Redis said: {exc}"
        )
    return None


@contextlib.contextmanager
def redis_errors(what: str, task_ids: Sequence[str] = ()) -> Iterator[None]:
    """Turn redis-py's errors into library errors: connection errors into
    :class:`RedisUnavailable`, bad credentials and ACL ``NOPERM`` into
    :class:`PermissionDenied`, OOM into :class:`RedisFull`, ``READONLY``, ``MOVED`` and
    ``WRONGTYPE`` into :class:`RedisMisconfigured`. Others pass unchanged."""
    try:
        yield
    except redis.RedisError as exc:
        mapped = library_error(what, exc, task_ids)
        if mapped is None:
            raise
        raise mapped from exc
