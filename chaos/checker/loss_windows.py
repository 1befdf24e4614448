"""Which fault lost each lost task, and the window of acknowledged writes it came from.

A *strike* is a fault that hit Redis itself (a fault window without targets) at
one moment: its ``struck_at`` detail, else the window's start. A fault that never
struck (``struck_at`` None: a disk that was only slow) is none. A failover
(``kill_primary``, ``lag_replica``, ``failover_power_loss``, ``partition_primary``) is a
strike on Redis at the moment the primary fell or was cut off. A lost task was lost by
the first strike whose documented span holds its acknowledgement, else by the first
strike at or after it (``ACK_SLACK_S`` allows for a reply recorded just after the
strike it raced).

A lost task is *explained* only by a strike whose span of acknowledged writes, as Redis
documents it for the run's persistence and durability settings and that kind of strike
(:func:`~duetime.chaos.checker.loss_bounds.documented_span`), holds its acknowledgement.
In a Cluster the strike must also have hit the master of the task's slot: the nemesis
records the slots the struck master served (``struck_slots``), the producer the slot of
each task it scheduled (``slot``); a task on another master is never excused by it, nor
counted at risk.
Any other loss is the scheduler's (or the testbed's), whatever struck Redis around it.

Per strike: the tasks *at risk* (acknowledged before it and not yet started by a
worker, so Redis's copy was the only one), the tasks it lost, and how long before
it each lost task had been acknowledged. The oldest of those ages is the window of
acknowledged writes the persistence setting gave up.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from duetime.chaos.history.ops import SCHEDULE, Op

from .facts import (
    FaultWindow,
    doomed_tasks,
    executions,
    fault_windows,
    is_cron,
    redis_settings,
)
from .failovers import failovers
from .loss_bounds import ACK_SLACK_S, documented_span, holds_slot, struck_at, struck_slots
from .result import MAX_LISTED, listed


@dataclass(frozen=True)
class LossWindow:
    """What one strike on Redis cost; ages are seconds before the strike (``at``)."""

    fault_id: str
    fault: str
    at: float
    at_risk: int
    lost: int
    lost_ack_ages_s: tuple[float, ...]
    at_risk_oldest_ack_s: float | None

    @property
    def oldest_lost_s(self) -> float | None:
        return max(self.lost_ack_ages_s) if self.lost_ack_ages_s else None

    @property
    def newest_lost_s(self) -> float | None:
        return min(self.lost_ack_ages_s) if self.lost_ack_ages_s else None

    @property
    def everything_lost(self) -> bool:
        """It lost every task at risk (and there was one)."""
        return self.at_risk > 0 and self.lost == self.at_risk

    def to_dict(self) -> dict[str, Any]:
        return {
            "fault_id": self.fault_id,
            "fault": self.fault,
            "at": round(self.at, 3),
            "at_risk": self.at_risk,
            "lost": self.lost,
            "everything_at_risk_lost": self.everything_lost,
            "oldest_lost_ack_s": _round(self.oldest_lost_s),
            "newest_lost_ack_s": _round(self.newest_lost_s),
            "oldest_at_risk_ack_s": _round(self.at_risk_oldest_ack_s),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def strikes(history: Sequence[Op]) -> list[tuple[FaultWindow, float]]:
    """Faults that hit Redis at a moment, with that moment, in time order."""
    found = []
    for w in fault_windows(history):
        at = struck_at(w)
        if at is not None:
            found.append((w, at))
    return sorted(found, key=lambda pair: pair[1])


def ack_times(history: Sequence[Op]) -> dict[str, float]:
    """When each one-off task was first acknowledged."""
    acked: dict[str, float] = {}
    for op in history:
        if op.f == SCHEDULE and op.type == "ok":
            task_id = str(op.value["task_id"])
            if not is_cron(task_id):
                acked[task_id] = min(op.time, acked.get(task_id, math.inf))
    return acked


def task_slots(history: Sequence[Op]) -> dict[str, int]:
    """The Cluster slot of each one-off task's keys, where its producer recorded one."""
    return {
        str(op.value["task_id"]): int(op.value["slot"])
        for op in history
        if op.f == SCHEDULE and op.type == "ok" and op.value.get("slot") is not None
    }


def lost_tasks(history: Sequence[Op]) -> set[str]:
    """Acknowledged one-off tasks with no run that finished (but those meant to fail)."""
    executed = {e.task_id for e in executions(history) if e.executed}
    return set(ack_times(history)) - executed - doomed_tasks(history)


def loss_windows(history: Sequence[Op], lost: set[str]) -> tuple[list[LossWindow], set[str]]:
    """One :class:`LossWindow` per strike, and the lost tasks no strike explains."""
    found = strikes(history)
    settings = redis_settings(history)
    spans = [documented_span(settings, w) for w, _ in found]
    acked = ack_times(history)
    slots = task_slots(history)
    first_start: dict[str, float] = {}
    for e in executions(history):
        first_start.setdefault(e.task_id, e.start)
    culprit: dict[str, int] = {}
    for task_id in lost:
        a, slot = acked[task_id], slots.get(task_id)
        first = next((i for i, span in enumerate(spans) if span and span.covers(a, slot)), None)
        if first is None:
            first = next((i for i, (_, at) in enumerate(found) if at >= a - ACK_SLACK_S), None)
        if first is not None:
            culprit[task_id] = first
    by_strike: dict[int, set[str]] = defaultdict(set)
    for task_id, i in culprit.items():
        by_strike[i].add(task_id)
    windows: list[LossWindow] = []
    gone: set[str] = set()
    for i, (w, at) in enumerate(found):
        lost_here = by_strike[i]
        on_struck_node = struck_slots(w)
        pending = {
            t
            for t, a in acked.items()
            if a <= at
            and first_start.get(t, math.inf) > at + ACK_SLACK_S
            and t not in gone
            and holds_slot(on_struck_node, slots.get(t))
        }
        at_risk = lost_here | pending
        gone |= lost_here
        windows.append(
            LossWindow(
                fault_id=str(w.detail.get("fault_id", w.fault)),
                fault=w.fault,
                at=at,
                at_risk=len(at_risk),
                lost=len(lost_here),
                lost_ack_ages_s=tuple(sorted(at - acked[t] for t in lost_here)),
                at_risk_oldest_ack_s=max((at - acked[t] for t in at_risk), default=None),
            )
        )
    return windows, lost - set(culprit)


def explain_losses(history: Sequence[Op], lost: set[str]) -> tuple[dict[str, str], set[str]]:
    """Each lost task a strike explains (task -> fault id), and the lost tasks none does.

    A strike explains a task acknowledged at ``a`` when its documented span holds ``a``:
    for a strike on one node, ``a`` no later than ``ACK_SLACK_S`` after it (a reply may be
    recorded just after the strike it raced) and within the window its persistence setting
    documents; for a failover, ``a`` while the promoted node lagged behind, under
    ``durability=none`` only.
    """
    settings = redis_settings(history)
    acked = ack_times(history)
    slots = task_slots(history)
    spans = [(w, documented_span(settings, w)) for w, _ in strikes(history)]
    explained: dict[str, str] = {}
    for task_id in sorted(lost):
        a = acked.get(task_id)
        if a is None:
            continue
        for w, span in spans:
            if span is not None and span.covers(a, slots.get(task_id)):
                explained[task_id] = str(w.detail.get("fault_id", w.fault))
                break
    return explained, lost - set(explained)


def window_details(history: Sequence[Op], lost: set[str]) -> dict[str, Any]:
    """The lost checker's details about where its losses came from."""
    windows, _ = loss_windows(history, lost)
    _, unexplained = explain_losses(history, lost)
    by_fault: dict[str, int] = defaultdict(int)
    oldest: dict[str, float] = {}
    for w in windows:
        by_fault[w.fault] += w.lost
        if w.oldest_lost_s is not None:
            oldest[w.fault] = round(max(w.oldest_lost_s, oldest.get(w.fault, -math.inf)), 3)
    return {
        "lost_by_fault": dict(by_fault),
        "lost_unexplained": len(unexplained),
        "lost_unexplained_ids": listed(unexplained),
        "lost_oldest_ack_s": oldest,
        "loss_windows": [w.to_dict() for w in windows[:MAX_LISTED]],
        "failovers": [f.to_dict() for f in failovers(history)[:MAX_LISTED]],
    }
