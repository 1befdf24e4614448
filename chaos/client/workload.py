"""Workloads: seeded, pure descriptions of which tasks to schedule and when."""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MISFIRE_POLICIES = ("run_once", "skip")


@dataclass(frozen=True)
class CronSpec:
    """A recurring schedule the cron-scheduler processes register (6 fields, seconds first).

    ``timezone`` is the IANA zone its wall-clock times are in; the cron checker
    computes the expected slots there, with the scheduler's own slot function.
    """

    name: str
    expr: str
    misfire: str = "run_once"
    work_s: float = 0.05
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if self.misfire not in MISFIRE_POLICIES:
            raise ValueError(f"misfire must be one of {MISFIRE_POLICIES}, not {self.misfire!r}")
        if len(self.expr.split()) != 6:
            raise ValueError(f"cron expr must have 6 fields (seconds first): {self.expr!r}")


@dataclass(frozen=True)
class TaskKind:
    """Tasks of an application's own type, run by its own handler (``chaos.run(handlers=...)``).

    Each task of this kind gets one of ``payloads`` (chosen at random, seeded), as its
    data, unchanged; how long it runs is up to the handler. ``weight`` is its share of
    the workload's tasks against the other kinds.
    """

    task_type: str
    payloads: Sequence[Any] = ({},)
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not self.task_type:
            raise ValueError("a task kind needs a task_type")
        if not self.payloads:
            raise ValueError(f"task kind {self.task_type!r}: give at least one payload")
        if not self.weight > 0:
            raise ValueError(f"task kind {self.task_type!r}: weight must be > 0")
        try:
            json.dumps(list(self.payloads), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"task kind {self.task_type!r}: payloads must be JSON ({exc})"
            ) from None
        # A tuple, so the kind stays hashable and frozen whatever sequence it was given.
        object.__setattr__(self, "payloads", tuple(self.payloads))


@dataclass(frozen=True)
class PlannedTask:
    """One task to schedule: ``send_at`` and ``due_in`` are seconds after the run starts.

    ``task_type`` and ``payload`` are None for the testbed's own tasks (which carry
    ``work_s`` and ``fail_attempts`` in their data); set for a :class:`TaskKind`.
    """

    task_id: str
    producer: int
    send_at: float
    due_in: float
    work_s: float
    max_attempts: int
    fail_attempts: int
    payload_bytes: int = 0
    task_type: str | None = None
    payload: Any = None


@dataclass(frozen=True)
class Workload:
    """How many one-off tasks, spread how, and which cron schedules.

    Due times are uniform over ``duration``; each task is scheduled ``lead``
    seconds (uniform in the range) before it is due, and its handler works for
    ``work`` seconds. ``fail_fraction`` of tasks fail their first attempt. Each
    task carries a filler payload of ``payload_bytes`` (uniform in the range;
    none by default), which makes each schedule a bigger write to the AOF.

    ``long_fraction`` of tasks work ``long_work`` seconds instead: handlers that
    outlive a pause past the lease, so a superseded holder wakes while the new one
    still runs. ``doomed_fraction`` of tasks fail every run and get only
    ``doomed_max_attempts``: they must run out of attempts and end in the dead letters.

    ``kinds`` replaces the testbed's own tasks by an application's (:class:`TaskKind`):
    its task types and payloads, run by its handlers. ``work``, ``long_*`` and
    ``payload_bytes`` then do not apply; injected failures (``fail_fraction``,
    ``doomed_fraction``) still do, raised by the wrapper around the handler before the
    handler is called.
    """

    tasks: int = 200
    duration: float = 20.0
    lead: tuple[float, float] = (0.5, 3.0)
    work: tuple[float, float] = (0.05, 0.4)
    producers: int = 2
    max_attempts: int = 10
    fail_fraction: float = 0.0
    cron: tuple[CronSpec, ...] = ()
    payload_bytes: tuple[int, int] = (0, 0)
    long_fraction: float = 0.0
    long_work: tuple[float, float] = (0.0, 0.0)
    doomed_fraction: float = 0.0
    doomed_max_attempts: int = 2
    kinds: tuple[TaskKind, ...] = ()

    def __post_init__(self) -> None:
        if self.tasks < 0 or self.producers < 1 or self.duration <= 0:
            raise ValueError("tasks >= 0, producers >= 1 and duration > 0 are required")
        if not 0 <= self.lead[0] <= self.lead[1] or not 0 <= self.work[0] <= self.work[1]:
            raise ValueError("lead and work must be (low, high) ranges with 0 <= low <= high")
        if not 0.0 <= self.fail_fraction <= 1.0:
            raise ValueError("fail_fraction must be within [0, 1]")
        if not 0 <= self.payload_bytes[0] <= self.payload_bytes[1]:
            raise ValueError("payload_bytes must be a (low, high) range with 0 <= low <= high")
        if not 0.0 <= self.long_fraction <= 1.0 or not 0.0 <= self.doomed_fraction <= 1.0:
            raise ValueError("long_fraction and doomed_fraction must be within [0, 1]")
        if not 0 <= self.long_work[0] <= self.long_work[1] or self.doomed_max_attempts < 1:
            raise ValueError("long_work must be a (low, high) range; doomed_max_attempts >= 1")
        types = [k.task_type for k in self.kinds]
        if len(set(types)) != len(types):
            raise ValueError(f"each task kind once: {types}")

    def plan(self, rng: random.Random) -> list[PlannedTask]:
        """The tasks to schedule, ordered by when to send them; same rng state, same plan."""
        planned = []
        for i in range(self.tasks):
            due_in = round(rng.uniform(self.lead[1], self.lead[1] + self.duration), 3)
            send_at = max(0.0, due_in - rng.uniform(*self.lead))
            task = PlannedTask(
                task_id=f"t-{i:05d}",
                producer=i % self.producers,
                send_at=round(send_at, 3),
                due_in=due_in,
                work_s=round(rng.uniform(*self.work), 3),
                max_attempts=self.max_attempts,
                fail_attempts=1 if rng.random() < self.fail_fraction else 0,
                payload_bytes=self._payload_size(rng),
            )
            planned.append(self._of_kind(self._variant(task, rng), rng))
        return sorted(planned, key=lambda p: (p.send_at, p.task_id))

    def _variant(self, task: PlannedTask, rng: random.Random) -> PlannedTask:
        # No draws unless asked for, so the plans of existing seeds stay the same.
        if self.long_fraction and rng.random() < self.long_fraction:
            task = dataclasses.replace(task, work_s=round(rng.uniform(*self.long_work), 3))
        if self.doomed_fraction and rng.random() < self.doomed_fraction:
            n = self.doomed_max_attempts
            task = dataclasses.replace(task, max_attempts=n, fail_attempts=n)
        return task

    def _of_kind(self, task: PlannedTask, rng: random.Random) -> PlannedTask:
        # No draws without kinds, so the plans of existing seeds stay the same.
        if not self.kinds:
            return task
        (kind,) = rng.choices(self.kinds, weights=[k.weight for k in self.kinds])
        return dataclasses.replace(
            task, task_type=kind.task_type, payload=rng.choice(kind.payloads), payload_bytes=0
        )

    def _payload_size(self, rng: random.Random) -> int:
        # No draw without payloads, so the plans of existing seeds stay the same.
        return rng.randint(*self.payload_bytes) if self.payload_bytes[1] else 0

    @property
    def span(self) -> float:
        """Seconds from the run's start to the last due time."""
        return self.lead[1] + self.duration

    def scaled(self, factor: float) -> Workload:
        """The same workload shape, shorter: ``factor`` of the tasks and of the duration."""
        return dataclasses.replace(
            self,
            tasks=max(1, round(self.tasks * factor)),
            duration=max(1.0, self.duration * factor),
        )
