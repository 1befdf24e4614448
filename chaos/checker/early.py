"""Early executions: a handler started before its task was due.

The due time is the one the producer asked for (ground truth), or, for a cron
firing, the slot time in its id; never the due time the scheduler handed its
handler, which only the mismatch count compares. A run of a task whose due time
nothing outside the scheduler recorded cannot be judged: it makes the verdict
``unknown`` (the lost checker reports it as never scheduled). A start is judged on
the host's wall clock at that moment, as Redis judged the due time
(:mod:`.wall_clock`).
"""

from __future__ import annotations

from collections.abc import Sequence

from duetime.chaos.history.ops import Op

from .facts import CRON_PREFIX, executions, schedule_outcomes
from .result import Result, listed
from .wall_clock import WallClock

# Due times travel as float seconds and may be stored as integer milliseconds:
# one millisecond of rounding either way, plus one for the clock anchoring.
TOLERANCE_S = 0.002


def true_due(task_id: str, asked: dict[str, float]) -> float | None:
    """The due time recorded outside the scheduler, if any."""
    if task_id in asked:
        return asked[task_id]
    if task_id.startswith(CRON_PREFIX):
        slot_ms = task_id.rsplit(":", 1)[-1]
        if slot_ms.isdigit():
            return int(slot_ms) / 1000
    return None


def check(history: Sequence[Op], tolerance: float = TOLERANCE_S) -> Result:
    asked = {t: o.due_at for t, o in schedule_outcomes(history).items()}
    wall = WallClock.of(history)
    early = []
    worst = 0.0
    mismatched = []
    runs = executions(history)
    unjudged = []
    for e in runs:
        due = true_due(e.task_id, asked)
        if due is None:
            unjudged.append(e.task_id)
            continue
        if abs(e.due_at - due) > tolerance:
            mismatched.append(e.task_id)
        started = wall.latest(e.start)
        if started < due - tolerance:
            early.append(e.task_id)
            worst = max(worst, due - started)
    details = {
        "executions": len(runs),
        "early": len(early),
        "max_early_s": round(worst, 6),
        "tolerance_s": tolerance,
        "wall_clock_moved_s": round(wall.moved_s, 6),
        "early_ids": listed(set(early)),
        "due_mismatch": len(mismatched),
        "due_mismatch_ids": listed(set(mismatched)),
        "no_due_known": len(unjudged),
        "no_due_known_ids": listed(set(unjudged)),
    }
    if early:
        return Result(
            "invalid", f"{len(early)} executions started early (worst {worst:.3f} s)", details
        )
    if unjudged:
        return Result(
            "unknown",
            f"{len(unjudged)} executions of tasks with no due time recorded outside the "
            "scheduler: not judged",
            details,
        )
    moved = f" (the host's wall clock moved {wall.moved_s:.3f} s on the testbed's)"
    return Result(
        "valid",
        f"none of {len(runs)} executions started before due"
        + (moved if wall.moved_s >= 0.01 else ""),
        details,
    )
