"""idempotency-keys: run, then remove; a repeat carries a key made from the task id and score.

Source: the Schedulinator README (gumberss/Schedulinator). Rewritten here in Python;
nothing is copied.

The design
----------
- One sorted set ``{ns}:schedules``: member = task id, score = due time in **integer
  Unix seconds**, the README's representation. The float timestamp is converted the
  way an integer conversion does (truncated), so a task due at x.9 s is eligible from
  x.0 s: it may run up to a second early. That is the design; it is not corrected.
- The README does not say where a task's payload lives. Here: one hash
  ``{ns}:payloads``, field = task id, value = JSON ``{task_type, data, due_at}``
  (``due_at`` is the exact float timestamp, what :class:`Delivery` reports).
  Scheduling writes the payload (``HSET``) and then the set entry (``ZADD``): two
  separate commands, payload first, so an executor never finds an id without it.
- An executor polls ``ZRANGEBYSCORE schedules 0 <int(now)>`` every ``POLL_S`` (100 ms,
  our choice: the README names none; its resolution is one second anyway). Each due
  task it is not already running itself (in-flight ids are tracked locally) is
  started on the pool's ``concurrency`` threads, as many as there are free threads,
  in score order. The handler gets the idempotency key ``f"{task_id}:{score}"``.
  **After** the handler returns, the executor removes the task: ``ZREM`` then
  ``HDEL`` (whether the handler succeeded or raised: the README is silent, so the
  attempt counts; the error is only logged and there is no retry).
- The README does not say how several executors share the set. Simplest reading:
  every executor (every worker process) polls the whole set and runs whatever is
  due. Nothing stops two of them running the same task at once; the key is the only
  protection, and it is for the receiver to use. The testbed's handlers record the
  key, so the report can count repeats that carry it.
- No recurring tasks. Redis outages are waited out by :func:`process.keep_going`.
  ``backlog()`` is the size of the sorted set.

Failure windows
---------------
- Executor crash after the handler started but before ``ZREM``: nothing is lost.
  The task is still in the set, so the next poll of any executor (the same one
  restarted, or another) runs it again, with the same key. A ``ZREM`` that fails
  (Redis unreachable) does the same: the executor forgets the task and its next
  poll runs it again. A lost ``ZREM`` reply after it was applied only leaves
  the payload orphaned (``HDEL`` is skipped).
- Two executors: both see a due task on their polls and both run it (a duplicate
  with the same key), unless one finished and removed it before the other polled.
- Early runs: up to one second before the due time, from the integer score.
- Crash between ``ZREM`` and ``HDEL``: an orphaned payload, never run (harmless).
- Producer crash between ``HSET`` and ``ZADD``: an orphaned payload, the task is
  not scheduled (the producer saw no reply and retries).
- Producer retry of an indeterminate call (same id): the same ``HSET`` and ``ZADD``
  again. Before the task ran nothing changes; if it had already run and been
  removed, it is scheduled again and runs again with the same key (same id and
  same integer score), which the receiver can drop.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from functools import partial
from typing import Any, cast

import redis

from . import process
from .contract import REDIS_DOWN, Delivery, connect

log = logging.getLogger("duetime.chaos.designs.idempotency_keys")

POLL_S = 0.100  # the README names no interval; its scores have one-second resolution
STOP_GRACE_S = 5.0


def schedules_key(namespace: str) -> str:
    return f"{namespace}:schedules"


def payloads_key(namespace: str) -> str:
    return f"{namespace}:payloads"


def score_of(timestamp: float) -> int:
    """The README's integer Unix seconds: truncated, as an integer conversion does."""
    return int(timestamp)


def idempotency_key(task_id: str, score: int) -> str:
    return f"{task_id}:{score}"


class IdempotencyKeysClient:
    rejected: tuple[type[BaseException], ...] = ()

    def __init__(self, url: str, namespace: str) -> None:
        self.redis = connect(url)
        self.namespace = namespace

    def schedule_task(
        self, timestamp: float, data: Any, *, task_type: str, task_id: str, max_attempts: int
    ) -> str:
        payload = {"task_type": task_type, "data": data, "due_at": timestamp}
        self.redis.hset(payloads_key(self.namespace), task_id, json.dumps(payload))
        self.redis.zadd(schedules_key(self.namespace), {task_id: score_of(timestamp)})
        return task_id

    def backlog(self) -> dict[str, int]:
        return {"scheduled": int(self.redis.zcard(schedules_key(self.namespace)))}

    def close(self) -> None:
        self.redis.close()


def client(url: str, namespace: str) -> IdempotencyKeysClient:
    return IdempotencyKeysClient(url, namespace)


class Executor:
    """One executor: polls the whole set, runs what is due, removes each task after its run."""

    def __init__(
        self,
        r: redis.Redis,
        namespace: str,
        handlers: Mapping[str, process.Handler],
        concurrency: int,
        submit: Callable[[Callable[[], None]], object],
    ) -> None:
        self.redis, self.namespace, self.handlers = r, namespace, handlers
        self.concurrency, self.submit = concurrency, submit
        self.lock = threading.Lock()
        self.in_flight: set[str] = set()

    def poll(self, now: float | None = None) -> float:
        """One poll at ``now`` (default: the wall clock); returns the wait before the next."""
        now = time.time() if now is None else now
        key = schedules_key(self.namespace)
        due = self.redis.zrangebyscore(key, 0, score_of(now), withscores=True)
        for member, score in cast("list[tuple[str, float]]", due):
            task_id = str(member)
            with self.lock:
                if len(self.in_flight) >= self.concurrency:
                    break  # no free thread: the rest waits for a later poll
                if task_id in self.in_flight:
                    continue  # this executor is running it already
            raw = self.redis.hget(payloads_key(self.namespace), task_id)
            if raw is None:
                continue  # another executor ran and removed it since our ZRANGEBYSCORE
            with self.lock:
                self.in_flight.add(task_id)
            idem = idempotency_key(task_id, int(score))
            self.submit(partial(self.run, task_id, str(raw), idem))
        return POLL_S

    def run(self, task_id: str, raw: str, key: str) -> None:
        """Send the task (call its handler), then remove it from the set, whatever the outcome."""
        try:
            payload = json.loads(raw)
            task_type = str(payload["task_type"])
            self.handlers[task_type](
                Delivery(
                    task_id=task_id,
                    task_type=task_type,
                    data=payload["data"],
                    due_at=float(payload["due_at"]),
                    idempotency_key=key,
                )
            )
        except Exception:
            log.exception("task %s failed", task_id)
        try:
            self.redis.zrem(schedules_key(self.namespace), task_id)
            self.redis.hdel(payloads_key(self.namespace), task_id)
        except REDIS_DOWN as exc:
            log.warning("removing %s failed, it will run again: %s", task_id, exc)
        finally:
            with self.lock:
                self.in_flight.discard(task_id)


def run_worker(options: process.WorkerOptions, stop: threading.Event) -> None:
    pool = ThreadPoolExecutor(options.concurrency, thread_name_prefix="handler")
    futures: list[Future[None]] = []

    def submit(job: Callable[[], None]) -> object:
        futures[:] = [f for f in futures if not f.done()]
        futures.append(pool.submit(job))
        return futures[-1]

    executor = Executor(
        connect(options.url), options.namespace, options.handlers, options.concurrency, submit
    )
    process.keep_going(stop, POLL_S, executor.poll)
    wait(futures, timeout=STOP_GRACE_S)
    pool.shutdown(wait=False, cancel_futures=True)


def main(argv: Sequence[str] | None = None) -> int:
    prog = "python -m duetime.chaos.designs.idempotency_keys"
    return process.main(argv, prog=prog, run_worker=run_worker)


if __name__ == "__main__":
    raise SystemExit(main())
