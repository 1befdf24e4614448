"""A deliberately broken worker, kept to prove the testbed can see a loss.

It acknowledges each task as soon as it claims it, before running the handler,
as designs that pop a task off a list and then run it do. A worker killed
mid-task then loses that task for good: Redis already counts it as done.

``python -m duetime.chaos.client.broken_worker worker <the flags of python -m duetime worker>``
"""

from __future__ import annotations

import sys

from duetime import Task, Worker, worker_protocol
from duetime.cli import main


class AckFirstWorker(Worker):
    """A :class:`scheduler.Worker` that acks before running. Never use it for real work."""

    def _dispatch(self, task: Task) -> None:
        worker_protocol.ack(self.scheduler, [worker_protocol.lease_of(task)])
        super()._dispatch(task)


if __name__ == "__main__":
    sys.exit(main(worker_class=AckFirstWorker))
