"""A full Redis: schedule calls it refused were recorded as refused, and wrote nothing.

The ``fill_memory`` nemesis says in its fault when it began filling (``filling_since``)
and whether Redis refused a write (``full``); it ends when the ballast is gone. From the
producers' records: at least one schedule call must have been refused with the library's
``RedisFull`` inside such a window and recorded ``fail`` (certainly not written); a
refusal for memory recorded as indeterminate (``info``) or refused outside every window
is invalid, and so is a refused task that ran anyway. That nothing acknowledged was lost
and the backlog drained is ``unexplained_loss``'s business. Under an evicting policy
(the fill's ``policy``) Redis evicts instead of refusing: any ``RedisFull`` is then
invalid. ``unknown`` when Redis was never full (nor evicting) or no call was made while
it was full.
"""

from __future__ import annotations

from collections.abc import Sequence

from duetime.chaos.history.ops import EXECUTE, SCHEDULE, Op
from duetime.server import EVICTING_POLICIES

from .facts import fault_windows
from .result import Result, listed

FILL_FAULT = "fill_memory"
FULL_ERROR = "RedisFull("
# A refusal for memory as a design's plain client records it: Redis's words, or the
# class redis-py names it by (redis-py 8 gives no text in its repr).
OOM_TEXTS = ("OOM command not allowed", "OutOfMemoryError")


def _for_memory(op: Op) -> bool:
    error = str(op.value.get("error", ""))
    return FULL_ERROR in error or any(text in error for text in OOM_TEXTS)


def check(history: Sequence[Op]) -> Result:
    fills = [w for w in fault_windows(history) if w.fault == FILL_FAULT]
    full = [
        (float(w.detail.get("filling_since", w.start)), w.end)
        for w in fills
        if w.detail.get("full")
    ]
    evicting = [w for w in fills if str(w.detail.get("policy", "")) in EVICTING_POLICIES]
    details: dict[str, object] = {"fills": len(fills), "full": len(full), "evicting": len(evicting)}
    if not full and not evicting:
        return Result("unknown", "Redis was never full in this run", details)
    replies = [op for op in history if op.f == SCHEDULE and op.type in ("ok", "fail", "info")]

    def inside(op: Op) -> bool:
        return any(start <= op.time <= end for start, end in full)

    refused = [
        op for op in replies if op.type == "fail" and FULL_ERROR in op.value.get("error", "")
    ]
    refused_ids = {str(op.value["task_id"]) for op in refused}
    acked = {str(op.value["task_id"]) for op in history if op.f == SCHEDULE and op.type == "ok"}
    not_written = refused_ids - acked
    indeterminate = [op for op in replies if op.type == "info" and _for_memory(op)]
    outside = [op for op in refused if not inside(op)]
    ran = {
        str(op.value["task_id"])
        for op in history
        if op.f == EXECUTE and op.type == "invoke" and str(op.value["task_id"]) in not_written
    }
    details.update(
        {
            "calls_while_full": sum(inside(op) for op in replies),
            "refused_full": len(refused),
            # Filling, before maxmemory was set, Redis still accepts writes; once set, only
            # a call that crossed the moment (or the heal) may be acknowledged.
            "acknowledged_after_maxmemory_set": sum(
                op.type == "ok"
                and any(
                    float(w.detail.get("full_since", w.start)) <= op.time <= w.end for w in fills
                )
                for op in replies
            ),
            "memory_refusals_recorded_indeterminate": len(indeterminate),
            "refused_outside_a_fill": len(outside),
            "refused_but_ran_ids": listed(ran),
        }
    )
    problems = []
    if indeterminate:
        problems.append(
            f"{len(indeterminate)} refusals for memory recorded as indeterminate, not as "
            "refused (the call may have written)"
        )
    if outside:
        problems.append(f"{len(outside)} calls refused as full while no fill was in force")
    if ran:
        problems.append(f"{len(ran)} tasks refused as full ran anyway")
    if problems:
        return Result("invalid", "; ".join(problems), details)
    if not full:
        return Result(
            "valid",
            f"Redis evicted instead of refusing during {len(evicting)} fills (losses are "
            "unexplained_loss's business)",
            details,
        )
    if not refused:
        return Result("unknown", "no schedule call was refused while Redis was full", details)
    return Result(
        "valid",
        f"{len(refused)} schedule calls refused with RedisFull while Redis was full, "
        f"each recorded as not written; none of those tasks ran",
        details,
    )
