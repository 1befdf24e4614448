"""Redis is cut off from the workers, then reconnected.

First every worker loses Redis for longer than its 2 s lease (a black hole:
requests vanish and connections hang until the client's timeout), later one
worker alone is cut off (its connections refused) while the others carry on.
A task leaves Redis only when its run is acknowledged, and a cut-off worker cannot
acknowledge, so no acknowledged task may be lost; a task whose lease expired
meanwhile may run again (a bounded duplicate, explained by the partition). The
proxies are Toxiproxy's, driven through its HTTP API.

Runs on topology=single only: Toxiproxy routes clients to one redis-server.
"""

from duetime.chaos.client.workload import Workload
from duetime.chaos.nemesis import FaultSchedule, Partition
from duetime.chaos.scenario import QuickVersion, Scenario

SCENARIO = Scenario(
    name="partition_workers",
    description="Black-hole every worker's Redis traffic for 3-4 s (over the 2 s lease), "
    "then refuse one worker's connections for 3-4 s.",
    workload=Workload(tasks=200, duration=16.0, work=(0.1, 0.5)),
    nemeses=(
        Partition(
            group="workers",
            schedule=FaultSchedule(first_s=3.0, every_s=10.0, jitter_s=0.5, hold_s=(3.0, 4.0)),
        ),
        Partition(
            group="workers",
            count=1,
            how="refuse",
            schedule=FaultSchedule(first_s=8.0, every_s=10.0, jitter_s=0.5, hold_s=(3.0, 4.0)),
        ),
    ),
    quick_version=QuickVersion(
        workload=Workload(tasks=50, duration=4.5, lead=(0.3, 1.0), work=(0.1, 0.4)),
        nemeses=(
            Partition(
                group="workers",
                schedule=FaultSchedule(first_s=0.8, every_s=60.0, jitter_s=0.0, hold_s=(2.3, 2.3)),
            ),
            Partition(
                group="workers",
                count=1,
                how="refuse",
                schedule=FaultSchedule(first_s=3.2, every_s=60.0, jitter_s=0.0, hold_s=(2.1, 2.1)),
            ),
        ),
    ),
)
