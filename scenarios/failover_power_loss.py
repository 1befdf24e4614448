"""The primary's machine loses power under load: its disk drops what it had not fsynced,
and Sentinel promotes a replica.

Every data node keeps its files on the power-loss filesystem. A strike SIGKILLs the
primary and drops its unsynced writes; a replica is promoted, and the old primary
starts again on what its disk kept and rejoins as a replica, resyncing from the new
one, so its own disk no longer matters once a replica was promoted: what a failover
may lose is what the promoted replica lacked (``durability=none``), nothing under
``durability=wait``. Where FUSE is not available the scenario is skipped, saying why.
Runs on ``topology=replicated``.
"""

from duetime.chaos.client.workload import Workload
from duetime.chaos.nemesis import FailoverPowerLoss, FaultSchedule
from duetime.chaos.scenario import QuickVersion, Scenario

SCENARIO = Scenario(
    name="failover_power_loss",
    description="Cut the power under the primary; a replica is promoted, the old one rejoins.",
    topologies=("replicated",),
    workload=Workload(tasks=300, duration=18.0, lead=(0.5, 4.0), work=(0.05, 0.3)),
    nemeses=(
        FailoverPowerLoss(
            schedule=FaultSchedule(first_s=3.0, every_s=8.0, jitter_s=1.0, hold_s=(0.5, 1.0))
        ),
    ),
    quick_version=QuickVersion(
        workload=Workload(tasks=80, duration=6.0, lead=(0.5, 2.0), work=(0.05, 0.3)),
        nemeses=(
            FailoverPowerLoss(
                schedule=FaultSchedule(first_s=2.0, every_s=60.0, jitter_s=0.0, hold_s=(0.5, 0.5))
            ),
        ),
    ),
)
