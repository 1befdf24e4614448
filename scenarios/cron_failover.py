"""Recurring schedules over a failover: the primary holding them is SIGKILLed.

Two cron tickers fire every slot of two schedules while Sentinel promotes a replica.
While no primary answers, no ticker can fire; when the new one does, the tickers catch
up slot by slot (the outage is shorter than the misfire grace), so each slot still
fires once. A fire the old primary acknowledged but its replicas lacked may be lost
and fired again from the promoted replica's state: the same slot's task id, so it is
one task, which may run twice (a repeat, like any claim a failover undoes). Runs on
``topology=replicated``.
"""

from duetime.chaos.client.workload import CronSpec, Workload
from duetime.chaos.nemesis import FaultSchedule, KillPrimary
from duetime.chaos.scenario import QuickVersion, Scenario
from duetime.chaos.system.cluster import ClusterSettings

CRON = (CronSpec("every1s", "* * * * * *"), CronSpec("every2s", "*/2 * * * * *"))

SCENARIO = Scenario(
    name="cron_failover",
    description="Two cron tickers fire every slot while the primary is killed and replaced.",
    topologies=("replicated",),
    workload=Workload(tasks=60, duration=16.0, work=(0.05, 0.2), cron=CRON),
    cluster=ClusterSettings(workers=2, cron_schedulers=2, worker_args=("--no-cron",)),
    nemeses=(
        KillPrimary(
            schedule=FaultSchedule(first_s=3.0, every_s=8.0, jitter_s=0.5, hold_s=(0.5, 1.0))
        ),
    ),
    quick_version=QuickVersion(
        workload=Workload(tasks=20, duration=7.0, lead=(0.3, 1.0), work=(0.05, 0.2), cron=CRON),
        nemeses=(
            KillPrimary(
                schedule=FaultSchedule(first_s=2.0, every_s=60.0, jitter_s=0.0, hold_s=(0.5, 0.5))
            ),
        ),
    ),
)
