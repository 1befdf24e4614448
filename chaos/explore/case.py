"""One explored run: a workload and a timeline of faults, in units that shrink well.

Times are whole tenths of a second after the load starts, so a shrunk schedule
reads as ``3.2 s`` rather than ``3.2000000000000006``. :func:`timeline` makes a
drawn list of faults runnable: in time order, each fault healed before the load
ends, and no two faults of one lane at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from duetime.chaos.client.workload import Workload

from .kinds import Registry


@dataclass(frozen=True, order=True)
class FaultEvent:
    """``kind`` injected at ``at_ds`` and healed ``hold_ds`` later (tenths of a second)."""

    at_ds: int
    kind: str
    hold_ds: int
    variant: int = 0

    @property
    def at_s(self) -> float:
        return self.at_ds / 10

    @property
    def hold_s(self) -> float:
        return self.hold_ds / 10

    def describe(self, registry: Registry | None = None) -> str:
        variant = ""
        if registry is not None and self.kind in registry.names:
            options = registry.get(self.kind).variants[self.variant]
            variant = "".join(f" {k}={v}" for k, v in options.items())
        return f"{self.at_s:.1f} s {self.kind}{variant} for {self.hold_s:.1f} s"


@dataclass(frozen=True)
class ExploreCase:
    """What one example runs: the workload and the faults, in time order."""

    workload: Workload
    faults: tuple[FaultEvent, ...]

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(f.kind for f in self.faults)

    def describe(self, registry: Registry | None = None) -> str:
        w = self.workload
        extras = [f"lead <= {w.lead[1]:g} s", f"work <= {w.work[1]:g} s"]
        extras += [f"payload <= {w.payload_bytes[1]} B"] if w.payload_bytes[1] else []
        extras += [f"{w.producers} producers"] if w.producers > 1 else []
        extras += [f"{w.fail_fraction:.0%} fail once"] if w.fail_fraction else []
        extras += [f"cron {c.name} ({c.misfire})" for c in w.cron]
        tasks = f"{w.tasks} task" + ("s" if w.tasks != 1 else "")
        load = f"{tasks} due over {w.duration:g} s ({', '.join(extras)})"
        faults = "; ".join(f.describe(registry) for f in self.faults) or "no faults"
        return f"{load}; {faults}"


def span_ds(workload: Workload) -> int:
    """The load phase in whole tenths of a second (faults must heal before it ends)."""
    return int(workload.span * 10)


def timeline(
    faults: Iterable[FaultEvent], workload: Workload, registry: Registry
) -> tuple[FaultEvent, ...]:
    """The runnable part of ``faults``: sorted, healed before the load ends, lanes exclusive.

    A fault that overlaps an earlier one of its lane, or does not end before
    the load does, is dropped (the runner would not inject it either).
    """
    end = span_ds(workload)
    busy_until: dict[str, int] = {}
    kept = []
    for event in sorted(faults):
        lanes = registry.get(event.kind).lanes
        if event.at_ds + event.hold_ds >= end or any(
            event.at_ds < busy_until.get(lane, 0) for lane in lanes
        ):
            continue
        busy_until.update((lane, event.at_ds + event.hold_ds) for lane in lanes)
        kept.append(event)
    return tuple(kept)
