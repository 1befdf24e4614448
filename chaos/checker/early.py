"""Early executions: a handler started before its task was due.

The due time is the one the producer asked for (ground truth), or, for a cron
firing, the slot time in its id. Also reports runs whose ``task.due_at`` differs
from what was asked (the scheduler handed out a different due time).
"""

from __future__ import annotations

from collections.abc import Sequence

from duetime.chaos.history.ops import Op

from .facts import CRON_PREFIX, executions, schedule_outcomes
from .result import Result, listed

# Due times travel as float seconds and may be stored as integer milliseconds:
# one millisecond of rounding either way, plus one for the clock anchoring.
TOLERANCE_S = 0.002


def true_due(task_id: str, asked: dict[str, float], reported: float) -> float:
    if task_id in asked:
        return asked[task_id]
    if task_id.startswith(CRON_PREFIX):
        slot_ms = task_id.rsplit(":", 1)[-1]
        if slot_ms.isdigit():
            return int(slot_ms) / 1000
    return reported


def check(history: Sequence[Op], tolerance: float = TOLERANCE_S) -> Result:
    asked = {t: o.due_at for t, o in schedule_outcomes(history).items()}
    early = []
    worst = 0.0
    mismatched = []
    runs = executions(history)
    for e in runs:
        due = true_due(e.task_id, asked, e.due_at)
        if abs(e.due_at - due) > tolerance:
            mismatched.append(e.task_id)
        if e.start < due - tolerance:
            early.append(e.task_id)
            worst = max(worst, due - e.start)
    details = {
        "executions": len(runs),
        "early": len(early),
        "max_early_s": round(worst, 6),
        "tolerance_s": tolerance,
        "early_ids": listed(set(early)),
        "due_mismatch": len(mismatched),
        "due_mismatch_ids": listed(set(mismatched)),
    }
    if early:
        return Result(
            "invalid", f"{len(early)} executions started early (worst {worst:.3f} s)", details
        )
    return Result("valid", f"none of {len(runs)} executions started before due", details)
