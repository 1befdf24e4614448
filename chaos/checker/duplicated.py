"""Duplicated executions: a task that finished more than once.

At-least-once delivery allows duplicates, so they are counted, not failed; the
verdict fails only when a task finished more often than its ``max_attempts``
(the bound the scheduler promises). Each duplicate is attributed to a fault
window that explains it: a fault that began before the duplicate started and
overlapped an earlier run of the same task on a process the fault hit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from duetime.chaos.history.ops import Op

from .facts import Execution, FaultWindow, executions_by_task, fault_windows
from .result import Result, listed

# A run's acknowledgement reaches Redis shortly after its handler returns; a fault
# that starts within this long after the run ended may still have lost that ack.
ACK_SLACK_S = 0.5


def _explaining_fault(
    duplicate: Execution, earlier: Sequence[Execution], windows: Sequence[FaultWindow]
) -> FaultWindow | None:
    for w in windows:
        if w.start > duplicate.start:
            continue
        for prior in earlier:
            prior_end = prior.end if prior.end is not None else math.inf
            overlaps = w.end >= prior.start and w.start <= prior_end + ACK_SLACK_S
            if overlaps and w.hits(prior.process):
                return w
    return None


def check(history: Sequence[Op]) -> Result:
    windows = fault_windows(history)
    duplicated_tasks = []
    over_bound = []
    duplicates = 0
    max_runs = 0
    by_fault: dict[str, int] = {}
    unexplained = 0
    same_key = 0
    overlapping = 0
    for task_id, runs in executions_by_task(history).items():
        finished = [e for e in runs if e.executed]
        max_runs = max(max_runs, len(finished))
        if len(finished) > max(e.max_attempts for e in runs):
            over_bound.append(task_id)
        if len(finished) <= 1:
            continue
        duplicated_tasks.append(task_id)
        duplicates += len(finished) - 1
        for dup in finished[1:]:
            earlier = [e for e in runs if e.start < dup.start]
            done_before = [e for e in finished if e.start < dup.start]
            if dup.idempotency_key and any(
                e.idempotency_key == dup.idempotency_key for e in done_before
            ):
                same_key += 1
            if any(e.end is not None and e.end > dup.start for e in done_before):
                overlapping += 1
            cause = _explaining_fault(dup, earlier, windows)
            if cause is None:
                unexplained += 1
            else:
                by_fault[cause.fault] = by_fault.get(cause.fault, 0) + 1
    details = {
        "duplicated_tasks": len(duplicated_tasks),
        "duplicate_executions": duplicates,
        "max_executions_per_task": max_runs,
        "explained_by_fault": by_fault,
        "unexplained": unexplained,
        # Repeats a receiver that drops a seen idempotency key would not act on.
        "same_key_duplicates": same_key,
        # Repeats that started while an earlier run of the task was still running.
        "overlapping_duplicates": overlapping,
        "over_max_attempts": len(over_bound),
        "duplicated_ids": listed(duplicated_tasks),
        "over_max_attempts_ids": listed(over_bound),
    }
    if over_bound:
        return Result(
            "invalid", f"{len(over_bound)} tasks finished more often than max_attempts", details
        )
    return Result(
        "valid",
        f"{duplicates} duplicate executions over {len(duplicated_tasks)} tasks "
        f"(max {max_runs} per task, {unexplained} unexplained by a fault)",
        details,
    )
