"""Dramatiq's driver: ``send`` / ``send_with_options(delay=...)`` (no batch API), and the
``dramatiq`` command, which forks the worker processes.

``default`` is ``dramatiq --processes P`` (8 threads each, prefetch 16 messages, idle
wake-up every second); ``tuned`` adds :data:`TUNED_ARGS` and :data:`TUNED_ENV`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import dramatiq  # type: ignore[import-not-found, unused-ignore]
from dramatiq.brokers.redis import RedisBroker  # type: ignore[import-not-found, unused-ignore]
from dramatiq.middleware import Middleware  # type: ignore[import-not-found, unused-ignore]

from benchmarks.peers import probe

TUNED_ARGS = ["--threads", "4"]
TUNED_ENV = {"dramatiq_queue_prefetch": "256", "dramatiq_worker_timeout": "10"}


class _Ready(Middleware):  # type: ignore[misc, unused-ignore]
    def after_worker_boot(self, broker: Any, worker: Any) -> None:
        probe.ready()


def _noop(payload: dict[str, Any]) -> None:
    probe.record(payload)


def _broker(url: str) -> Any:
    broker = RedisBroker(url=url)
    broker.add_middleware(_Ready())
    dramatiq.set_broker(broker)
    return dramatiq.actor(_noop, actor_name="noop", queue_name=probe.QUEUE, broker=broker)


if __name__ != "__main__":  # imported by the dramatiq command in each worker process
    noop = _broker(os.environ[probe.URL_ENV])


class _Producer:
    def __init__(self, url: str) -> None:
        self.actor = _broker(url)
        self.actor.broker.client.ping()

    def single(self, job: probe.Job) -> None:
        if job.due:
            delay = max(0, round(job.due * 1000 - time.time() * 1000))
            self.actor.send_with_options(args=(job.payload,), delay=delay)
        else:
            self.actor.send(job.payload)

    def batch(self, jobs: Sequence[probe.Job]) -> None:
        raise NotImplementedError


def work(url: str, config: str, procs: int) -> None:
    argv = [sys.executable, "-m", "dramatiq", __spec__.name, "--processes", str(procs)]
    if config == "tuned":
        argv += TUNED_ARGS
        os.environ.update(TUNED_ENV)
    os.execv(sys.executable, argv)


if __name__ == "__main__":
    sys.exit(probe.main(producer=_Producer, has_batch=False, work=work))
