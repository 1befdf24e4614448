"""Exceptions raised by the scheduler. All subclass :class:`SchedulerError`."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence

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
    is safe, it never creates a second task.
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
                f"task_id={task_ids[0]!r}, it never creates a second task"
            )
        raise RedisUnavailable(
            f"{what}: Redis did not answer ({exc}){hint}",
            task_id=task_ids[0] if task_ids else None,
        ) from exc
