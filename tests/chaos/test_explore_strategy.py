"""The strategies draw runnable cases that shrink to short, readable schedules."""

from __future__ import annotations

import dataclasses

import pytest
from explore_helpers import PROCESS_REGISTRY
from hypothesis import find, given, settings

from duetime.chaos.client.workload import Workload
from duetime.chaos.explore.case import ExploreCase, FaultEvent, span_ds, timeline
from duetime.chaos.explore.strategy import CI_SPACE, SearchSpace, cases

SPACE = SearchSpace()


@settings(max_examples=200)
@given(cases(SPACE, PROCESS_REGISTRY))
def test_every_drawn_case_is_runnable(case: ExploreCase) -> None:
    w = case.workload
    assert SPACE.tasks[0] <= w.tasks <= SPACE.tasks[1]
    assert w.lead[0] <= w.lead[1] and w.work[0] <= w.work[1]
    assert list(case.faults) == sorted(case.faults)
    assert len(case.faults) <= SPACE.faults[1]
    busy: dict[str, int] = {}
    for f in case.faults:
        kind = PROCESS_REGISTRY.get(f.kind)
        assert kind.hold_ds[0] <= f.hold_ds <= kind.hold_ds[1]
        assert f.at_ds + f.hold_ds < span_ds(w), "a fault must heal before the load ends"
        for lane in kind.lanes:
            assert f.at_ds >= busy.get(lane, 0), "two faults of one lane overlap"
            busy[lane] = f.at_ds + f.hold_ds
        assert 0 <= f.variant < len(kind.variants)
        assert w.cron or not kind.needs_cron


def test_the_simplest_case_is_one_task_and_one_fault_at_the_start() -> None:
    case = find(cases(SPACE, PROCESS_REGISTRY), lambda c: True)
    first = PROCESS_REGISTRY.kinds[0]
    assert case.faults == (FaultEvent(0, first.name, first.hold_ds[0]),)
    assert case.workload.tasks == 1
    assert case.workload.cron == () and case.workload.payload_bytes == (0, 0)


def test_a_case_with_a_fault_shrinks_to_that_one_fault_at_the_start_held_shortest() -> None:
    case = find(
        cases(SPACE, PROCESS_REGISTRY),
        lambda c: any(f.kind == "kill_redis" for f in c.faults),
        settings=settings(max_examples=2000),
    )
    kill_redis = PROCESS_REGISTRY.get("kill_redis")
    assert case.faults == (FaultEvent(0, "kill_redis", kill_redis.hold_ds[0]),)


def test_the_ci_space_always_draws_a_fault() -> None:
    case = find(cases(CI_SPACE, PROCESS_REGISTRY), lambda c: True)
    assert len(case.faults) == 1


def test_timeline_drops_what_overlaps_its_lane_or_outlives_the_load() -> None:
    w = Workload(tasks=1, duration=2.0, lead=(0.2, 1.0))  # span 3.0 s = 30 ds
    events = [
        FaultEvent(20, "kill_worker", 5),
        FaultEvent(5, "kill_redis", 10),
        FaultEvent(10, "kill_redis", 2),  # the redis lane is busy until 15
        FaultEvent(26, "kill_redis", 4),  # would heal at 30: the end of the load
        FaultEvent(15, "kill_redis", 2),
    ]
    assert timeline(events, w, PROCESS_REGISTRY) == (
        FaultEvent(5, "kill_redis", 10),
        FaultEvent(15, "kill_redis", 2),
        FaultEvent(20, "kill_worker", 5),
    )


@pytest.mark.parametrize("bad", [{"tasks": (3, 1)}, {"duration_ds": (0, 5)}, {"payload_bytes": ()}])
def test_a_search_space_refuses_empty_ranges(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(SPACE, **bad)  # type: ignore[arg-type]
