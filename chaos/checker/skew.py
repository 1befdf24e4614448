"""Clock skew in force: the skewed process really acted with its clock shifted.

Each handler run records how far its process's wall clock (``time.time()``) was from
the testbed clock (``wall_skew_s``), and so does each round of a design's dispatcher
process that moved tasks (``dispatch``: that process decides due times and runs no
handler). A clock-skew fault claims one process ran shifted by ``shift_s``; this
checker looks for runs or dispatch rounds of that process, inside the fault window,
that saw at least half that shift, beyond what the host's own wall clock had moved
(:mod:`.wall_clock`). A fault with no such run tested nothing (the worker ran
nothing, or a restart dropped the shift): ``unknown``, never a pass.
"""

from __future__ import annotations

from collections.abc import Sequence

from duetime.chaos.history.ops import DISPATCH, EXECUTE, Op

from .facts import fault_windows
from .result import Result
from .wall_clock import WallClock

CLOCK_SKEW = "clock_skew"


def check(history: Sequence[Op]) -> Result:
    runs = [
        op
        for op in history
        if (op.f == EXECUTE and op.type == "invoke") or (op.f == DISPATCH and op.type == "info")
    ]
    faults = [w for w in fault_windows(history) if w.fault == CLOCK_SKEW]
    wall = WallClock.of(history)
    untested: list[str] = []
    seen: list[dict[str, object]] = []
    total = 0
    for w in faults:
        shift = float(w.detail.get("shift_s", 0.0))
        skews = [
            float(op.value["wall_skew_s"]) - wall.lead(op.time)
            for op in runs
            if w.start <= op.time <= w.end and w.hits(op.process) and "wall_skew_s" in op.value
        ]
        in_force = [s for s in skews if shift and s / shift >= 0.5]
        seen.append({"fault_id": w.detail.get("fault_id"), "shift_s": shift, "runs": len(in_force)})
        total += len(in_force)
        if not in_force:
            untested.append(str(w.detail.get("fault_id", CLOCK_SKEW)))
    details = {"skew_faults": len(faults), "runs_under_skew": seen, "untested": untested}
    if not faults:
        return Result("valid", "no clock skew in this run", details)
    if untested:
        return Result(
            "unknown",
            f"{len(untested)} of {len(faults)} clock skews ran no task with the clock shifted",
            details,
        )
    return Result(
        "valid", f"{len(faults)} clock skews in force: {total} runs with the clock shifted", details
    )
