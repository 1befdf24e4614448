"""The primary is cut off from its replicas and Sentinels while producer-0 still reaches it.

Jepsen's minority primary. Every node-to-node and Sentinel-to-node connection goes
through a peer link (an embedded Toxiproxy proxy per node); the strike cuts the
primary's. The Sentinels promote a replica, but producer-0 keeps writing to the old
primary through a direct link, which acknowledges everything: replication is
asynchronous. On the heal the old primary is demoted and resyncs from the new one,
dropping what it took alone. Under ``durability=none`` those schedules are lost, as
Redis documents; under ``durability=wait`` the old primary cannot confirm a single
replica, so producer-0's schedules end with ``NotDurable`` (indeterminate, never
acknowledged) and nothing acknowledged may be lost. Runs on ``topology=replicated``.
"""

from duetime.chaos.client.workload import Workload
from duetime.chaos.nemesis import FaultSchedule, PartitionPrimary
from duetime.chaos.scenario import QuickVersion, Scenario

SCENARIO = Scenario(
    name="partition_primary",
    description="Cut the primary off from replicas and Sentinels; producer-0 stays with it.",
    topologies=("replicated",),
    workload=Workload(tasks=240, duration=16.0, lead=(0.5, 3.0), work=(0.05, 0.3), producers=2),
    nemeses=(
        PartitionPrimary(
            schedule=FaultSchedule(first_s=2.0, every_s=60.0, jitter_s=0.0, hold_s=(2.0, 3.0))
        ),
    ),
    quick_version=QuickVersion(
        workload=Workload(tasks=100, duration=8.0, lead=(0.5, 2.0), work=(0.05, 0.2), producers=2),
        nemeses=(
            PartitionPrimary(
                schedule=FaultSchedule(first_s=1.5, every_s=60.0, jitter_s=0.0, hold_s=(1.5, 1.5))
            ),
        ),
    ),
)
