"""duetime's scheduler: delayed and recurring Redis tasks with leases, fencing and retries.

>>> from scheduler import Scheduler, Worker
>>> sched = Scheduler.from_url("redis://127.0.0.1:6379/0", namespace="shop")
>>> sched.schedule_task(time.time() + 30, {"user": 42}, task_type="send_email")
>>> Worker(sched, handlers={"send_email": send_email}).run()
"""

from .client import NewTask, Scheduled, Scheduler
from .cron import RecurringSchedule
from .errors import (
    CorruptRecord,
    InvalidInput,
    InvalidState,
    NotDurable,
    PermissionDenied,
    RedisFull,
    RedisMisconfigured,
    RedisUnavailable,
    SchedulerError,
    TaskNotFound,
)
from .lease_events import LeaseChange
from .record import Status
from .settings import Durability, Limits, Retention, RetryPolicy
from .task import Stats, Task, TaskInfo
from .worker import Worker

__all__ = [
    "CorruptRecord",
    "Durability",
    "InvalidInput",
    "InvalidState",
    "LeaseChange",
    "Limits",
    "NewTask",
    "NotDurable",
    "PermissionDenied",
    "RecurringSchedule",
    "RedisFull",
    "RedisMisconfigured",
    "RedisUnavailable",
    "Retention",
    "RetryPolicy",
    "Scheduled",
    "Scheduler",
    "SchedulerError",
    "Stats",
    "Status",
    "Task",
    "TaskInfo",
    "TaskNotFound",
    "Worker",
]
