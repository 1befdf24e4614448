"""Lost tasks: acknowledged schedules that never executed (Jepsen's total-queue, for tasks).

Acknowledged = some schedule call returned ok. Executed = some handler run
finished. ``lost`` = acknowledged - executed; ``recovered`` = executed although
every call was indeterminate; ``unexpected`` = executed but never scheduled;
``rejected_but_executed`` = every call said fail (certainly not written), yet it
ran. Valid when nothing is lost, unexpected or rejected-but-executed.
Cron firings are the cron checker's business.

The details also trace each lost task to the fault that lost it and give the
window of acknowledged writes it came from (:mod:`.loss_windows`).
:class:`LostWithin` and :class:`LostAllPending` turn what Redis documents about
that window under a persistence setting into checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from duetime.chaos.history.ops import LEASE, SCHEDULE, Op
from duetime.server import EVICTING_POLICIES

from .facts import doomed_tasks, executions, is_cron, redis_settings, schedule_outcomes
from .loss_windows import (
    LossWindow,
    explain_losses,
    loss_windows,
    lost_tasks,
    window_details,
)
from .result import MAX_LISTED, Result, listed


def check(history: Sequence[Op]) -> Result:
    outcomes = schedule_outcomes(history)
    executed = {e.task_id for e in executions(history) if e.executed and not is_cron(e.task_id)}
    runs = [e for e in executions(history) if not is_cron(e.task_id)]
    started = {e.task_id for e in runs}
    failed = {e.task_id for e in runs if e.outcome == "fail"}
    acked = {t for t, o in outcomes.items() if o.acked}
    indeterminate = {t for t, o in outcomes.items() if o.indeterminate}
    rejected = {t for t, o in outcomes.items() if o.rejected}
    # Tasks meant to run out of attempts never finish: the dead_letters checker's business.
    lost = acked - executed - doomed_tasks(history)
    recovered = indeterminate & executed
    unexpected = started - set(outcomes)
    rejected_but_executed = rejected & started
    details = {
        "attempted": len(outcomes),
        "acknowledged": len(acked),
        "executed": len(executed & set(outcomes)),
        "lost": len(lost),
        # Why each lost task is gone, as far as the history tells: its only runs
        # died mid-handler, its runs failed and were not run again, or it never ran.
        "lost_started_never_finished": len((lost & started) - failed),
        "lost_failed_not_retried": len(lost & failed),
        "lost_never_started": len(lost - started),
        "indeterminate": len(indeterminate),
        "indeterminate_replies": sum(1 for op in history if op.f == SCHEDULE and op.type == "info"),
        "recovered": len(recovered),
        "rejected": len(rejected),
        "unexpected": len(unexpected),
        "rejected_but_executed": len(rejected_but_executed),
        "lost_ids": listed(lost),
        "unexpected_ids": listed(unexpected),
        "rejected_but_executed_ids": listed(rejected_but_executed),
        **window_details(history, lost),
    }
    problems = []
    if lost:
        problems.append(f"{len(lost)} of {len(acked)} acknowledged tasks lost")
    if unexpected:
        problems.append(f"{len(unexpected)} tasks ran that were never scheduled")
    if rejected_but_executed:
        problems.append(f"{len(rejected_but_executed)} rejected schedules ran anyway")
    if problems:
        return Result("invalid", "; ".join(problems), details)
    return Result(
        "valid",
        f"all {len(acked)} acknowledged tasks executed ({len(recovered)} of "
        f"{len(indeterminate)} indeterminate recovered)",
        details,
    )


def check_unexplained(history: Sequence[Op]) -> Result:
    """Every lost task is explained by a strike on Redis, within what Redis documents.

    Valid when each acknowledged task that never ran was acknowledged inside the loss
    window of a strike (see :func:`.loss_windows.explain_losses`), and nothing ran that
    was never scheduled or was rejected. Under an evicting ``maxmemory-policy`` (read back
    from Redis), which the testbed runs only with eviction allowed, a loss no strike
    explains is explained by eviction only when a worker reported one after the task was
    scheduled (:func:`eviction_reports`): eviction may take tasks, silently never.
    This is the loss rule every run of the reference scheduler is held to, under every
    configuration.
    """
    base = check(history)
    lost = lost_tasks(history)
    explained, unexplained = explain_losses(history, lost)
    by_fault: dict[str, int] = {}
    for fault_id in explained.values():
        by_fault[fault_id] = by_fault.get(fault_id, 0) + 1
    settings = redis_settings(history)
    detected = detected_losses(history)
    evicted: set[str] = set()
    if settings.get("maxmemory-policy", "") in EVICTING_POLICIES:
        reported = eviction_reports(history)
        outcomes = schedule_outcomes(history)
        evicted = {t for t in unexplained if any(at >= outcomes[t].first_invoke for at in reported)}
        unexplained -= evicted
    details = {
        "lost": len(lost),
        "explained": len(explained) + len(evicted),
        "explained_by_strike": by_fault,
        "explained_by_detected_eviction": len(evicted),
        "losses_workers_detected": detected,
        "unexplained": len(unexplained),
        "unexplained_ids": listed(unexplained),
        "settings": settings,
    }
    problems = []
    if unexplained:
        problems.append(
            f"{len(unexplained)} of {len(lost)} lost tasks explained by no strike within "
            "what Redis documents for this config"
        )
    if base.details.get("unexpected"):
        problems.append(f"{base.details['unexpected']} tasks ran that were never scheduled")
    if base.details.get("rejected_but_executed"):
        problems.append(f"{base.details['rejected_but_executed']} rejected schedules ran anyway")
    if problems:
        return Result("invalid", "; ".join(problems), details)
    if evicted:
        summary = (
            f"{len(lost)} lost tasks: {len(explained)} within the documented loss window of "
            f"a strike, {len(evicted)} after the workers reported Redis evicting keys or "
            f"records gone ({detected} counted)"
        )
    elif lost:
        summary = (
            f"{len(lost)} lost tasks, each acknowledged within the documented loss window "
            "of a strike on Redis"
        )
    else:
        summary = "no acknowledged task lost"
    return Result("valid", summary, details)


def _eviction_ops(history: Sequence[Op]) -> list[Op]:
    return [
        op
        for op in history
        if op.f == LEASE
        and op.value.get("action") in ("lost", "evicted")
        and int(op.value.get("count", 0)) > 0
    ]


def detected_losses(history: Sequence[Op]) -> int:
    """What the workers reported gone: records their claims found missing (``lost``) and
    keys Redis evicted while they watched (``evicted``)."""
    return sum(int(op.value["count"]) for op in _eviction_ops(history))


def eviction_reports(history: Sequence[Op]) -> list[float]:
    """When workers reported records gone or keys evicted."""
    return [op.time for op in _eviction_ops(history)]


def _strikes_of(fault: str, history: Sequence[Op]) -> tuple[list[LossWindow], dict[str, Any]]:
    windows = [w for w in loss_windows(history, lost_tasks(history))[0] if w.fault == fault]
    details = {
        "fault": fault,
        "strikes": len(windows),
        "at_risk": sum(w.at_risk for w in windows),
        "lost": sum(w.lost for w in windows),
        "loss_windows": [w.to_dict() for w in windows[:MAX_LISTED]],
    }
    return windows, details


@dataclass(frozen=True)
class LostWithin:
    """Every task lost by a ``fault`` strike was acknowledged at most ``max_s`` before it.

    The bound a persistence setting documents (``everysec``: about the last second,
    up to about 2 s). ``unknown`` when no such strike happened: a run that did not
    test the bound does not pass it.
    """

    fault: str
    max_s: float

    def __call__(self, history: Sequence[Op]) -> Result:
        windows, details = _strikes_of(self.fault, history)
        details["max_s"] = self.max_s
        if not windows:
            return Result("unknown", f"no {self.fault} struck in this run", details)
        ages = [w.oldest_lost_s for w in windows if w.oldest_lost_s is not None]
        if not ages:
            return Result(
                "valid",
                f"{len(windows)} {self.fault} strikes lost none of {details['at_risk']} "
                "acknowledged tasks at risk",
                details,
            )
        oldest = max(ages)
        details["oldest_lost_ack_s"] = round(oldest, 3)
        summary = (
            f"{len(windows)} {self.fault} strikes lost {details['lost']} of "
            f"{details['at_risk']} acknowledged tasks at risk, acknowledged up to "
            f"{oldest:.3f} s before the strike"
        )
        if oldest > self.max_s:
            return Result("invalid", f"{summary}: over the {self.max_s:g} s bound", details)
        return Result("valid", f"{summary}: within the {self.max_s:g} s bound", details)


@dataclass(frozen=True)
class LostAllPending:
    """Every ``fault`` strike lost every acknowledged task that was only in Redis.

    What Redis documents for no persistence at all, and for ``appendfsync no`` on
    a filesystem that never writes back on its own. ``unknown`` when no such strike
    found a task at risk.
    """

    fault: str

    def __call__(self, history: Sequence[Op]) -> Result:
        windows, details = _strikes_of(self.fault, history)
        tested = [w for w in windows if w.at_risk]
        if not tested:
            return Result("unknown", f"no {self.fault} strike found a task at risk", details)
        kept = [w.fault_id for w in tested if not w.everything_lost]
        summary = (
            f"{len(tested)} {self.fault} strikes lost {details['lost']} of "
            f"{details['at_risk']} acknowledged tasks at risk"
        )
        if kept:
            details["kept_some"] = kept
            return Result("invalid", f"{summary}: {len(kept)} kept some", details)
        return Result("valid", f"{summary}: each lost all of them", details)
