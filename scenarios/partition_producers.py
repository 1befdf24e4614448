"""Redis is cut off from the producers, then reconnected.

First the producers' connections are refused (nothing they send arrives), later
their requests reach Redis but the replies are lost (a one-way black hole: writes
happen and their callers cannot know). Either way a schedule call ends
indeterminate and the producer retries it with the same task id: the scheduler
promises that a retry never creates a second task, so nothing acknowledged is lost
and no task runs twice because of it. The proxies are Toxiproxy's, driven through
its HTTP API.

Runs on topology=single only: Toxiproxy routes clients to one redis-server.
"""

from duetime.chaos.client.workload import Workload
from duetime.chaos.nemesis import FaultSchedule, Partition
from duetime.chaos.scenario import QuickVersion, Scenario

SCENARIO = Scenario(
    name="partition_producers",
    description="Refuse the producers' connections for 2-3 s, then black-hole Redis's "
    "replies to them for 2-3 s (requests still arrive).",
    workload=Workload(tasks=200, duration=16.0, work=(0.05, 0.3)),
    nemeses=(
        Partition(
            group="producers",
            how="refuse",
            schedule=FaultSchedule(first_s=3.0, every_s=10.0, jitter_s=0.5, hold_s=(2.0, 3.0)),
        ),
        Partition(
            group="producers",
            stream="downstream",
            schedule=FaultSchedule(first_s=8.0, every_s=10.0, jitter_s=0.5, hold_s=(2.0, 3.0)),
        ),
    ),
    quick_version=QuickVersion(
        workload=Workload(tasks=50, duration=3.5, lead=(0.3, 1.0), work=(0.05, 0.3)),
        nemeses=(
            Partition(
                group="producers",
                how="refuse",
                schedule=FaultSchedule(first_s=0.8, every_s=60.0, jitter_s=0.0, hold_s=(1.5, 1.5)),
            ),
            Partition(
                group="producers",
                stream="downstream",
                schedule=FaultSchedule(first_s=2.6, every_s=60.0, jitter_s=0.0, hold_s=(1.5, 1.5)),
            ),
        ),
    ),
)
