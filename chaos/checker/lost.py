"""Lost tasks: acknowledged schedules that never executed (Jepsen's total-queue, for tasks).

Acknowledged = some schedule call returned ok. Executed = some handler run
finished. ``lost`` = acknowledged - executed; ``recovered`` = executed although
every call was indeterminate; ``unexpected`` = executed but never scheduled;
``rejected_but_executed`` = every call said fail (certainly not written), yet it
ran. Valid when nothing is lost, unexpected or rejected-but-executed.
Cron firings are the cron checker's business.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..history import SCHEDULE, Op
from .facts import executions, is_cron, schedule_outcomes
from .result import Result, listed


def check(history: Sequence[Op]) -> Result:
    outcomes = schedule_outcomes(history)
    executed = {e.task_id for e in executions(history) if e.executed and not is_cron(e.task_id)}
    started = {e.task_id for e in executions(history) if not is_cron(e.task_id)}
    acked = {t for t, o in outcomes.items() if o.acked}
    indeterminate = {t for t, o in outcomes.items() if o.indeterminate}
    rejected = {t for t, o in outcomes.items() if o.rejected}
    lost = acked - executed
    recovered = indeterminate & executed
    unexpected = started - set(outcomes)
    rejected_but_executed = rejected & started
    details = {
        "attempted": len(outcomes),
        "acknowledged": len(acked),
        "executed": len(executed & set(outcomes)),
        "lost": len(lost),
        "lost_started_never_finished": len(lost & started),
        "indeterminate": len(indeterminate),
        "indeterminate_replies": sum(1 for op in history if op.f == SCHEDULE and op.type == "info"),
        "recovered": len(recovered),
        "rejected": len(rejected),
        "unexpected": len(unexpected),
        "rejected_but_executed": len(rejected_but_executed),
        "lost_ids": listed(lost),
        "unexpected_ids": listed(unexpected),
        "rejected_but_executed_ids": listed(rejected_but_executed),
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
