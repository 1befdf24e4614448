"""What the testbed needs from a design: a producer client, and what its handlers get."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

import redis

from .redis_client import redis_client

# The reference scheduler's client timeouts (duetime.client), so that no design
# waits longer on a partitioned Redis than another does.
SOCKET_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 2.0
# What a design's loops survive by waiting and trying again: Redis unreachable or slow.
REDIS_DOWN: tuple[type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError)


class DesignClient(Protocol):
    """The producer side of a design.

    ``rejected``: errors that mean the call certainly wrote nothing (the producer
    records ``fail`` and does not retry); any other error is indeterminate and the
    producer retries with the same ``task_id``.
    """

    rejected: tuple[type[BaseException], ...]

    def schedule_task(
        self,
        timestamp: float,
        data: Any,
        *,
        task_type: str,
        task_id: str,
        max_attempts: int,
    ) -> str: ...

    def backlog(self) -> dict[str, int]:
        """Tasks Redis still holds to run, by where they wait (e.g. scheduled, queued)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Delivery:
    """What a design hands to a handler: the fields of ``scheduler.Task`` the chaos
    handlers read (:class:`duetime.chaos.client.handlers.TaskLike`).

    Designs without attempts or keys pass ``attempt=1``, ``max_attempts=1`` (the
    design means to run each task once) and ``idempotency_key=""``.
    """

    task_id: str
    task_type: str
    data: Any
    due_at: float
    attempt: int = 1
    max_attempts: int = 1
    idempotency_key: str = ""


def delivery_from_json(text: str) -> Delivery:
    """A Delivery from a JSON entry with ``task_id``, ``task_type``, ``data`` and ``due_at``
    (how the dispatcher designs serialize a task into their sets and lists)."""
    entry = json.loads(text)
    return Delivery(
        task_id=entry["task_id"],
        task_type=entry["task_type"],
        data=entry["data"],
        due_at=float(entry["due_at"]),
    )


def connect(url: str) -> redis.Redis:
    """A plain redis-py client, as a user of a published design would make one
    (``Redis.from_url``, or Sentinel's ``master_for`` on a replicated topology).

    Either one in redis-py 8 retries nothing: a lost reply reaches the
    design's code as an error (``redis.Redis(host=...)`` would resend up to three
    times, which can repeat an unwatched MULTI/EXEC; see batch_dispatcher).
    """
    return redis_client(
        url,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        decode_responses=True,
    )
