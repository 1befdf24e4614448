"""Lateness: how long after it was due each scheduled task first started.

A task's lateness is its first start minus the later of its due time and the
moment it was first submitted (a task submitted after its due time, because
Redis was down, could not have run earlier). Reports p50/p99/max over one-off
tasks, and the same until the first run that finished (a run killed mid-task
is only finished by its retry, after the lease). Times are on the host's wall
clock, as due times are (:mod:`.wall_clock`). It is a measurement: valid unless a
bound is given and exceeded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from duetime.chaos.history.ops import Op

from .facts import executions_by_task, is_cron, percentile, schedule_outcomes
from .result import Result, Verdict
from .wall_clock import WallClock


def latenesses(history: Sequence[Op], *, until_finished: bool = False) -> dict[str, float]:
    """Seconds late per one-off task: at its first start, or (``until_finished``) at the
    end of its first run that finished (tasks that never finished are left out)."""
    outcomes = schedule_outcomes(history)
    wall = WallClock.of(history)
    result = {}
    for task_id, runs in executions_by_task(history).items():
        if is_cron(task_id) or task_id not in outcomes:
            continue
        o = outcomes[task_id]
        if until_finished:
            ends = [e.end for e in runs if e.executed and e.end is not None]
            if not ends:
                continue
            moment = min(ends)
        else:
            moment = runs[0].start
        result[task_id] = wall.at(moment) - max(o.due_at, wall.at(o.first_invoke))
    return result


@dataclass(frozen=True)
class LatenessChecker:
    """Measures lateness; ``max_p99_s``/``max_s`` turn it into a check."""

    max_p99_s: float | None = None
    max_s: float | None = None

    def __call__(self, history: Sequence[Op]) -> Result:
        values = sorted(latenesses(history).values())
        if not values:
            verdict: Verdict = "unknown" if self.max_p99_s or self.max_s else "valid"
            return Result(verdict, "no task started: no lateness to measure", {"n": 0})
        p50, p99, worst = percentile(values, 50), percentile(values, 99), values[-1]
        done = sorted(latenesses(history, until_finished=True).values())
        details = {
            "n": len(values),
            "p50_s": round(p50, 4),
            "p99_s": round(p99, 4),
            "max_s": round(worst, 4),
            "finished_p50_s": round(percentile(done, 50), 4) if done else None,
            "finished_p99_s": round(percentile(done, 99), 4) if done else None,
            "finished_max_s": round(done[-1], 4) if done else None,
        }
        summary = f"lateness p50 {p50:.3f} s, p99 {p99:.3f} s, max {worst:.3f} s"
        if done:
            summary += f" (until finished: p99 {percentile(done, 99):.3f} s, max {done[-1]:.3f} s)"
        exceeded = []
        if self.max_p99_s is not None and p99 > self.max_p99_s:
            exceeded.append(f"p99 over {self.max_p99_s} s")
        if self.max_s is not None and worst > self.max_s:
            exceeded.append(f"max over {self.max_s} s")
        if exceeded:
            return Result("invalid", f"{summary}: {', '.join(exceeded)}", details)
        return Result("valid", summary, details)


check = LatenessChecker()
