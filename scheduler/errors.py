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


class RedisUnavailable(SchedulerError):
    """Redis could not be reached or did not answer in time.

    For a write, the outcome is unknown: the write may or may not have happened.
    ``task_id`` is set when the call was a ``schedule_task``: retrying with that id
    (and the same time) is safe: it never creates a second task.
    """

    def __init__(self, message: str, *, task_id: str | None = None) -> None:
        super().__init__(message)
        self.task_id = task_id


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


@contextlib.contextmanager
def redis_errors(what: str, task_ids: Sequence[str] = ()) -> Iterator[None]:
    """Turn redis-py's connection errors into :class:`RedisUnavailable`, and refusals
    (bad credentials, ACL ``NOPERM``) into :class:`PermissionDenied`."""
    try:
        yield
    except redis.RedisError as exc:
        if is_refusal(exc):
            raise PermissionDenied(f"{what}: Redis refused it: {exc}. {ACL_HINT}") from exc
        if not isinstance(exc, redis.ConnectionError | redis.TimeoutError):
            raise
        hint = ""
        if task_ids:
            hint = (
                f"; the task may or may not have been scheduled: retry with "
                f"task_id={task_ids[0]!r} and the same time, it never creates a second task"
            )
        reason = unreachable(exc)
        if str(exc) not in reason:
            reason = f"{reason} ({exc})"
        raise RedisUnavailable(
            f"{what}: {reason}{hint}",
            task_id=task_ids[0] if task_ids else None,
        ) from exc
