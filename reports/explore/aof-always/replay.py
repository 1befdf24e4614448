"""A fault schedule found by `python -m duetime.chaos explore --config aof=always --examples 30
--seed 1` and shrunk: under aof=always it failed cron, a VIOLATION: no documented fault explains
it: cron invalid.

Workload: 18 tasks due over 1 s (lead <= 1.6 s, work <= 0.37 s, 2 producers, cron every1s
(run_once), cron every2s (skip)). Faults, in seconds after the load starts: 0.0 s kill_worker
for 0.5 s; 0.0 s pause_worker for 1.0 s.

The search ran 22 examples until the first failure, then 23 shrinking runs in 249 s (cut short
by its budget). Generated file: rerun the search rather than editing it.

Rerun it:

    python -m duetime.chaos run reports/explore/aof-always/replay.py --config aof=always --seed 1
"""

from duetime.chaos.client.workload import CronSpec, Workload
from duetime.chaos.nemesis import FaultSchedule, KillWorker, PauseWorker
from duetime.chaos.scenario import Scenario
from duetime.chaos.system.cluster import ClusterSettings

SCENARIO = Scenario(
    name="explore_found",
    description=(
        "Shrunk by the explore search under aof=always: 18 tasks due over 1 s (lead <= "
        "1.6 s, work <= 0.37 s, 2 producers, cron every1s (run_once), cron every2s "
        "(skip)); 0.0 s kill_worker for 0.5 s; 0.0 s pause_worker for 1.0 s"
    ),
    workload=Workload(
        tasks=18,
        duration=1.0,
        lead=(0.2, 1.6),
        work=(0.05, 0.37),
        cron=(
            CronSpec(name="every1s", expr="* * * * * *"),
            CronSpec(name="every2s", expr="*/2 * * * * *", misfire="skip"),
        ),
    ),
    nemeses=(
        KillWorker(
            schedule=FaultSchedule(first_s=0.0, every_s=3600.0, jitter_s=0.0, hold_s=(0.5, 0.5)),
        ),
        PauseWorker(
            schedule=FaultSchedule(first_s=0.0, every_s=3600.0, jitter_s=0.0, hold_s=(1.0, 1.0)),
        ),
    ),
    cluster=ClusterSettings(workers=2, cron_schedulers=2, worker_args=("--no-cron",)),
    default_config="aof=always",
)
