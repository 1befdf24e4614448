"""Fencing, seen from outside: Redis accepted no state change from a superseded holder.

The reference scheduler's workers record every lease change (``lease`` ops, written by
``client/handlers.py``'s observer): each claim with the fencing token it got, and each
renew, ack, fail and release with the token it presented, ``ok`` if Redis accepted it,
``fail`` if Redis refused it. A change is *stale* when, before it was sent, a claim of
the same task with a larger token had already been answered: another run holds the task
now (tokens come from one counter per namespace and only grow). Redis must refuse every
stale change; one it accepted let a superseded worker finish, fail, keep or hand back a
task that another worker runs.

Only claims answered before the change was *sent* count, so a change and a claim that
crossed in flight are never blamed. Nor is a claim a strike on Redis undid: one answered
within the loss window Redis documents for the run's settings before a strike that came
before the change (the restarted Redis never heard of it, and its token counter may
hand the same numbers out again). A failover undoes the same way the claims the promoted
replica lacked (answered while it lagged behind, or by a partitioned primary before it was
demoted: ``loss_bounds.documented_span``), under every durability setting, since
claims are never WAITed: a newer claim a documented failover undid fences nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from duetime.chaos.history.ops import LEASE, Op

from .facts import FaultWindow, executions, fault_windows, redis_settings
from .loss_bounds import REPLICATION_FAULTS, documented_span, documented_window_s
from .result import Result, listed

# What a holder does with its lease; a superseded holder must have each of them refused.
STATE_CHANGES = frozenset({"renew", "ack", "fail", "release"})


def _undone(
    answered: float, sent: float, strikes: Sequence[FaultWindow], settings: dict[str, str]
) -> bool:
    """A strike on Redis after the claim was answered, before the change was sent, and
    within the window Redis documents may have taken the claim."""
    for w in strikes:
        struck = float(w.detail.get("struck_at") or w.start)
        if w.fault in REPLICATION_FAULTS:
            # Claims are never WAITed: a failover may undo one under every durability.
            span = documented_span(settings, w, waited=False)
            if span is not None and span.covers(answered) and struck < sent:
                return True
            continue
        reach = documented_window_s(settings, w.fault, w.detail)
        if answered <= struck < sent and struck - answered <= reach:
            return True
    return False


def check(history: Sequence[Op]) -> Result:
    changes = [op for op in history if op.f == LEASE]
    strikes = [w for w in fault_windows(history) if not w.targets]
    settings = redis_settings(history)
    claims: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for op in changes:
        if op.value.get("action") == "claim" and op.type == "ok":
            claims[str(op.value["task_id"])].append((op.time, int(op.value["token"])))
    accepted_stale: list[str] = []
    refused_stale = 0
    refused = 0
    for op in changes:
        if op.value.get("action") not in STATE_CHANGES:
            continue  # claims; quarantines, lost records and evictions hold no lease
        task_id, token = str(op.value["task_id"]), int(op.value["token"])
        sent = float(op.value.get("sent", op.time))
        superseded = any(
            t > token and answered < sent and not _undone(answered, sent, strikes, settings)
            for answered, t in claims[task_id]
        )
        if op.type == "fail":
            refused += 1
        if superseded and op.type == "ok":
            accepted_stale.append(f"{op.value['action']} {task_id} token {token} by {op.process}")
        elif superseded:
            refused_stale += 1
    details = {
        "lease_changes": len(changes),
        "claims": sum(len(c) for c in claims.values()),
        "refused": refused,
        "stale_refused": refused_stale,
        "stale_accepted": len(accepted_stale),
        "stale_accepted_list": listed(accepted_stale),
    }
    if accepted_stale:
        return Result(
            "invalid",
            f"{len(accepted_stale)} state changes by a superseded holder were accepted",
            details,
        )
    if not changes and executions(history):
        return Result(
            "unknown",
            "tasks ran, but no worker recorded its lease changes: fencing was not observed",
            details,
        )
    return Result(
        "valid",
        f"{refused_stale} changes by superseded holders, all refused "
        f"({len(changes)} lease changes recorded)",
        details,
    )
