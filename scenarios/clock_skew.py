"""One process that decides due times runs with its wall clock shifted for the whole load,
30 s ahead: a worker, or a published design's dispatcher process when it has one.

Due times are judged by Redis's clock (``TIME``), so a worker whose own clock runs
ahead can neither claim a task early nor hold one back. A design that judges due times
by its own clock runs tasks early where the shifted process decides them. The shift is held from the
first second to the end of the load, and the handlers record the skew really in force
in each run (``skew``): a fault that ran no task with the clock shifted tested nothing.

Runs on every topology (single, replicated, cluster): the shift is a worker's own
clock; every server judging due times runs on this machine's clock.
"""

from duetime.chaos.client.workload import Workload
from duetime.chaos.nemesis import ClockSkew, FaultSchedule
from duetime.chaos.scenario import EVERY_TOPOLOGY, QuickVersion, Scenario


def held_skew(hold_s: float) -> ClockSkew:
    """30 s ahead from the first second, for ``hold_s`` (to the end of the load)."""
    return ClockSkew(
        shifts_s=(30.0,),
        schedule=FaultSchedule(first_s=1.0, every_s=60.0, jitter_s=0.0, hold_s=(hold_s, hold_s)),
    )


SCENARIO = Scenario(
    name="clock_skew",
    topologies=EVERY_TOPOLOGY,
    description="Restart one worker (or a design's dispatcher process) with its wall clock "
    "30 s ahead for the whole load.",
    workload=Workload(tasks=120, duration=10.0, work=(0.05, 0.3)),
    nemeses=(held_skew(11.5),),  # the load spans 13 s
    quick_version=QuickVersion(
        workload=Workload(tasks=60, duration=5.0, work=(0.05, 0.3)),
        nemeses=(held_skew(6.5),),  # the load spans 8 s
    ),
)
