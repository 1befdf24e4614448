"""saq's driver: ``Queue.enqueue`` (no batch API), and one ``saq.Worker`` per process.

``default`` is ``Worker(queue, functions)`` as it comes (concurrency 10); ``tuned`` is
:data:`TUNED`. Delayed jobs are moved to the queue by a ``schedule`` timer that is also the
TTL of a ``SETEX`` lock, so it takes whole seconds: its default, 1 s, is the shortest.
saq documents ``scheduled`` as whole epoch seconds but compares it with a float clock, so
the driver passes the exact due time.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from typing import Any

from saq import Queue, Worker  # type: ignore[import-not-found, unused-ignore]

from benchmarks.peers import probe

TUNED: dict[str, Any] = {"concurrency": 30}


async def noop(ctx: dict[str, Any], *, payload: dict[str, Any]) -> None:
    probe.record(payload)


class _Producer:
    def __init__(self, queue: Any) -> None:
        self.queue = queue

    async def single(self, job: probe.Job) -> None:
        await self.queue.enqueue("noop", payload=job.payload, scheduled=job.due or 0)

    async def batch(self, jobs: Sequence[probe.Job]) -> None:
        raise NotImplementedError


async def _connect(url: str) -> _Producer:
    queue = Queue.from_url(url, name=probe.QUEUE)
    await queue.connect()
    return _Producer(queue)


async def _started(ctx: dict[str, Any]) -> None:
    probe.ready()


async def _work(url: str, config: str) -> None:
    settings = TUNED if config == "tuned" else {}
    queue = Queue.from_url(url, name=probe.QUEUE)
    worker = Worker(queue, functions=[("noop", noop)], startup=_started, **settings)
    await worker.start()


def work(url: str, config: str, procs: int) -> None:
    asyncio.run(_work(url, config))


if __name__ == "__main__":
    sys.exit(probe.main(async_producer=_connect, has_batch=False, work=work))
