"""Cron-scheduler processes are SIGKILLed: one of two (the other must cover), then all.

While any ticker is up every slot fires once. When every ticker is down longer
than the scheduler's misfire grace (5 s), run_once fires one late task for the
newest missed slot on recovery; shorter outages catch up slot by slot.
Workers run with --no-cron so the cron processes are the only tickers. The quick
version (CI) keeps both kills but holds the outage 2.5 s: the catch-up branch. Its load
runs 2 s past the outage, so the restarted tickers are up and catch up before it ends
even on a loaded machine (they took 0.5-1 s to start; with 0.5 s left, a slow start
ended the run before the catch-up, and nothing was tested).

Runs on every topology (single, replicated, cluster): the faults kill cron ticker
processes only, whatever serves Redis.
"""

from duetime.chaos.client.workload import CronSpec, Workload
from duetime.chaos.nemesis import FaultSchedule, KillCronSchedulers
from duetime.chaos.scenario import EVERY_TOPOLOGY, QuickVersion, Scenario
from duetime.chaos.system.cluster import ClusterSettings

CRON = (CronSpec("every1s", "* * * * * *"), CronSpec("every2s", "*/2 * * * * *"))

SCENARIO = Scenario(
    name="cron_schedulers",
    topologies=EVERY_TOPOLOGY,
    description="Kill one of two cron tickers, then both for longer than the misfire grace.",
    workload=Workload(
        tasks=40,
        duration=20.0,
        work=(0.05, 0.2),
        cron=CRON,
    ),
    cluster=ClusterSettings(workers=2, cron_schedulers=2, worker_args=("--no-cron",)),
    nemeses=(
        KillCronSchedulers(
            all=False,
            schedule=FaultSchedule(first_s=1.5, every_s=12.0, jitter_s=0.3, hold_s=(2.5, 3.5)),
        ),
        KillCronSchedulers(
            all=True,
            schedule=FaultSchedule(first_s=6.0, every_s=12.0, jitter_s=0.3, hold_s=(6.5, 7.5)),
        ),
    ),
    quick_version=QuickVersion(
        workload=Workload(tasks=15, duration=6.5, lead=(0.3, 1.0), work=(0.05, 0.2), cron=CRON),
        nemeses=(
            KillCronSchedulers(
                all=False,
                schedule=FaultSchedule(first_s=1.2, every_s=60.0, jitter_s=0.0, hold_s=(1.5, 1.5)),
            ),
            KillCronSchedulers(
                all=True,
                schedule=FaultSchedule(first_s=3.0, every_s=60.0, jitter_s=0.0, hold_s=(2.5, 2.5)),
            ),
        ),
    ),
)
