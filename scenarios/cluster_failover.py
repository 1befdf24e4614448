"""A master of a Redis Cluster is SIGKILLed under load; its replica takes over its slots.

The namespace is sharded over the three masters (``shards=3``), so every strike hits
one shard of it. Cluster replication is asynchronous like Sentinel's: under
``durability=none`` a failover may lose schedules acknowledged within the replication
lag before the kill; under ``durability=wait`` none. Workers keep claiming from the
other shards while one fails over, and find the promoted master by the Cluster's
redirections. Runs on ``topology=cluster``.
"""

from duetime.chaos.client.workload import Workload
from duetime.chaos.nemesis import FaultSchedule, KillPrimary
from duetime.chaos.scenario import QuickVersion, Scenario

SCENARIO = Scenario(
    name="cluster_failover",
    description="SIGKILL a Cluster master under load; its replica takes over its slots.",
    topologies=("cluster",),
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
