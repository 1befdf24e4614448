"""Duplicated executions: a task that finished more than once, and runs past the bound.

At-least-once delivery allows a task to run again, but only for a reason and only so
often. The verdict fails when:

- a task *started* more runs than the ``max_attempts`` its producer asked for (the
  number the producer recorded, never what the scheduler told its handler; a run its
  worker handed back, as at a graceful stop, gives its attempt back and is not counted);
- a repeat (a finished run after the first) is explained by no fault: a fault must have
  touched the worker of an earlier run of the task while that run was going, or within
  the time after it in which its acknowledgement could still be undone (half a second
  for faults on workers and the network; for a strike on Redis, the loss window Redis
  documents for the run's settings, as for lost tasks). A fault counts from when it
  really began (its ``began_at``, e.g. a disk slowed before it was struck). A failover
  may take the claim or the acknowledgement of a run made while the promoted replica
  lagged (``loss_bounds.documented_span``), whatever the durability setting: workers'
  writes are never WAITed. The other
  way round counts too: a worker stalled by a fault while it held a claim, whose lease
  lapsed and whose task another worker ran meanwhile, may start its stale run on waking
  (within half a second of the fault's end).

And it fails when two runs started under the same fencing token (one claim, run twice),
unless a strike on Redis explains it: the token counter is as durable as Redis, so a
strike that took recent writes may hand a token out again, within the same documented
window that excuses a repeat.

Repeats that overlapped an earlier run, or carried its idempotency key, are counted
apart: the first is what a lease prevents, the second what a receiver could drop.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence

from duetime.chaos.history.ops import Op

from .facts import (
    Execution,
    FaultWindow,
    attempts_by_task,
    executions,
    executions_by_task,
    fault_windows,
    is_cron,
    redis_settings,
    schedule_outcomes,
)
from .loss_bounds import REPLICATION_FAULTS, documented_span, documented_window_s
from .result import Result, listed

# A run's acknowledgement reaches Redis shortly after its handler returns; a fault on a
# worker or the network that starts within this long after the run ended may have lost it.
ACK_SLACK_S = 0.5


def _began(w: FaultWindow) -> float:
    return float(w.detail.get("began_at") or w.start)


def _explains(
    w: FaultWindow, prior: Execution, duplicate: Execution, settings: Mapping[str, str]
) -> bool:
    """Fault ``w`` may have made ``duplicate`` run again after the earlier run ``prior``."""
    if _stalled_holder(w, prior, duplicate):
        return True
    began = _began(w)
    if began > duplicate.start or not w.hits(prior.process) or w.end < prior.start:
        return False
    prior_end = prior.end if prior.end is not None else math.inf
    if w.fault in REPLICATION_FAULTS:
        # Claims and acks are never WAITed: a failover may take those the promoted node
        # lacked, under every durability setting.
        span = documented_span(settings, w, waited=False)
        if span is not None and prior.start <= span.end and prior_end + ACK_SLACK_S >= span.start:
            return True
        return began <= prior_end + ACK_SLACK_S
    struck = w.detail.get("struck_at", w.start)
    if not w.targets and struck is not None:
        # A strike on Redis undoes what it acknowledged within the documented window.
        reach = max(ACK_SLACK_S, documented_window_s(settings, w.fault, w.detail))
        if float(struck) <= prior_end + reach:
            return True
    return began <= prior_end + ACK_SLACK_S


def _stalled_holder(w: FaultWindow, prior: Execution, duplicate: Execution) -> bool:
    """``duplicate``'s worker held its claim through ``w`` (a pause, a partition) while the
    lease lapsed and another worker ran the task (``prior``), then started it on waking."""
    return (
        w.hits(duplicate.process)
        and _began(w) <= prior.start <= w.end + ACK_SLACK_S
        and w.end <= duplicate.start <= w.end + ACK_SLACK_S
    )


def _explaining_fault(
    duplicate: Execution,
    earlier: Sequence[Execution],
    windows: Sequence[FaultWindow],
    settings: Mapping[str, str],
) -> FaultWindow | None:
    return next(
        (w for w in windows for prior in earlier if _explains(w, prior, duplicate, settings)),
        None,
    )


def _claims_run_twice(
    history: Sequence[Op], windows: Sequence[FaultWindow], settings: Mapping[str, str]
) -> list[str]:
    """Runs that shared a fencing token with an earlier run, no strike on Redis explaining it."""
    by_claim: dict[tuple[str, int], list[Execution]] = defaultdict(list)
    for e in executions(history):
        if e.token > 0:
            by_claim[(e.task_id, e.token)].append(e)
    found = []
    for (task_id, token), runs in sorted(by_claim.items()):
        for i, again in enumerate(runs[1:], start=1):
            cause = _explaining_fault(again, runs[:i], windows, settings)
            if cause is None or cause.targets:
                found.append(f"{task_id} token {token}")
                break
    return found


def check(history: Sequence[Op]) -> Result:
    windows = fault_windows(history)
    settings = redis_settings(history)
    asked = {t: o.max_attempts for t, o in schedule_outcomes(history).items()}
    same_token = _claims_run_twice(history, windows, settings)
    duplicated_tasks = []
    over_bound = []
    duplicates = 0
    max_runs = 0
    by_fault: dict[str, int] = {}
    unexplained: list[str] = []
    same_key = 0
    overlapping = 0
    attempts = attempts_by_task(history)
    for task_id, runs in executions_by_task(history).items():
        finished = [e for e in runs if e.executed]
        max_runs = max(max_runs, len(finished))
        # A cron firing has no producer: its bound is the one its schedule carries.
        bound = max(e.max_attempts for e in runs) if is_cron(task_id) else asked.get(task_id)
        if bound is not None and len(attempts.get(task_id, [])) > bound:
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
            cause = _explaining_fault(dup, earlier, windows, settings)
            if cause is None:
                unexplained.append(task_id)
            else:
                by_fault[cause.fault] = by_fault.get(cause.fault, 0) + 1
    details = {
        "duplicated_tasks": len(duplicated_tasks),
        "duplicate_executions": duplicates,
        "max_executions_per_task": max_runs,
        "explained_by_fault": by_fault,
        "unexplained": len(unexplained),
        "unexplained_ids": listed(set(unexplained)),
        # Repeats a receiver that drops a seen idempotency key would not act on.
        "same_key_duplicates": same_key,
        # Repeats that started while an earlier run of the task was still running.
        "overlapping_duplicates": overlapping,
        "over_max_attempts": len(over_bound),
        "duplicated_ids": listed(duplicated_tasks),
        "over_max_attempts_ids": listed(over_bound),
        "same_token_runs": len(same_token),
        "same_token_list": listed(same_token),
    }
    problems = []
    if over_bound:
        problems.append(
            f"{len(over_bound)} tasks started more runs than the max_attempts asked for"
        )
    if unexplained:
        problems.append(f"{len(unexplained)} repeats explained by no fault")
    if same_token:
        problems.append(f"{len(same_token)} claims ran more than once under one fencing token")
    if problems:
        return Result("invalid", "; ".join(problems), details)
    return Result(
        "valid",
        f"{duplicates} duplicate executions over {len(duplicated_tasks)} tasks "
        f"(max {max_runs} per task), each explained by a fault",
        details,
    )
