"""Everything at once: worker kills and pauses, Redis kills, a skewed worker clock, cron.

Under aof=off the Redis kills lose pending tasks and the registered cron
schedules (Redis restarts empty): the lost tasks must each be explained by a kill
(``unexplained_loss``), and cron is expected to fail there.

Runs on topology=single only: it kills and restarts one redis-server.
"""

from duetime.chaos.checker.expectations import Expect
from duetime.chaos.client.workload import CronSpec, Workload
from duetime.chaos.nemesis import (
    ClockSkew,
    FaultSchedule,
    KillCronSchedulers,
    KillRedis,
    KillWorker,
    PauseWorker,
)
from duetime.chaos.scenario import STANDARD_EXPECTATIONS, QuickVersion, Scenario
from duetime.chaos.system.cluster import ClusterSettings

NO_PERSISTENCE = (
    Expect("cron", "invalid", "Redis docs: without AOF or RDB the registered schedules vanish"),
)

SCENARIO = Scenario(
    name="mixed_soak",
    description="Kill and pause workers, kill Redis, skew one worker's clock, kill a cron ticker.",
    workload=Workload(
        tasks=300,
        duration=22.0,
        work=(0.05, 0.5),
        fail_fraction=0.1,
        cron=(CronSpec("every2s", "*/2 * * * * *"),),
    ),
    cluster=ClusterSettings(workers=3, cron_schedulers=2, worker_args=("--no-cron",)),
    nemeses=(
        KillWorker(schedule=FaultSchedule(first_s=2.0, every_s=5.0, hold_s=(0.3, 1.0))),
        PauseWorker(schedule=FaultSchedule(first_s=4.0, every_s=7.0, hold_s=(3.0, 4.0))),
        KillRedis(schedule=FaultSchedule(first_s=6.0, every_s=9.0, hold_s=(0.5, 1.0))),
        ClockSkew(schedule=FaultSchedule(first_s=1.0, every_s=11.0, hold_s=(5.0, 6.0))),
        KillCronSchedulers(
            all=False, schedule=FaultSchedule(first_s=3.0, every_s=8.0, hold_s=(2.0, 3.0))
        ),
    ),
    expectations={**STANDARD_EXPECTATIONS, "aof=off": NO_PERSISTENCE},
    # Each fault once in an 8.3 s load (keeps the CI matrix under 7 minutes); Redis is
    # killed early, so cron slots come due after it restarts (empty, under aof=off).
    quick_factor=0.24,
    quick_version=QuickVersion(
        nemeses=(
            KillWorker(schedule=FaultSchedule(first_s=2.0, every_s=5.0, hold_s=(0.3, 1.0))),
            PauseWorker(schedule=FaultSchedule(first_s=4.0, every_s=7.0, hold_s=(3.0, 4.0))),
            KillRedis(
                schedule=FaultSchedule(first_s=2.5, every_s=60.0, jitter_s=0.3, hold_s=(0.5, 1.0))
            ),
            ClockSkew(schedule=FaultSchedule(first_s=1.0, every_s=11.0, hold_s=(5.0, 6.0))),
            KillCronSchedulers(
                all=False, schedule=FaultSchedule(first_s=3.0, every_s=8.0, hold_s=(2.0, 3.0))
            ),
        ),
    ),
)
