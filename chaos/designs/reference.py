"""The reference scheduler as a design: the producers' client over ``scheduler.Scheduler``.

Its processes are the scheduler's own (``python -m duetime worker``, or the
scenario's ``worker_module``) and :mod:`duetime.chaos.system.cron_process`.
"""

from __future__ import annotations

from typing import Any

from redis.crc import key_slot

from duetime import InvalidInput, Scheduler


class ReferenceClient:
    rejected: tuple[type[BaseException], ...] = (InvalidInput,)

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler

    def schedule_task(
        self, timestamp: float, data: Any, *, task_type: str, task_id: str, max_attempts: int
    ) -> str:
        return self.scheduler.schedule_task(
            timestamp, data, task_type=task_type, task_id=task_id, max_attempts=max_attempts
        )

    def slot_of(self, task_id: str) -> int:
        """The Redis Cluster slot of the keys ``task_id`` is written to (its shard's hash
        tag): only that slot's master holds the task."""
        return key_slot(self.scheduler.keys_for(task_id).tasks.encode())

    def backlog(self) -> dict[str, int]:
        stats = self.scheduler.stats()
        return {"scheduled": stats.scheduled, "due": stats.due, "in_flight": stats.in_flight}

    def close(self) -> None:
        self.scheduler.close()


def client(url: str, namespace: str) -> ReferenceClient:
    return ReferenceClient(Scheduler.from_url(url, namespace=namespace))
