"""The replicas fall behind, then the primary is SIGKILLed: a lagging replica is promoted.

The strike SIGSTOPs every replica and closes their links, so for ``lag_s`` the primary
acknowledges writes no replica has; then it is killed and the replicas resume, and
Sentinel promotes the one with the largest offset, which still lacks them. Under
``durability=none`` those schedules are lost, as Redis documents for asynchronous
replication; under ``durability=wait`` the primary cannot get a single replica's
confirmation during the lag, so those schedules end with ``NotDurable`` (indeterminate,
never acknowledged) and nothing acknowledged may be lost. Runs on
``topology=replicated`` and ``topology=cluster``.
"""

from duetime.chaos.client.workload import Workload
from duetime.chaos.nemesis import FaultSchedule, LagReplica
from duetime.chaos.scenario import QuickVersion, Scenario

SCENARIO = Scenario(
    name="lagging_replica",
    description="Stop the replicas and cut their links for 1.5 s, then kill the primary.",
    topologies=("replicated", "cluster"),
    workload=Workload(tasks=300, duration=18.0, lead=(0.5, 4.0), work=(0.05, 0.3)),
    nemeses=(
        LagReplica(
            lag_s=1.5,
            schedule=FaultSchedule(first_s=3.0, every_s=9.0, jitter_s=1.0, hold_s=(0.5, 1.0)),
        ),
    ),
    quick_version=QuickVersion(
        workload=Workload(tasks=80, duration=6.0, lead=(0.5, 2.0), work=(0.05, 0.3)),
        nemeses=(
            LagReplica(
                lag_s=1.0,
                schedule=FaultSchedule(first_s=1.5, every_s=60.0, jitter_s=0.0, hold_s=(0.5, 0.5)),
            ),
        ),
    ),
)
