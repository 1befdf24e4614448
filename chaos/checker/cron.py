"""Cron: each slot of each schedule fired once, and misses only where the policy allows.

A slot fired when a task ``cron:<name>:<slot_ms>`` started; it must also finish.
The slots are the scheduler's own (``duetime.slots``), in the schedule's time
zone: across a daylight-saving change each wall-clock time is one slot, a
repeated one at its first instant, one in a gap at the first instant after it.
A slot fired twice (two first-attempt runs that both finished; a later attempt
is a redelivery, which the duplicated checker bounds) is invalid. Designs that
record no attempt numbers record 1, so any second run of theirs counts.
While at least one cron-scheduler process was up (from its ``cron-ready`` to its
end), every slot must fire. For an outage (a window where *every* scheduler was
down) the scheduler documents: slots missed by at most ``misfire_grace_s`` when
it recovers fire late, one by one (catch-up); when older, ``run_once`` fires once
for the newest missed slot and ``skip`` fires at most that newest one (only if
it is within the grace). Slots within ``edge_s`` of an outage's ends may go
either way: the ticker polls, so a slot just before a kill may not have fired.
Up and down times are put on the host's wall clock, where slots are
(:mod:`.wall_clock`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from duetime.chaos.history.ops import CRON_READY, CRON_SCHEDULE, PROCESS_END, Op
from duetime.slots import next_slot

from .facts import CRON_PREFIX, executions
from .result import Result, listed
from .wall_clock import WallClock

CRON_ROLE = "cron"
EDGE_S = 0.5
# The scheduler's documented misfire grace (duetime.cron.MISFIRE_GRACE_MS).
MISFIRE_GRACE_S = 5.0


@dataclass(frozen=True)
class Interval:
    start: float
    end: float


def up_intervals(history: Sequence[Op]) -> list[Interval]:
    """When each cron-scheduler process was ticking: from its ready to its end."""
    ready: dict[int, float] = {}
    ended: dict[int, float] = {}
    for op in history:
        if op.f == CRON_READY:
            ready.setdefault(int(op.value["pid"]), op.time)
        elif op.f == PROCESS_END and op.value.get("role") == CRON_ROLE:
            ended[int(op.value["pid"])] = op.time
    return sorted(
        (Interval(t, ended.get(pid, math.inf)) for pid, t in ready.items()),
        key=lambda i: i.start,
    )


def down_windows(up: Sequence[Interval]) -> list[Interval]:
    """Gaps in the union of up intervals; the last one is open (end inf) if all ended."""
    gaps = []
    reach = up[0].end
    for i in up[1:]:
        if i.start > reach:
            gaps.append(Interval(reach, i.start))
        reach = max(reach, i.end)
    if reach < math.inf:
        gaps.append(Interval(reach, math.inf))
    return gaps


def slots_between(expr: str, start: float, end: float, timezone: str = "UTC") -> list[float]:
    """The slots in ``(start, end]`` (epoch seconds), as the scheduler computes them."""
    slots = []
    ms = math.floor(start * 1000)
    while (ms := next_slot(expr, timezone, ms)) <= end * 1000:
        slots.append(ms / 1000)
    return slots


@dataclass(frozen=True)
class CronChecker:
    """See the module docstring."""

    edge_s: float = EDGE_S
    misfire_grace_s: float = MISFIRE_GRACE_S

    def outage_ok(
        self, policy: str, inside: Sequence[float], recovery: float, n_inside: int, n_late: int
    ) -> bool:
        """Whether ``n_inside`` firings among the slots missed in an outage fit the policy."""
        if not inside:
            return True
        age = recovery - inside[0]
        catch_up = n_inside == len(inside)
        collapsed = n_inside <= 1 and (policy != "run_once" or n_late >= 1)
        if age <= self.misfire_grace_s - self.edge_s:
            return catch_up
        if age > self.misfire_grace_s + self.edge_s:
            return collapsed
        return catch_up or collapsed

    def __call__(self, history: Sequence[Op]) -> Result:
        schedules = {str(op.value["name"]): op.value for op in history if op.f == CRON_SCHEDULE}
        if not schedules:
            return Result("valid", "no cron schedules in this run", {"schedules": 0})
        wall = WallClock.of(history)
        up = [
            Interval(wall.at(i.start), wall.at(i.end) if i.end < math.inf else math.inf)
            for i in up_intervals(history)
        ]
        if not up:
            return Result("unknown", "no cron scheduler ever became ready", {})
        downs = down_windows(up)
        closing = downs[-1] if downs and downs[-1].end == math.inf else None
        outages = [d for d in downs if d is not closing]
        cover_start = up[0].start
        cover_end = closing.start if closing else wall.at(max(op.time for op in history))

        fired: dict[tuple[str, float], list[bool]] = defaultdict(list)
        firsts: dict[tuple[str, float], int] = defaultdict(int)
        for e in executions(history):
            if e.task_id.startswith(CRON_PREFIX):
                _, name, slot_ms = e.task_id.split(":", 2)
                key = (name, int(slot_ms) / 1000)
                fired[key].append(e.executed)
                firsts[key] += e.executed and e.attempt <= 1

        missed: list[str] = []
        unexpected: list[str] = []
        breaches: list[str] = []
        expected = in_outages = 0
        for name, spec in sorted(schedules.items()):
            policy = str(spec.get("misfire", "run_once"))
            zone = str(spec.get("timezone", "UTC"))
            every = set(slots_between(str(spec["expr"]), cover_start - 60, cover_end + 60, zone))
            unexpected += [
                f"{name}@{slot}"
                for (n, slot) in fired
                if n == name and (slot not in every or slot > cover_end + self.edge_s)
            ]
            in_scope = [
                s for s in sorted(every) if cover_start + self.edge_s < s < cover_end - self.edge_s
            ]
            excused: set[float] = set()
            for d in outages:
                inside = [s for s in in_scope if d.start < s <= d.end]
                before = [s for s in in_scope if d.start - self.edge_s < s <= d.start]
                after = [s for s in in_scope if d.end < s <= d.end + self.edge_s]
                excused.update(inside, before, after)
                in_outages += len(inside)
                n_inside = sum((name, s) in fired for s in inside)
                n_late = n_inside + sum((name, s) in fired for s in after)
                if not self.outage_ok(policy, inside, d.end, n_inside, n_late):
                    breaches.append(
                        f"{name}: outage {d.start:.3f}..{d.end:.3f} missed {len(inside)} "
                        f"slots, {n_inside} fired, policy {policy}"
                    )
            for s in in_scope:
                if s not in excused:
                    expected += 1
                    if (name, s) not in fired:
                        missed.append(f"{name}@{s}")
        unfinished = [f"{n}@{s}" for (n, s), outcomes in fired.items() if not any(outcomes)]
        repeated = sorted(f"{n}@{s}" for (n, s), count in firsts.items() if count > 1)

        details = {
            "schedules": len(schedules),
            "slots_expected": expected,
            "slots_fired": len(fired),
            "slots_in_outages": in_outages,
            "outages": len(outages),
            "missed": len(missed),
            "unfinished": len(unfinished),
            "unexpected": len(unexpected),
            "fired_more_than_once": len(repeated),
            "policy_breaches": breaches[:20],
            "missed_slots": listed(missed),
            "unfinished_slots": listed(unfinished),
            "unexpected_slots": listed(unexpected),
            "repeated_slots": listed(repeated),
        }
        problems = []
        if missed:
            problems.append(f"{len(missed)} slots missed while a scheduler was up")
        if breaches:
            problems.append(f"{len(breaches)} outages broke the misfire policy")
        if unfinished:
            problems.append(f"{len(unfinished)} firings never finished")
        if unexpected:
            problems.append(f"{len(unexpected)} firings of slots that do not exist")
        if repeated:
            problems.append(f"{len(repeated)} slots fired more than once")
        if problems:
            return Result("invalid", "; ".join(problems), details)
        return Result(
            "valid",
            f"{expected} slots fired once each; {len(outages)} outages handled per policy",
            details,
        )


check = CronChecker()
