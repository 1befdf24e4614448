"""Which workers are alive: each worker sends a heartbeat to Redis every few seconds.

The ``workers`` set of a namespace maps each worker's name to its last heartbeat by
Redis's clock (``heartbeat.lua``). A worker that stops removes itself; one that dies is
counted as gone once it has been silent for :data:`ALIVE_S`, and forgotten then.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import redis

from .client import Scheduler
from .errors import redis_errors

log = logging.getLogger("duetime.presence")

HEARTBEAT_S = 5.0
# Three heartbeats missed: the worker is taken for dead.
ALIVE_S = 3 * HEARTBEAT_S


class Presence:
    """Keeps one worker's heartbeat going while :meth:`run` runs."""

    def __init__(self, scheduler: Scheduler, name: str, period_s: float = HEARTBEAT_S) -> None:
        self.scheduler = scheduler
        self.name = name
        self.period_s = period_s

    def _call(self, leaving: bool) -> int:
        keys = self.scheduler.keys
        return int(
            self.scheduler.scripts.run(
                "heartbeat",
                [keys.workers],
                [self.scheduler.now_arg(), self.name, int(ALIVE_S * 1000), "1" if leaving else ""],
            )
        )

    def beat(self) -> int:
        """Say this worker is alive. Returns how many workers of the namespace are."""
        return self._call(leaving=False)

    def leave(self) -> None:
        """Say this worker stopped."""
        self._call(leaving=True)

    def run(self, stop: threading.Event) -> None:
        """Beat every ``period_s`` until ``stop`` is set, then leave."""
        while not stop.is_set():
            try:
                self.beat()
            except Exception as exc:  # the worker's main loop reports Redis trouble
                log.debug("heartbeat of %s failed: %r", self.name, exc)
            stop.wait(self.period_s)
        try:
            self.leave()
        except redis.RedisError as exc:
            log.debug("%s could not say it left (forgotten in %ss): %r", self.name, ALIVE_S, exc)


def workers_alive(scheduler: Scheduler) -> dict[str, float]:
    """The workers of the namespace heard from within :data:`ALIVE_S`: name -> epoch seconds
    of their last heartbeat."""
    with redis_errors("workers_alive"):
        now = scheduler.now_ms()
        rows: Any = scheduler.redis.zrangebyscore(
            scheduler.keys.workers, now - int(ALIVE_S * 1000), "+inf", withscores=True
        )
    return {name.decode(errors="backslashreplace"): float(score) / 1000 for name, score in rows}
