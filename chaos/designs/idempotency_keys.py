"""idempotency-keys: Schedulinator's sorted set, claimed by negating the score, removed on success.

Source: the Schedulinator README (seeds/003) and, where the README is silent, the
project's own code (gumberss/Schedulinator: its execution Lua script and controller).
Rewritten here in Python; nothing is copied.

The design
----------
- One sorted set ``{ns}:schedules``: member = task id, score = due time in whole Unix
  seconds ("the Unix Timestamp or another integer-based date representation",
  seeds/003 line 5). A task's payload is a string key ``{ns}:task_{id}``; scheduling
  writes the set entry and the payload in one MULTI/EXEC (the project's insert does
  ``MULTI; ZADD; SET; EXEC``).
- An executor round is one Lua script (``idempotency_keys_claim.lua``): it reads Redis
  ``TIME``, takes ``ZRANGEBYSCORE schedules 0 <now> LIMIT 0 5`` and negates each taken
  member's score (``ZADD schedules -score id``): the lock of the project's code, so two
  executors never take the same task. The round's tasks run concurrently and the round
  waits for all of them (the project awaits them together). Each handler gets the
  idempotency key ``f"{task_id}:{score}"`` (seeds/003 line 56, "a unique identifier
  generated deterministically based on the score", and the figure "Resend the request
  with the task score and ID as the idempotency key", line 59).
- After a **successful** run the task is removed (``MULTI; ZREM; DEL payload; EXEC``).
  The project updates the set only on HTTP 200 (it moves a recurring task to its next
  score); our tasks are one-shot, so success removes it instead. After a failed run
  nothing is written: the task stays locked with its negated score, as in the
  project's code, whose failure branch is a ``todo: retry``.

Choices where the source is silent
----------------------------------
- Fractional due times are rounded **up** to the whole second: the README's scores are
  whole seconds and its examples never early; rounding up keeps a task from running
  before its time (it may run up to a second late instead). Truncation would run it
  up to a second early, a fault of our conversion, not of the design.
- Each worker process is ``callers`` (default 1) concurrent callers of a round, each
  starting a round ``POLL_S`` (100 ms) after its last one ended. The project runs a
  round per call of its execution endpoint and says nothing of who calls it how
  often. One caller keeps at most 5 tasks in flight per process (the project's
  ``LIMIT 0 5``), near the 4 handler threads the testbed gives the other designs;
  ``--concurrency`` is ignored. A round ends when its slowest task ends (the project
  awaits them together), so one caller can fall behind the load. ``--param
  callers=N`` takes more at once, and a killed executor then locks more of them
  (kill_workers, seed 1, runs here: 30 and 46 lost with 1 caller, lateness p99 7.1 s
  and 2.0 s; 58 lost with 4, p99 1.0 s; the counts vary from run to run with timing).
- ``backlog()`` counts unlocked entries (score >= 0): a locked entry is never run again.

Failure windows
---------------
- Executor killed after the claim and before the removal (mid handler, or after it):
  the task stays locked forever: lost (or, if its handler had finished, run once but
  never removed). The README (seeds/003 line 43) expects such a task to be
  reprocessed; the project's lock makes it stay locked instead.
- A failed handler: locked forever, never run again (lost).
- A lost reply of the claim script: the tasks were locked but nobody runs them: lost.
- A removal that fails or is lost after the run: the task stays locked: no repeat.
- Repeats: a producer retry of an indeterminate call after the task ran and was
  removed schedules it again (same id, same score: same key, which the receiver can
  drop); Redis losing the lock or the removal (restart, power cut) frees it again.
- Early runs: none by the design; the due time is judged by Redis's clock.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import redis

from . import process
from .contract import CONNECT_TIMEOUT_S, REDIS_DOWN, SOCKET_TIMEOUT_S, Delivery, connect
from .redis_client import redis_client

log = logging.getLogger("duetime.chaos.designs.idempotency_keys")

POLL_S = 0.100  # our choice: the project runs a round per call of its execution endpoint
CLAIM_LIMIT = 5  # the project's ZRANGEBYSCORE ... LIMIT 0 5
STOP_GRACE_S = 5.0
CALLERS = 1  # concurrent rounds per process: our choice, the project names no caller
PARAMS = ("callers",)
CLAIM_SCRIPT = Path(__file__).with_name("idempotency_keys_claim.lua").read_text()


def schedules_key(namespace: str) -> str:
    return f"{namespace}:schedules"


def payload_prefix(namespace: str) -> str:
    return f"{namespace}:task_"


def score_of(timestamp: float) -> int:
    """Whole Unix seconds, rounded up: a task is never due before its time."""
    return math.ceil(timestamp)


def connect_raw(url: str) -> redis.Redis:
    """A client whose replies stay bytes: a payload that is not UTF-8 fails its own task
    (decoded in :meth:`Executor.run`), not the whole round."""
    return redis_client(
        url, socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=CONNECT_TIMEOUT_S
    )


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


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
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(schedules_key(self.namespace), {task_id: score_of(timestamp)})
            pipe.set(payload_prefix(self.namespace) + task_id, json.dumps(payload))
            pipe.execute()
        return task_id

    def backlog(self) -> dict[str, int]:
        unlocked = self.redis.zcount(schedules_key(self.namespace), 0, "+inf")
        return {"scheduled": int(unlocked)}

    def close(self) -> None:
        self.redis.close()


def client(url: str, namespace: str, **params: str) -> IdempotencyKeysClient:
    """The producers' client; ``params`` are the executors' (checked, not used here)."""
    check_params(params)
    return IdempotencyKeysClient(url, namespace)


class Executor:
    """One executor: claims up to five due tasks per round, runs them, removes the successes."""

    def __init__(
        self, r: redis.Redis, namespace: str, handlers: Mapping[str, process.Handler]
    ) -> None:
        self.redis, self.namespace, self.handlers = r, namespace, handlers
        self.claim_script = r.register_script(CLAIM_SCRIPT)

    def claim(self) -> list[tuple[str, int, str | bytes | None]]:
        """Lock up to CLAIM_LIMIT due tasks; ``(task id, score, payload)`` of each."""
        flat = self.claim_script(
            keys=[schedules_key(self.namespace)], args=[CLAIM_LIMIT, payload_prefix(self.namespace)]
        )
        return [
            (_text(flat[i]), int(float(_text(flat[i + 1]))), flat[i + 2])
            for i in range(0, len(flat), 3)
        ]

    def round(self) -> float:
        """Claim, run the claimed tasks together and wait for all; returns the pause."""
        threads = [
            threading.Thread(target=self.run, args=claimed, daemon=True) for claimed in self.claim()
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return POLL_S

    def run(self, task_id: str, score: int, raw: str | bytes | None) -> bool:
        """Call the handler with the task's key; on success remove the task. True if removed."""
        if raw is None:
            log.error("task %s has no payload; it stays locked", task_id)
            return False
        try:
            payload = json.loads(_text(raw))
            task_type = str(payload["task_type"])
            self.handlers[task_type](
                Delivery(
                    task_id=task_id,
                    task_type=task_type,
                    data=payload["data"],
                    due_at=float(payload["due_at"]),
                    idempotency_key=idempotency_key(task_id, score),
                )
            )
        except Exception:
            log.exception("task %s failed; it stays locked (the project has no retry)", task_id)
            return False
        try:
            with self.redis.pipeline(transaction=True) as pipe:
                pipe.zrem(schedules_key(self.namespace), task_id)
                pipe.delete(payload_prefix(self.namespace) + task_id)
                pipe.execute()
        except REDIS_DOWN as exc:
            log.warning("removing %s failed; it stays locked: %s", task_id, exc)
            return False
        return True


def check_params(params: Mapping[str, str]) -> int:
    """``callers``, a whole number of at least 1; raises ValueError otherwise."""
    callers = process.float_param(params, "callers", CALLERS)
    if callers != int(callers):
        raise ValueError(f"--param callers takes a whole number; got {params['callers']!r}")
    return int(callers)


def run_worker(options: process.WorkerOptions, stop: threading.Event) -> None:
    """``callers`` round loops, as concurrent calls of the project's execution endpoint."""
    r = connect_raw(options.url)
    executor = Executor(r, options.namespace, options.handlers)
    callers = check_params(options.params)
    process.run_loops(stop, [executor.round] * callers, POLL_S, STOP_GRACE_S)
    r.close()


def main(argv: Sequence[str] | None = None) -> int:
    prog = "python -m duetime.chaos.designs.idempotency_keys"
    return process.main(
        argv, prog=prog, run_worker=run_worker, params=PARAMS, check_params=check_params
    )


if __name__ == "__main__":
    raise SystemExit(main())
