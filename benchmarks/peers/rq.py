"""RQ's driver: ``Queue.enqueue`` / ``enqueue_at``; batches through ``enqueue_many`` (due now)
or ``enqueue_at`` on one pipeline (delayed). One RQ worker per process, with its scheduler.

``default`` is ``Worker`` (a forked work horse per job); ``tuned`` is ``SimpleWorker`` (jobs
run in the worker process). RQ's scheduler polls once a second and keeps whole seconds in
both settings: neither is a worker option.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from typing import Any

from redis import Redis
from rq import Queue, SimpleWorker, Worker  # type: ignore[import-not-found, unused-ignore]

from benchmarks.peers import probe

# By name: the driver runs as __main__, which a worker could not import.
FUNC = "benchmarks.peers.rq.noop"


def noop(payload: dict[str, Any]) -> None:
    probe.record(payload)


def _when(due: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(due, tz=dt.timezone.utc)


class _Producer:
    def __init__(self, url: str) -> None:
        self.redis = Redis.from_url(url)
        self.redis.ping()
        self.queue = Queue(probe.QUEUE, connection=self.redis)

    def single(self, job: probe.Job) -> None:
        if job.due:
            self.queue.enqueue_at(_when(job.due), FUNC, job.payload)
        else:
            self.queue.enqueue(FUNC, job.payload)

    def batch(self, jobs: Sequence[probe.Job]) -> None:
        if jobs[0].due:
            with self.redis.pipeline() as pipe:
                for j in jobs:
                    self.queue.enqueue_at(_when(j.due), FUNC, j.payload, pipeline=pipe)
                pipe.execute()
        else:
            self.queue.enqueue_many([Queue.prepare_data(FUNC, (j.payload,)) for j in jobs])


def work(url: str, config: str, procs: int) -> None:
    cls = SimpleWorker if config == "tuned" else Worker
    worker = cls([probe.QUEUE], connection=Redis.from_url(url))
    probe.ready()
    worker.work(with_scheduler=True, logging_level="WARNING")


if __name__ == "__main__":
    sys.exit(probe.main(producer=_Producer, has_batch=True, work=work))
