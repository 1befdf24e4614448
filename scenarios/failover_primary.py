"""The primary is SIGKILLed under load; Sentinel promotes a replica.

Redis replicates asynchronously: the primary replies before any replica has the write,
so a failover may lose schedules acknowledged within the replication lag before the
kill (``durability=none``). With ``durability=wait`` a schedule returns only once a
replica holds it, and Sentinel promotes the replica with the largest offset: nothing
acknowledged may be lost. Claims and acks are never waited for, so a failover may undo
one: the task runs again, bounded by ``max_attempts``. The old primary restarts and
rejoins as a replica before the next strike. Runs on ``topology=replicated`` only
(``cluster_failover`` is the Cluster's).
"""

from duetime.chaos.client.workload import Workload
from duetime.chaos.nemesis import FaultSchedule, KillPrimary
from duetime.chaos.scenario import QuickVersion, Scenario

SCENARIO = Scenario(
    name="failover_primary",
    description="SIGKILL the primary under load; a replica is promoted, the old one rejoins.",
    topologies=("replicated",),
    workload=Workload(tasks=300, duration=18.0, lead=(0.5, 4.0), work=(0.05, 0.3)),
    nemeses=(
        KillPrimary(
            schedule=FaultSchedule(first_s=3.0, every_s=8.0, jitter_s=1.0, hold_s=(0.5, 1.0))
        ),
    ),
    quick_version=QuickVersion(
        workload=Workload(tasks=80, duration=6.0, lead=(0.5, 2.0), work=(0.05, 0.3)),
        nemeses=(
            KillPrimary(
                schedule=FaultSchedule(first_s=2.0, every_s=60.0, jitter_s=0.0, hold_s=(0.5, 0.5))
            ),
        ),
    ),
)
