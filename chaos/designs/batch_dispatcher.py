"""batch-dispatcher: one central dispatcher moves every due task each round.

Source: a Stack Overflow answer to "Redis-driven scalable task scheduling" (the one
with a central dispatcher and a "to be executed now" list).

The design. A producer adds the serialized task to the sorted set
``{ns}:new_tasks`` scored by its due time. A single dispatcher wakes every
second, reads all due members at once (``ZRANGEBYSCORE new_tasks 0 now``) and, for
each, runs ``MULTI; RPUSH to_be_executed member; ZREM new_tasks member; EXEC``
(no WATCH). Workers ``BLPOP {ns}:to_be_executed``, run the task and ``RPUSH`` a
result onto ``{ns}:results``.

Choices where the source is silent:

- The member is ``json.dumps(..., sort_keys=True)`` of ``data``, ``task_id``,
  ``task_type`` and ``due_at``. There is one run list for all task types; the
  worker picks the handler by the member's ``task_type``.
- The answer reads with ZREVRANGEBYSCORE (seeds/001 lines 55 and 63: latest due
  first); we read the same members with ZRANGEBYSCORE, so the earliest due is pushed
  first. Same members, same round; only the order inside a round differs.
- The dispatcher is a process of its own (``python -m ... dispatcher``, the
  testbed's ``dispatcher-0``): the answer says "A central dispatcher wakes every N
  seconds" (seeds/001 line 55) and gives it its own loop, apart from the workers'
  (lines 61-70 and 72-77). Its clock alone decides due times, so the clock-skew
  fault shifts it. Nothing elects or replaces it: while it is down, no task moves.
  (``worker --dispatch`` also runs it inside a worker, for the benchmark, which
  starts worker processes only.)
- The result is ``{"task_id", "ok", "error"}``; a handler exception is logged,
  reported as ``ok: false`` and the task dropped. Nobody reads ``results`` (the
  answer leaves the response handling out), so it only grows; ``backlog()``
  counts ``new_tasks`` and ``to_be_executed``, not results.
- The answer's second sketch, the "stateless atomic dispatcher" (seeds/001 lines
  78-96), is not implemented: as written it reads the two *latest* members
  (``ZREVRANGE 0 1``) but removes the two *earliest* (``ZREMRANGEBYRANK 0 1``), so it
  cannot be run as the answer gives it; the first sketch is the design.
- No recurring tasks, no attempts, no idempotency keys.

Poll intervals: the dispatcher sleeps ``RESOLUTION_S`` = 1 s between rounds (the
answer's ``sleep(1)``), so a task runs up to ~1 s (plus one round's work) after
its due time. Workers block in BLPOP for ``POP_TIMEOUT_S`` = 1 s at a time so that
a stop is noticed. A Redis outage is waited out in ``REDIS_PAUSE_S`` steps.

Failure windows:

- Producer: ZADD whose reply is lost; the testbed retries with the same task id,
  the member is identical, the set keeps one. If the dispatcher moved the first
  copy before the retry lands, the retry adds it again: the task runs twice.
- Dispatcher dies between ZRANGEBYSCORE and an EXEC: the unmoved members stay in
  the set and are moved when it is back; a member's RPUSH and ZREM go together.
  Nothing is lost, but while the dispatcher is dead or paused no task moves.
- Two dispatchers (an operator starts a second one, e.g. during a partition):
  both read the same due member; with no WATCH both transactions run: the second
  ZREM removes nothing but its RPUSH pushes again. The task runs twice.
- The reply to EXEC is lost: ``connect(url)`` uses ``Redis.from_url`` (Sentinel's
  ``master_for`` on a replicated topology), whose connections get
  ``Retry(NoBackoff(), 0)``, so redis-py 8 closes the connection and raises the
  ``ConnectionError``; nothing is resent. The round stops; the next round finds
  the member gone (applied) or still there (not applied) and moves it once. A
  client built with ``redis.Redis(host=...)`` has three retries by default: its
  pipeline, not WATCHing, resends MULTI..EXEC on a new connection and the RPUSH
  runs twice.
- Worker dies after BLPOP and before the handler finishes: the member is gone from
  the list and nothing else records it. Lost.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import redis

from . import process
from .contract import connect, delivery_from_json

log = logging.getLogger("duetime.chaos.designs.batch_dispatcher")

RESOLUTION_S = 1.0
POP_TIMEOUT_S = 1
REDIS_PAUSE_S = 1.0
STOP_GRACE_S = 5.0


def new_tasks_key(namespace: str) -> str:
    return f"{namespace}:new_tasks"


def run_list_key(namespace: str) -> str:
    return f"{namespace}:to_be_executed"


def results_key(namespace: str) -> str:
    return f"{namespace}:results"


def encode(timestamp: float, data: Any, task_type: str, task_id: str) -> str:
    entry = {"data": data, "task_id": task_id, "task_type": task_type, "due_at": timestamp}
    return json.dumps(entry, sort_keys=True)


class BatchDispatcherClient:
    rejected: tuple[type[BaseException], ...] = ()

    def __init__(self, url: str, namespace: str) -> None:
        self.redis = connect(url)
        self.namespace = namespace

    def schedule_task(
        self, timestamp: float, data: Any, *, task_type: str, task_id: str, max_attempts: int
    ) -> str:
        member = encode(timestamp, data, task_type, task_id)
        self.redis.zadd(new_tasks_key(self.namespace), {member: timestamp})
        return task_id

    def backlog(self) -> dict[str, int]:
        return {
            "new_tasks": int(self.redis.zcard(new_tasks_key(self.namespace))),
            "to_be_executed": int(self.redis.llen(run_list_key(self.namespace))),
        }

    def close(self) -> None:
        self.redis.close()


def client(url: str, namespace: str) -> BatchDispatcherClient:
    return BatchDispatcherClient(url, namespace)


def due_members(r: redis.Redis, namespace: str, now: float | None = None) -> list[str]:
    """Every member due by ``now``, earliest first."""
    found = r.zrangebyscore(new_tasks_key(namespace), 0, time.time() if now is None else now)
    return [str(m) for m in found]


def move(r: redis.Redis, namespace: str, member: str) -> None:
    """MULTI; RPUSH to_be_executed member; ZREM new_tasks member; EXEC (no WATCH)."""
    with r.pipeline(transaction=True) as pipe:
        pipe.rpush(run_list_key(namespace), member)
        pipe.zrem(new_tasks_key(namespace), member)
        pipe.execute()


def dispatch_round(
    r: redis.Redis,
    namespace: str,
    now: float | None = None,
    moved: Callable[[int], None] | None = None,
) -> float:
    """One round of the central dispatcher; returns the sleep before the next."""
    members = due_members(r, namespace, now)
    for member in members:
        move(r, namespace, member)
    if members and moved is not None:
        moved(len(members))
    return RESOLUTION_S


def work_once(r: redis.Redis, options: process.WorkerOptions) -> float:
    """BLPOP the run list once, run what came out, push its result."""
    popped = r.blpop([run_list_key(options.namespace)], timeout=POP_TIMEOUT_S)
    if popped is None:
        return 0.0
    task = delivery_from_json(str(popped[1]))
    result: dict[str, Any] = {"task_id": task.task_id, "ok": True, "error": None}
    try:
        options.handlers[task.task_type](task)
    except Exception as exc:
        log.exception("task %s failed; dropped", task.task_id)
        result.update(ok=False, error=repr(exc))
    r.rpush(results_key(options.namespace), json.dumps(result, sort_keys=True))
    return 0.0


def run_worker(options: process.WorkerOptions, stop: threading.Event) -> None:
    r = connect(options.url)
    steps: list[Callable[[], float | None]] = [
        lambda: work_once(r, options) for _ in range(options.concurrency)
    ]
    if options.dispatch:
        steps.append(lambda: dispatch_round(r, options.namespace))
    process.run_loops(stop, steps, REDIS_PAUSE_S, STOP_GRACE_S)
    r.close()


def run_dispatcher(options: process.DispatcherOptions, stop: threading.Event) -> None:
    """The central dispatcher as a process of its own (the testbed's ``dispatcher-0``)."""
    r = connect(options.url)
    record = process.dispatch_recorder()

    def step() -> float:
        return dispatch_round(r, options.namespace, moved=record)

    process.run_loops(stop, [step], REDIS_PAUSE_S, STOP_GRACE_S)
    r.close()


def main(argv: Sequence[str] | None = None) -> int:
    return process.main(
        argv,
        prog="python -m duetime.chaos.designs.batch_dispatcher",
        run_worker=run_worker,
        run_dispatcher=run_dispatcher,
    )


if __name__ == "__main__":
    raise SystemExit(main())
