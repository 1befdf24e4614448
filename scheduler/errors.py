"""Exceptions raised by the scheduler. All subclass :class:`SchedulerError`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import redis


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


@contextlib.contextmanager
def redis_errors(what: str, task_ids: Sequence[str] = ()) -> Iterator[None]:
    """Turn redis-py's connection errors into :class:`RedisUnavailable`."""
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as exc:
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
