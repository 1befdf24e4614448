"""watch-dispatcher: dispatchers move one due task at a time, guarded by WATCH.

Source: a Stack Overflow answer to "Redis-driven scalable task scheduling" (the one
that removes the dispatchers' race with WATCH instead of Lua).

The design. A producer adds the task, serialized, to one sorted set
(``{ns}:scheduled``) scored by its due time in epoch seconds. Any number of
dispatchers loop: WATCH the set, read the earliest due member
(``ZRANGEBYSCORE set 0 now LIMIT 0 1``); with nothing due they UNWATCH and sleep;
otherwise ``MULTI; RPUSH <queue> member; ZREM set member; EXEC``. If another
dispatcher touched the set in between, EXEC aborts (``WatchError``) and the loop
starts over. Workers ``BLPOP`` the queue list(s) and run the task.

Choices where the source is silent:

- The member is ``json.dumps(..., sort_keys=True)`` of ``queue`` (the target list's
  key, ``{ns}:queue:{task_type}``), ``data``, ``task_id``, ``task_type`` and
  ``due_at``. The answer pushes only the data; we push the whole member, because
  the handler needs the task id and due time.
- Every worker process runs a dispatcher thread (the registry passes
  ``--dispatch`` to all of them: the answer says "dispatcher(s)", seeds/001 line 26,
  and not where they run). Running inside the workers is what exposes the
  dispatchers to the worker clock-skew fault: a shifted worker's dispatcher moves
  tasks early. Dispatchers use redis-py's pipeline WATCH/MULTI API.
- After a move, the dispatcher loops at once; it sleeps only when nothing is due.
- A handler exception is logged and the task dropped (the answer has no retry).
- No recurring tasks, no attempts, no idempotency keys.

Poll intervals: a dispatcher with nothing due sleeps ``DISPATCH_IDLE_S`` = 1 s, the
answer's value, so a task runs up to ~1 s after its due time (plus the BLPOP
wake-up, which is immediate). Workers block in BLPOP for ``POP_TIMEOUT_S`` = 1 s at
a time (the answer's ``POP_TIMEOUT`` is unspecified) so that a stop is noticed.
A Redis outage is waited out in ``REDIS_PAUSE_S`` steps.

Failure windows:

- Producer: ZADD whose reply is lost. The testbed retries with the same task id;
  the member is byte-identical, so the set keeps one entry (ZADD just rewrites
  the same score). But if a dispatcher already moved the first copy before the
  retry lands, the retry adds it again: the task runs twice.
- Dispatcher dies between WATCH/ZRANGEBYSCORE and EXEC: nothing was written; the
  member stays in the set and another dispatcher moves it. No loss.
- Two dispatchers read the same member: the first EXEC changes the set, so the
  second's EXEC returns nil (``WatchError``). No duplicate.
- The reply to EXEC is lost (connection dropped). ``connect(url)`` builds the
  client with ``Redis.from_url`` (or Sentinel's ``master_for``), whose connections
  get ``Retry(NoBackoff(), 0)``: redis-py 8 does not resend. Its pipeline's
  failure callback closes the connection and, since the pipeline was WATCHing,
  raises ``WatchError`` instead of the ``ConnectionError``. The loop starts over:
  if EXEC was applied the member is gone from the set, if not it is still there;
  either way it is moved once. (Even with retries configured, a WATCHing pipeline
  raises ``WatchError`` on a connection error instead of resending.)
- Worker dies (SIGKILL, OOM) after BLPOP and before the handler finishes: the
  task was removed from the list by BLPOP and nothing else records it. Lost.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import redis
from redis.client import Pipeline

from . import process
from .contract import connect, delivery_from_json

log = logging.getLogger("duetime.chaos.designs.watch_dispatcher")

DISPATCH_IDLE_S = 1.0
POP_TIMEOUT_S = 1
REDIS_PAUSE_S = 1.0
STOP_GRACE_S = 5.0


def scheduled_key(namespace: str) -> str:
    return f"{namespace}:scheduled"


def queue_key(namespace: str, task_type: str) -> str:
    return f"{namespace}:queue:{task_type}"


def encode(namespace: str, timestamp: float, data: Any, task_type: str, task_id: str) -> str:
    entry = {
        "queue": queue_key(namespace, task_type),
        "data": data,
        "task_id": task_id,
        "task_type": task_type,
        "due_at": timestamp,
    }
    return json.dumps(entry, sort_keys=True)


class WatchDispatcherClient:
    rejected: tuple[type[BaseException], ...] = ()

    def __init__(self, url: str, namespace: str) -> None:
        self.redis = connect(url)
        self.namespace = namespace

    def schedule_task(
        self, timestamp: float, data: Any, *, task_type: str, task_id: str, max_attempts: int
    ) -> str:
        member = encode(self.namespace, timestamp, data, task_type, task_id)
        self.redis.zadd(scheduled_key(self.namespace), {member: timestamp})
        return task_id

    def backlog(self) -> dict[str, int]:
        queued = sum(
            int(self.redis.llen(key))
            for key in self.redis.scan_iter(match=queue_key(self.namespace, "*"))
        )
        return {"scheduled": int(self.redis.zcard(scheduled_key(self.namespace))), "queued": queued}

    def close(self) -> None:
        self.redis.close()


def client(url: str, namespace: str) -> WatchDispatcherClient:
    return WatchDispatcherClient(url, namespace)


def read_due(pipe: Pipeline, namespace: str, now: float | None = None) -> str | None:
    """WATCH the set and read its earliest due member (the pipeline stays WATCHing)."""
    key = scheduled_key(namespace)
    pipe.watch(key)  # type: ignore[no-untyped-call]
    found = pipe.zrangebyscore(key, 0, time.time() if now is None else now, start=0, num=1)
    return str(found[0]) if found else None


def move(pipe: Pipeline, namespace: str, member: str) -> None:
    """MULTI; RPUSH the member onto its queue; ZREM it; EXEC. Raises WatchError."""
    pipe.multi()
    pipe.rpush(json.loads(member)["queue"], member)
    pipe.zrem(scheduled_key(namespace), member)
    pipe.execute()


def dispatch_once(r: redis.Redis, namespace: str, now: float | None = None) -> float:
    """One turn of the dispatcher loop; returns how long to sleep before the next."""
    with r.pipeline() as pipe:
        try:
            member = read_due(pipe, namespace, now)
            if member is None:
                pipe.unwatch()
                return DISPATCH_IDLE_S
            move(pipe, namespace, member)
        except redis.WatchError as exc:
            # Another dispatcher changed the set, or the connection died while WATCHing.
            log.info("transaction aborted (%s); trying again", exc)
        return 0.0


def work_once(r: redis.Redis, options: process.WorkerOptions) -> float:
    """BLPOP the handlers' queues once and run what came out."""
    keys = [queue_key(options.namespace, t) for t in options.handlers]
    popped = r.blpop(keys, timeout=POP_TIMEOUT_S)
    if popped is None:
        return 0.0
    task = delivery_from_json(str(popped[1]))
    try:
        options.handlers[task.task_type](task)
    except Exception:
        log.exception("task %s failed; dropped", task.task_id)
    return 0.0


def run_worker(options: process.WorkerOptions, stop: threading.Event) -> None:
    r = connect(options.url)
    steps: list[Callable[[], float | None]] = [
        lambda: work_once(r, options) for _ in range(options.concurrency)
    ]
    if options.dispatch:
        steps.append(lambda: dispatch_once(r, options.namespace))
    process.run_loops(stop, steps, REDIS_PAUSE_S, STOP_GRACE_S)
    r.close()


def main(argv: Sequence[str] | None = None) -> int:
    return process.main(
        argv, prog="python -m duetime.chaos.designs.watch_dispatcher", run_worker=run_worker
    )


if __name__ == "__main__":
    raise SystemExit(main())
