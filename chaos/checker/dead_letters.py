"""Tasks meant to run out of attempts did: every attempt ran, and then they stopped.

The workload marks some tasks *doomed*: their producer asked them to fail on every
run (``fail_attempts >= max_attempts``). Each must be started ``max_attempts`` times
(not counting runs its worker handed back, which give their attempt back), the bound its
producer recorded, and then be left in the dead letters: fewer
runs mean the scheduler gave up on it early (or lost it), more are the duplicated
checker's business. A doomed task that a strike on Redis took before it ran out is
excused like any lost task: only inside the loss window Redis documents.
"""

from __future__ import annotations

from collections.abc import Sequence

from duetime.chaos.history.ops import Op

from .facts import attempts_by_task, doomed_tasks, executions_by_task, schedule_outcomes
from .loss_windows import explain_losses
from .result import Result, listed


def check(history: Sequence[Op]) -> Result:
    doomed = doomed_tasks(history)
    outcomes = schedule_outcomes(history)
    runs = executions_by_task(history)
    attempts = attempts_by_task(history)
    acked = {t for t in doomed if t in outcomes and outcomes[t].acked}
    short = {t for t in acked if len(attempts.get(t, [])) < outcomes[t].max_attempts}
    finished = sorted(t for t in acked if any(e.executed for e in runs.get(t, [])))
    explained, unexplained = explain_losses(history, short)
    details = {
        "doomed": len(acked),
        "ran_out": len(acked - short),
        "short_of_attempts": len(short),
        "short_explained_by_strike": len(explained),
        "short_unexplained_ids": listed(unexplained),
        "finished_ids": listed(finished),
    }
    problems = []
    if unexplained:
        problems.append(
            f"{len(unexplained)} of {len(acked)} tasks meant to run out of attempts stopped "
            "short of max_attempts, and no strike explains it"
        )
    if finished:
        problems.append(f"{len(finished)} tasks meant to fail every run finished")
    if problems:
        return Result("invalid", "; ".join(problems), details)
    if not acked:
        return Result("valid", "no task in this workload is meant to run out of attempts", details)
    return Result(
        "valid",
        f"{len(acked) - len(short)} of {len(acked)} tasks ran every attempt and stopped "
        f"({len(explained)} taken by a strike within its documented window)",
        details,
    )
