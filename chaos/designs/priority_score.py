"""priority-score: one sorted set scored by a composite of due time and priority; consumers pop.

Source: Nik L., "Mastering Dynamic Task Scheduling with Redis" (DEV Community, seeds/002).
The article gives a scoring formula and a producer/consumer split, not code; this is
the plainest Python reading of it. Its RQ-Scheduler part is covered by RQ in the
benchmark, not here.

The design
----------
- Producers inject each task into one sorted set ``{ns}:tasks`` (seeds/002 line 132,
  "Producers: Entities generating jobs, usually injecting them directly into Redis").
  The member is the task as JSON; its score is the article's composite
  ``effectiveScore = basePriority * (1 / delayTime)^k`` (line 118), so tasks due
  sooner and tasks of higher priority come first.
- Consumers pull the best-scored task (``ZPOPMAX``: line 133, "Agents pulling tasks
  from Redis and carrying out relevant actions") and run it.
- A failed run is retried, a bounded number of times ("Time-bound retries ... Imposing
  reasonable upper bounds", lines 172-174): it is put back until the task's
  ``max_attempts`` runs have failed, then dropped.
- A consumer signals completion back to the producers (line 138) by ``RPUSH``ing
  ``{task_id, ok}`` to ``{ns}:completed``.

Choices where the article is silent
-----------------------------------
- ``delayTime`` is the article's "elapsed duration since last invocation" (line 120);
  a one-shot task has no last invocation, so here it is the time from scheduling to
  the due time (at least ``MIN_DELAY_S``), fixed when the producer adds the task. The
  article says to revise scores as circumstances change (lines 124-126) but gives no
  way to; scores here are never revised.
- ``basePriority`` is the task's ``priority`` field when its data has one, else 1;
  ``k`` = 1 (the article only asks k > 0).
- A consumer runs a popped task only once it is due: the article has no due check,
  and without one every task would run as soon as it is added. A task not yet due is
  put back (``ZADD`` with its score) and the consumer waits ``POLL_S``. Because the
  score is not an order of due times, a due task can wait behind a not-yet-due task
  with a higher score: the design's characteristic failure (late runs, and with a
  steady flow of high scores, starvation).
- ``--concurrency`` consumer threads per worker process, each popping in turn.

Failure windows
---------------
- Consumer killed between ``ZPOPMAX`` and its put-back or its run's end: the task is
  gone from Redis and nothing records it (no acknowledgement): lost.
- A lost ``ZPOPMAX`` reply: the task was removed, nobody runs it: lost.
- Producer retry of an indeterminate call: the member is the same JSON, so the set
  keeps one entry; if a consumer already ran it, it is added and run again.
- A member that is not a task (not JSON, not UTF-8, no due time) is dropped with a
  log line: a persistent error, which the article tells apart from transient ones
  (line 166).
- Early runs: none while clocks agree; the due check uses the consumer's own clock,
  so a consumer whose clock runs ahead runs tasks early.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import redis

from . import process
from .contract import CONNECT_TIMEOUT_S, SOCKET_TIMEOUT_S, Delivery, connect
from .redis_client import redis_client

log = logging.getLogger("duetime.chaos.designs.priority_score")

K = 1.0  # the article: any k > 0
MIN_DELAY_S = 0.001  # delayTime's floor, so that a task due now has a finite score
POLL_S = 0.05  # our choice: how long a consumer waits after putting back a task not yet due
STOP_GRACE_S = 5.0


def tasks_key(namespace: str) -> str:
    return f"{namespace}:tasks"


def completed_key(namespace: str) -> str:
    return f"{namespace}:completed"


def effective_score(base_priority: float, delay_s: float, k: float = K) -> float:
    """The article's ``basePriority * (1 / delayTime)^k``."""
    return float(base_priority * (1.0 / max(delay_s, MIN_DELAY_S)) ** k)


def encode(task_id: str, task_type: str, data: Any, due_at: float, attempt: int, most: int) -> str:
    entry = {
        "task_id": task_id,
        "task_type": task_type,
        "data": data,
        "due_at": due_at,
        "attempt": attempt,
        "max_attempts": most,
    }
    return json.dumps(entry, sort_keys=True)


def priority_of(data: Any) -> float:
    if isinstance(data, Mapping) and isinstance(data.get("priority"), int | float):
        return float(data["priority"])
    return 1.0


class PriorityScoreClient:
    rejected: tuple[type[BaseException], ...] = ()

    def __init__(self, url: str, namespace: str, clock: Callable[[], float] = time.time) -> None:
        self.redis = connect(url)
        self.namespace = namespace
        self.clock = clock

    def schedule_task(
        self, timestamp: float, data: Any, *, task_type: str, task_id: str, max_attempts: int
    ) -> str:
        score = effective_score(priority_of(data), timestamp - self.clock())
        member = encode(task_id, task_type, data, timestamp, 1, max_attempts)
        self.redis.zadd(tasks_key(self.namespace), {member: score})
        return task_id

    def backlog(self) -> dict[str, int]:
        return {"tasks": int(self.redis.zcard(tasks_key(self.namespace)))}

    def close(self) -> None:
        self.redis.close()


def client(url: str, namespace: str) -> PriorityScoreClient:
    return PriorityScoreClient(url, namespace)


class Consumer:
    """One consumer thread: pop the best score, run it if due, else put it back."""

    def __init__(
        self,
        r: redis.Redis,
        namespace: str,
        handlers: Mapping[str, process.Handler],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis, self.namespace, self.handlers, self.clock = r, namespace, handlers, clock

    def step(self) -> float:
        popped = self.redis.zpopmax(tasks_key(self.namespace))
        if not popped:
            return POLL_S
        raw, score = popped[0][0], float(popped[0][1])
        try:
            member = raw.decode() if isinstance(raw, bytes) else str(raw)
            entry = json.loads(member)
            float(entry["due_at"])
        except (ValueError, KeyError, TypeError):
            # A persistent error (the article tells them from transient ones): dropped.
            log.error("dropped a task that is not one: %s", repr(raw)[:200])
            return 0.0
        if float(entry["due_at"]) > self.clock():
            self.redis.zadd(tasks_key(self.namespace), {member: score})
            return POLL_S
        ok = self.run(entry)
        if not ok and int(entry["attempt"]) < int(entry["max_attempts"]):
            again = encode(
                entry["task_id"],
                entry["task_type"],
                entry["data"],
                float(entry["due_at"]),
                int(entry["attempt"]) + 1,
                int(entry["max_attempts"]),
            )
            self.redis.zadd(tasks_key(self.namespace), {again: score})
        result = json.dumps({"task_id": entry["task_id"], "ok": ok}, sort_keys=True)
        self.redis.rpush(completed_key(self.namespace), result)
        return 0.0

    def run(self, entry: Mapping[str, Any]) -> bool:
        task_type = str(entry["task_type"])
        try:
            self.handlers[task_type](
                Delivery(
                    task_id=str(entry["task_id"]),
                    task_type=task_type,
                    data=entry["data"],
                    due_at=float(entry["due_at"]),
                    attempt=int(entry["attempt"]),
                    max_attempts=int(entry["max_attempts"]),
                )
            )
        except Exception:
            log.exception("task %s attempt %s failed", entry["task_id"], entry["attempt"])
            return False
        return True


def connect_raw(url: str) -> redis.Redis:
    """A client whose replies stay bytes: a member that is not UTF-8 is dropped by the
    consumer (:meth:`Consumer.step`), not a crash of its thread."""
    return redis_client(
        url, socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=CONNECT_TIMEOUT_S
    )


def run_worker(options: process.WorkerOptions, stop: threading.Event) -> None:
    r = connect_raw(options.url)
    consumer = Consumer(r, options.namespace, options.handlers)
    steps: list[Callable[[], float | None]] = [consumer.step] * options.concurrency
    process.run_loops(stop, steps, POLL_S, STOP_GRACE_S)
    r.close()


def main(argv: Sequence[str] | None = None) -> int:
    return process.main(
        argv, prog="python -m duetime.chaos.designs.priority_score", run_worker=run_worker
    )


if __name__ == "__main__":
    raise SystemExit(main())
