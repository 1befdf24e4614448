"""Celery's driver: ``apply_async`` (``eta`` for delayed tasks); batches through kombu's
``Producer.batch()`` (one pipeline per 1,000 messages). Workers: ``celery worker``.

``default`` is ``celery worker --concurrency P`` (the prefork pool, which is Celery's default
with P = the CPU count, 2 here); ``tuned`` is :data:`TUNED`, one worker per process. A
delayed (ETA) task is fetched at once and held in the worker's memory until it is due.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Sequence
from typing import Any

from celery import Celery  # type: ignore[import-not-found, unused-ignore]
from celery.signals import worker_ready  # type: ignore[import-not-found, unused-ignore]

from benchmarks.peers import probe

# One solo-pool worker per process: no hand-off between a parent and its pool children.
TUNED = [
    "--pool",
    "solo",
    "--prefetch-multiplier",
    "64",
    "--without-gossip",
    "--without-mingle",
    "--without-heartbeat",
]

app = Celery("bench", broker=os.environ.get(probe.URL_ENV))
app.conf.task_default_queue = probe.QUEUE


@app.task(name="noop")  # type: ignore[untyped-decorator, unused-ignore]
def noop(payload: dict[str, Any]) -> None:
    probe.record(payload)


@worker_ready.connect  # type: ignore[untyped-decorator, unused-ignore]
def _ready(**kwargs: Any) -> None:
    probe.ready()


def _options(job: probe.Job) -> dict[str, Any]:
    if job.due:
        return {"eta": dt.datetime.fromtimestamp(job.due, tz=dt.timezone.utc)}
    return {}


class _Producer:
    def __init__(self, url: str) -> None:
        app.conf.broker_url = url
        with app.connection_for_write() as conn:
            conn.ensure_connection()

    def single(self, job: probe.Job) -> None:
        noop.apply_async((job.payload,), **_options(job))

    def batch(self, jobs: Sequence[probe.Job]) -> None:
        with app.producer_or_acquire() as producer, producer.batch():
            for job in jobs:
                noop.apply_async((job.payload,), producer=producer, **_options(job))


def work(url: str, config: str, procs: int) -> None:
    app.conf.broker_url = url
    argv = ["worker", "--loglevel", "WARNING", "--queues", probe.QUEUE]
    argv += TUNED if config == "tuned" else ["--concurrency", str(procs)]
    app.worker_main(argv)


if __name__ == "__main__":
    sys.exit(probe.main(producer=_Producer, has_batch=True, work=work))
