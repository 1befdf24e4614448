"""arq's driver: ``ArqRedis.enqueue_job`` (no batch API), and one ``arq.worker.Worker`` per process.

``default`` is ``Worker(functions, redis_settings)`` as it comes (``poll_delay`` 0.5 s,
``max_jobs`` 10); ``tuned`` is in :data:`TUNED`.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from typing import Any

from arq import create_pool  # type: ignore[import-not-found, unused-ignore]
from arq.connections import RedisSettings  # type: ignore[import-not-found, unused-ignore]
from arq.worker import Worker, func  # type: ignore[import-not-found, unused-ignore]

from benchmarks.peers import probe

TUNED: dict[str, Any] = {"poll_delay": 0.01, "max_jobs": 100}


async def noop(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
    probe.record(payload)


class _Producer:
    def __init__(self, pool: Any) -> None:
        self.pool = pool

    async def single(self, job: probe.Job) -> None:
        if job.due:
            when = dt.datetime.fromtimestamp(job.due, tz=dt.timezone.utc)
            await self.pool.enqueue_job("noop", job.payload, _defer_until=when)
        else:
            await self.pool.enqueue_job("noop", job.payload)

    async def batch(self, jobs: Sequence[probe.Job]) -> None:
        raise NotImplementedError


async def _connect(url: str) -> _Producer:
    return _Producer(await create_pool(RedisSettings.from_dsn(url)))


async def _started(ctx: dict[str, Any]) -> None:
    probe.ready()


def work(url: str, config: str, procs: int) -> None:
    settings = TUNED if config == "tuned" else {}
    Worker(
        functions=[func(noop, name="noop")],
        redis_settings=RedisSettings.from_dsn(url),
        on_startup=_started,
        **settings,
    ).run()


if __name__ == "__main__":
    sys.exit(probe.main(async_producer=_connect, has_batch=False, work=work))
