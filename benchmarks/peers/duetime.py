"""duetime's driver: ``schedule_task`` / ``schedule_many``, and one :class:`Worker` per process.

Runs in the main environment. Settings: ``default`` is ``Worker(scheduler, handlers)`` as it
comes; ``tuned`` is in :data:`TUNED`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

from benchmarks.peers import probe
from duetime import NewTask, Scheduler, Task, Worker

NAMESPACE = probe.QUEUE
# A claim takes at most as many tasks as the worker has room for, up to 200 per call.
TUNED: dict[str, Any] = {"concurrency": 200, "cron": False}


def noop(task: Task) -> None:
    probe.record(task.data)


class _Producer:
    def __init__(self, url: str) -> None:
        self.s = Scheduler.from_url(url, namespace=NAMESPACE)
        self.s.redis.ping()

    def single(self, job: probe.Job) -> None:
        self.s.schedule_task(job.due or time.time(), job.payload, task_type="noop")

    def batch(self, jobs: Sequence[probe.Job]) -> None:
        now = time.time()
        self.s.schedule_many([NewTask(j.due or now, j.payload, "noop") for j in jobs])


def work(url: str, config: str, procs: int) -> None:
    settings = TUNED if config == "tuned" else {}
    worker = Worker(Scheduler.from_url(url, namespace=NAMESPACE), {"noop": noop}, **settings)
    probe.ready()
    worker.run()


if __name__ == "__main__":
    sys.exit(probe.main(producer=_Producer, has_batch=True, work=work))
