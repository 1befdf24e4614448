"""Unreadable task records and a recurring spec are written straight into Redis while
workers run.

Each strike writes one poisoned task of every kind (a payload that is not JSON, a task
type that is not UTF-8, a record not in the format at all, an unknown status letter),
due at once among the good tasks, and an unreadable spec under a schedule name of its
own. Every good task must run, no worker or cron process may die, each poisoned task
must be set aside by a worker with its reason and run no handler (``poisoned``), and
the workload's schedules must keep firing once per slot (``cron``; the cron process
ticks, and sets the poisoned spec aside).

Runs on single and replicated (the poison goes to the primary): not on cluster, where
the namespace is sharded and the poisoners write the one-shard key layout.
"""

from duetime.chaos.checker import DEFAULT_CHECKERS, poisoned
from duetime.chaos.checker.expectations import ANY_CONFIG, Expect
from duetime.chaos.client.workload import CronSpec, Workload
from duetime.chaos.nemesis import FaultSchedule, PoisonRecords
from duetime.chaos.scenario import NOT_SHARDED, STANDARD_EXPECTATIONS, QuickVersion, Scenario
from duetime.chaos.system.cluster import ClusterSettings

CRON = (CronSpec("every1s", "* * * * * *"), CronSpec("every2s", "*/2 * * * * *"))
SET_ASIDE = Expect(
    "poisoned",
    "valid",
    "a record or spec that cannot be read never stops a worker, its batch-mates or the "
    "other schedules: it goes to the dead letters with its reason, no handler runs it",
)

SCENARIO = Scenario(
    name="poison_records",
    topologies=NOT_SHARDED,
    description="Write unreadable task records of every kind and an unreadable cron spec "
    "into Redis about every 3 s.",
    workload=Workload(tasks=160, duration=14.0, work=(0.05, 0.3), cron=CRON),
    # The cron process is the only ticker, so no slot fires after the run stops it.
    cluster=ClusterSettings(cron_schedulers=1, worker_args=("--no-cron",)),
    nemeses=(
        PoisonRecords(
            schedule=FaultSchedule(first_s=1.0, every_s=3.0, jitter_s=0.5, hold_s=(0.2, 0.5))
        ),
    ),
    expectations={
        **STANDARD_EXPECTATIONS,
        ANY_CONFIG: (*STANDARD_EXPECTATIONS[ANY_CONFIG], SET_ASIDE),
    },
    checkers={**DEFAULT_CHECKERS, "poisoned": poisoned.check},
    quick_version=QuickVersion(
        workload=Workload(tasks=30, duration=3.0, lead=(0.3, 1.0), work=(0.05, 0.2), cron=CRON),
        nemeses=(
            PoisonRecords(
                schedule=FaultSchedule(first_s=0.8, every_s=60.0, jitter_s=0.0, hold_s=(0.2, 0.2))
            ),
        ),
    ),
)
