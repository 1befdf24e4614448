"""Facts the checkers derive from a history: schedule outcomes, executions, fault windows."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from duetime.chaos.history.ops import (
    EXECUTE,
    FAULT_END,
    FAULT_START,
    LEASE,
    REDIS_CONFIG,
    SCHEDULE,
    Op,
)

CRON_PREFIX = "cron:"


@dataclass(frozen=True)
class ScheduleOutcome:
    """Everything the producers saw for one task id, over all their retries.

    ``acked``: some call returned ok. ``indeterminate``: no ok, at least one info.
    ``rejected``: only fail replies. ``first_invoke``: when the first call started.
    """

    task_id: str
    due_at: float
    max_attempts: int
    acked: bool
    indeterminate: bool
    rejected: bool
    first_invoke: float


@dataclass(frozen=True)
class Execution:
    """One run of a handler. ``end`` is None when the worker died or froze before finishing."""

    task_id: str
    process: str
    attempt: int
    due_at: float
    start: float
    end: float | None
    outcome: str | None  # "ok", "fail" or None (never finished)
    max_attempts: int
    idempotency_key: str = ""
    token: int = 0  # the reference scheduler's fencing token (0: none recorded)

    @property
    def executed(self) -> bool:
        return self.outcome == "ok"


@dataclass(frozen=True)
class FaultWindow:
    """A fault from injection to heal (``end`` is inf if never healed).

    ``targets`` names the processes it hit; empty means it hit everyone (Redis).
    ``detail`` is what its fault-start recorded, ``healed`` what its fault-end did
    (``demoted_at`` of a partitioned primary).
    """

    fault: str
    start: float
    end: float
    targets: tuple[str, ...]
    detail: dict[str, Any]
    healed: dict[str, Any] = field(default_factory=dict)

    def hits(self, process: str) -> bool:
        return not self.targets or process in self.targets


def doomed_tasks(history: Sequence[Op]) -> set[str]:
    """Tasks the producer asked to fail on every attempt they get: they never finish."""
    doomed = set()
    for op in history:
        if op.f == SCHEDULE and op.type == "invoke":
            v = op.value
            if int(v.get("fail_attempts", 0)) >= int(v.get("max_attempts", 1)) > 0:
                doomed.add(str(v["task_id"]))
    return doomed


def is_cron(task_id: str) -> bool:
    return task_id.startswith(CRON_PREFIX)


def schedule_outcomes(history: Sequence[Op]) -> dict[str, ScheduleOutcome]:
    by_task: dict[str, list[Op]] = defaultdict(list)
    for op in history:
        if op.f == SCHEDULE:
            by_task[str(op.value["task_id"])].append(op)
    outcomes = {}
    for task_id, ops in by_task.items():
        types = {op.type for op in ops}
        invokes = [op for op in ops if op.type == "invoke"] or ops
        acked = "ok" in types
        outcomes[task_id] = ScheduleOutcome(
            task_id=task_id,
            due_at=float(ops[0].value["due_at"]),
            max_attempts=int(ops[0].value.get("max_attempts", 1)),
            acked=acked,
            indeterminate=not acked and ("info" in types or types == {"invoke"}),
            rejected=types <= {"invoke", "fail"} and "fail" in types,
            first_invoke=min(op.time for op in invokes),
        )
    return outcomes


def executions(history: Sequence[Op]) -> list[Execution]:
    """Pair each execution start with its end by ``exec_id``; unpaired starts stay open."""
    starts: dict[str, Op] = {}
    ends: dict[str, Op] = {}
    for op in history:
        if op.f != EXECUTE:
            continue
        exec_id = str(op.value["exec_id"])
        if op.type == "invoke":
            starts[exec_id] = op
        else:
            ends[exec_id] = op
    result = []
    for exec_id, start in starts.items():
        end = ends.get(exec_id)
        v = start.value
        result.append(
            Execution(
                task_id=str(v["task_id"]),
                process=start.process,
                attempt=int(v.get("attempt", 0)),
                due_at=float(v.get("due_at", math.nan)),
                start=start.time,
                end=end.time if end else None,
                outcome=end.type if end else None,
                max_attempts=int(v.get("max_attempts", 1)),
                idempotency_key=str(v.get("idempotency_key") or ""),
                token=int(v.get("token") or 0),
            )
        )
    return sorted(result, key=lambda e: e.start)


def executions_by_task(history: Sequence[Op]) -> dict[str, list[Execution]]:
    grouped: dict[str, list[Execution]] = defaultdict(list)
    for e in executions(history):
        grouped[e.task_id].append(e)
    return dict(grouped)


def attempts_by_task(history: Sequence[Op]) -> dict[str, list[Execution]]:
    """The runs that used up an attempt: every run but those whose worker handed the task
    back (an accepted ``release``, as at a graceful stop), which gives the attempt back."""
    handed_back = {
        (str(op.value["task_id"]), int(op.value["token"]))
        for op in history
        if op.f == LEASE and op.type == "ok" and op.value.get("action") == "release"
    }
    return {
        task_id: kept
        for task_id, runs in executions_by_task(history).items()
        if (kept := [e for e in runs if e.token == 0 or (task_id, e.token) not in handed_back])
    }


def fault_windows(history: Sequence[Op]) -> list[FaultWindow]:
    """Pair fault-start and fault-end by ``fault_id``."""
    starts: dict[str, Op] = {}
    ends: dict[str, Op] = {}
    for op in history:
        if op.f == FAULT_START:
            starts[str(op.value["fault_id"])] = op
        elif op.f == FAULT_END:
            ends[str(op.value["fault_id"])] = op
    return sorted(
        (
            FaultWindow(
                fault=str(op.value.get("fault", "?")),
                start=op.time,
                end=ends[fid].time if fid in ends else math.inf,
                targets=tuple(op.value.get("targets", ())),
                detail=dict(op.value),
                healed=dict(ends[fid].value) if fid in ends else {},
            )
            for fid, op in starts.items()
        ),
        key=lambda w: w.start,
    )


def redis_settings(history: Sequence[Op]) -> dict[str, str]:
    """The persistence settings read back from Redis at its first start ({} if none were)."""
    first = next((op for op in history if op.f == REDIS_CONFIG), None)
    return {str(k): str(v) for k, v in first.value.items()} if first else {}


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 100]) of an ascending, non-empty sequence."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]
