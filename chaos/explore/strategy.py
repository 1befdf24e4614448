"""Hypothesis strategies that draw whole chaos runs: a workload, then a fault timeline.

Everything shrinks towards a short, quiet run: one task, no payload, no cron,
faults removed down to one, each moved to the start of the load and held for its
shortest time. Every example has a fault (a run without one tests little, and
each example costs a real run). Every drawn value is a whole number of tenths of a
second (or an index), so the shrunk example is a readable schedule.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from duetime.chaos.client.workload import CronSpec, Workload

from .case import ExploreCase, FaultEvent, span_ds, timeline
from .kinds import FaultKind, Registry

# Tasks are sent at least this long before they are due.
MIN_LEAD_S = 0.2
MIN_WORK_S = 0.05

CRON_MENU = (
    CronSpec("every1s", "* * * * * *"),
    CronSpec("every2s", "*/2 * * * * *", misfire="skip"),
)


@dataclass(frozen=True)
class SearchSpace:
    """The ranges examples are drawn from. Small on purpose: every example is a real run.

    ``name`` keeps the example databases of different spaces apart.
    """

    name: str = "default"
    tasks: tuple[int, int] = (1, 40)
    duration_ds: tuple[int, int] = (10, 60)
    lead_ds: tuple[int, int] = (5, 30)
    work_cs: tuple[int, int] = (5, 40)
    payload_bytes: tuple[int, ...] = (0, 512, 4096, 32768)
    fail_fractions: tuple[float, ...] = (0.0, 0.2)
    producers: tuple[int, int] = (1, 2)
    cron: tuple[CronSpec, ...] = CRON_MENU
    faults: tuple[int, int] = (1, 4)

    def __post_init__(self) -> None:
        for name in ("tasks", "duration_ds", "lead_ds", "work_cs", "producers", "faults"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise ValueError(f"{name} must be (low, high) with 0 <= low <= high")
        if self.duration_ds[0] < 1 or self.producers[0] < 1:
            raise ValueError("duration_ds and producers start at 1")
        if not self.payload_bytes or not self.fail_fractions:
            raise ValueError("payload_bytes and fail_fractions need at least one choice")


# A space for CI: a handful of tasks over a few seconds, one or two faults.
CI_SPACE = SearchSpace(
    name="ci",
    tasks=(1, 12),
    duration_ds=(10, 30),
    lead_ds=(5, 15),
    work_cs=(5, 20),
    payload_bytes=(0, 4096),
    fail_fractions=(0.0,),
    producers=(1, 1),
    cron=(),
    faults=(1, 2),
)


def workloads(space: SearchSpace) -> st.SearchStrategy[Workload]:
    @st.composite
    def draw_workload(draw: st.DrawFn) -> Workload:
        tasks = draw(st.integers(*space.tasks))
        duration = draw(st.integers(*space.duration_ds)) / 10
        lead_max = draw(st.integers(*space.lead_ds)) / 10
        work_max = draw(st.integers(*space.work_cs)) / 100
        payload = draw(st.sampled_from(space.payload_bytes))
        fail_fraction = draw(st.sampled_from(space.fail_fractions))
        producers = draw(st.integers(*space.producers))
        picked = draw(
            st.sets(st.sampled_from(range(len(space.cron)))) if space.cron else st.just(set())
        )
        return Workload(
            tasks=tasks,
            duration=duration,
            lead=(min(MIN_LEAD_S, lead_max), lead_max),
            work=(min(MIN_WORK_S, work_max), work_max),
            producers=producers,
            fail_fraction=fail_fraction,
            cron=tuple(space.cron[i] for i in sorted(picked)),
            payload_bytes=(0, payload),
        )

    return draw_workload()


def fault_events(kinds: tuple[FaultKind, ...], end_ds: int) -> st.SearchStrategy[FaultEvent]:
    """One fault of one of ``kinds`` that heals before ``end_ds`` when it fits at all."""

    @st.composite
    def draw_event(draw: st.DrawFn) -> FaultEvent:
        kind = draw(st.sampled_from(kinds))
        low, high = kind.hold_ds
        hold = draw(st.integers(low, max(low, min(high, end_ds - 2))))
        at = draw(st.integers(0, max(0, end_ds - hold - 1)))
        variant = draw(st.integers(0, len(kind.variants) - 1))
        return FaultEvent(at_ds=at, kind=kind.name, hold_ds=hold, variant=variant)

    return draw_event()


def cases(space: SearchSpace, registry: Registry) -> st.SearchStrategy[ExploreCase]:
    """Whole runs: a workload, then up to ``space.faults`` faults of the registry's kinds."""

    @st.composite
    def draw_case(draw: st.DrawFn) -> ExploreCase:
        workload = draw(workloads(space))
        kinds = tuple(k for k in registry.kinds if workload.cron or not k.needs_cron)
        if not kinds:
            return ExploreCase(workload, ())
        low, high = space.faults
        events = draw(st.lists(fault_events(kinds, span_ds(workload)), min_size=low, max_size=high))
        return ExploreCase(workload, timeline(events, workload, registry))

    return draw_case()
