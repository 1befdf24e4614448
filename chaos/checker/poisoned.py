"""Poisoned records: each unreadable record was set aside with its reason, none ran, and
nothing else stopped.

The ``poison_records`` nemesis lists in its fault what it wrote: task ids with the kind
of damage, and recurring-spec names. From the history, every poisoned task must have been
set aside by a worker with a reason (a ``lease`` op the workers' observer records: a
``quarantine``, or a ``fail`` of a task it could not read, each with ``reason``), no
handler may have started one, no slot of a poisoned spec may have fired, and no worker
or cron process may have exited on its own after the first poisoning. That every good
task ran and the other schedules kept firing is what ``unexplained_loss`` and ``cron``
check. ``unknown`` when no record was poisoned.
"""

from __future__ import annotations

from collections.abc import Sequence

from duetime.chaos.history.ops import EXECUTE, LEASE, PROCESS_END, Op

from .facts import CRON_PREFIX, fault_windows
from .result import Result, listed

POISON_FAULT = "poison_records"
SURVIVING_ROLES = ("worker", "cron")


def check(history: Sequence[Op]) -> Result:
    windows = [w for w in fault_windows(history) if w.fault == POISON_FAULT]
    kinds = {str(t["task_id"]): str(t["kind"]) for w in windows for t in w.detail.get("tasks", ())}
    specs = {str(name) for w in windows for name in w.detail.get("cron", ())}
    if not kinds and not specs:
        return Result("unknown", "no record was poisoned in this run", {"poisoned": 0})
    first = min(w.start for w in windows)
    reasons: dict[str, str] = {}
    for op in history:
        if op.f == LEASE and op.type == "ok" and op.value.get("reason"):
            reasons.setdefault(str(op.value["task_id"]), str(op.value["reason"]))
    ran = {
        str(op.value["task_id"])
        for op in history
        if op.f == EXECUTE and op.type == "invoke" and str(op.value["task_id"]) in kinds
    }
    fired = sorted(
        {
            str(op.value["task_id"])
            for op in history
            if op.f == EXECUTE
            and op.type == "invoke"
            and str(op.value["task_id"]).startswith(CRON_PREFIX)
            and str(op.value["task_id"]).split(":")[1] in specs
        }
    )
    exited = sorted(
        f"{op.value.get('name')} (returncode {op.value.get('returncode')})"
        for op in history
        if op.f == PROCESS_END
        and op.value.get("how") == "exited"
        and op.value.get("role") in SURVIVING_ROLES
        and op.time >= first
    )
    unset = sorted(t for t in kinds if t not in reasons)
    details = {
        "poisoned_tasks": len(kinds),
        "poisoned_specs": len(specs),
        "kinds": sorted(set(kinds.values())),
        "set_aside_with_reason": len(set(kinds) & set(reasons)),
        "reasons": {t: reasons[t][:200] for t in listed([t for t in kinds if t in reasons])},
        "not_set_aside_ids": listed(unset),
        "ran_ids": listed(ran),
        "poisoned_spec_firings": listed(fired),
        "processes_exited": exited[:20],
    }
    problems = []
    if unset:
        problems.append(f"{len(unset)} of {len(kinds)} poisoned tasks not set aside with a reason")
    if ran:
        problems.append(f"{len(ran)} poisoned tasks reached a handler")
    if fired:
        problems.append(f"{len(fired)} firings of a poisoned recurring spec")
    if exited:
        problems.append(f"{len(exited)} worker or cron processes exited on their own")
    if problems:
        return Result("invalid", "; ".join(problems), details)
    return Result(
        "valid",
        f"all {len(kinds)} poisoned tasks set aside with a reason, none ran; "
        f"{len(specs)} poisoned specs never fired; every worker and cron process survived",
        details,
    )
