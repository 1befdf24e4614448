"""A fault schedule found by `python -m duetime.chaos explore --config aof=everysec --examples 30
--seed 1` and shrunk: under aof=everysec it lost 1 of 1 acknowledged tasks (failed lost), an
expected finding: Redis persistence docs: on power loss, appendfsync everysec loses about the
last second of acknowledged writes (up to 2 s on a slow disk), no what the kernel had not
written back, AOF off everything; only always loses nothing.

Workload: 1 task due over 1 s (lead <= 0.5 s, work <= 0.05 s, cron every1s (run_once)). Faults,
in seconds after the load starts: 0.0 s kill_worker for 0.2 s; 0.8 s power_loss for 0.2 s.

The search ran 5 examples until the first failure, then 20 shrinking runs in 243 s (cut short by
its budget). Generated file: rerun the search rather than editing it.

Rerun it:

    python -m duetime.chaos run reports/explore/aof-everysec/replay.py --config aof=everysec \\
      --seed 1
"""

from duetime.chaos.checker.expectations import Expect
from duetime.chaos.client.workload import CronSpec, Workload
from duetime.chaos.nemesis import FaultSchedule, KillWorker, PowerLoss
from duetime.chaos.scenario import STANDARD_EXPECTATIONS, Scenario
from duetime.chaos.system.cluster import ClusterSettings

SCENARIO = Scenario(
    name="explore_found",
    description=(
        "Shrunk by the explore search under aof=everysec: 1 task due over 1 s (lead <= "
        "0.5 s, work <= 0.05 s, cron every1s (run_once)); 0.0 s kill_worker for 0.2 s; "
        "0.8 s power_loss for 0.2 s"
    ),
    workload=Workload(
        tasks=1,
        duration=1.0,
        lead=(0.2, 0.5),
        work=(0.05, 0.05),
        producers=1,
        cron=(CronSpec(name="every1s", expr="* * * * * *"),),
    ),
    nemeses=(
        KillWorker(
            schedule=FaultSchedule(first_s=0.0, every_s=3600.0, jitter_s=0.0, hold_s=(0.2, 0.2)),
        ),
        PowerLoss(
            schedule=FaultSchedule(first_s=0.8, every_s=3600.0, jitter_s=0.0, hold_s=(0.2, 0.2)),
        ),
    ),
    cluster=ClusterSettings(workers=2, cron_schedulers=2, worker_args=("--no-cron",)),
    expectations={
        **STANDARD_EXPECTATIONS,
        "aof=everysec": (
            Expect(
                checker="lost",
                verdict="invalid",
                because=(
                    "Redis persistence docs: on power loss, appendfsync everysec loses about "
                    "the last second of acknowledged writes (up to 2 s on a slow disk), no "
                    "what the kernel had not written back, AOF off everything; only always "
                    "loses nothing"
                ),
            ),
        ),
    },
)
