"""One worker process of the sharded benchmark, until SIGTERM.

``python -m benchmarks.shard_worker URL NAMESPACE SHARDS``, with ``$BENCH_OUT`` the folder
its handler records each run in (:func:`benchmarks.peers.probe.record`). Tuned settings,
as the main benchmark's "tuned" duetime worker (:data:`benchmarks.peers.duetime.TUNED`).
"""

from __future__ import annotations

import logging
import sys

from benchmarks.peers import probe
from benchmarks.peers.duetime import TUNED
from duetime import Scheduler, Task, Worker


def open_scheduler(url: str, namespace: str, shards: int) -> Scheduler:
    """The namespace over ``shards`` shards of the Cluster at ``url``."""
    return Scheduler.from_url(url, namespace=namespace, shards=shards)


def noop(task: Task) -> None:
    probe.record(task.data)


def main(argv: list[str]) -> int:
    url, namespace, shards = argv
    logging.basicConfig(level=logging.WARNING)
    worker = Worker(open_scheduler(url, namespace, int(shards)), {"noop": noop}, **TUNED)
    probe.ready()
    worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
