"""Power loss under load: Redis's machine loses every write its files had not fsynced.

Redis keeps its files on the FUSE power-loss filesystem. Each strike SIGKILLs
redis-server, drops what was not fsynced, and Redis restarts on what is left.
First on a slow disk (every fsync takes 3 s, the strike aimed a few tenths of a
second into an fsync), then three times on a fast one. Tasks are scheduled up to
6 s ahead, so each strike finds acknowledged tasks of every age still pending.

What Redis documents (chaos/checker/redis_docs.py): ``always`` loses nothing
acknowledged; ``everysec`` about the last second, up to about 2 s; ``no`` what the
OS had not written back (our filesystem never does, so every pending task); no
persistence, everything. On the slow disk, reading ``aof.c`` says ``everysec`` loses
more than the docs' 2 s: the fsync in flight is lost whole and the one before it
covered only the writes made before it began, so the loss reaches back about one fsync
duration plus the age of the one in flight (the FUSE author measured 3-4 s). That
bound (two fsync durations) is what ``unexplained_loss`` excuses on a slow disk
(``chaos/checker/loss_bounds.py``), and ``slow_disk_window`` records how far back
this run's loss reached.
Where FUSE is not available the scenario is skipped, saying why.

Runs on topology=single only: the power-loss filesystem holds one redis-server's files.
"""

from duetime.chaos.checker import DEFAULT_CHECKERS
from duetime.chaos.checker.expectations import ANY_CONFIG
from duetime.chaos.checker.redis_docs import (
    ALWAYS_KEEPS_EVERYTHING,
    EVERYSEC_LOSES_THE_LAST_SECONDS,
    LOST_ALL_PENDING,
    LOST_WINDOW,
    NO_LOSES_EVERYTHING_UNSYNCED,
    OFF_LOSES_EVERYTHING,
    all_pending_checker,
    window_checker,
)
from duetime.chaos.client.workload import Workload
from duetime.chaos.nemesis import FaultSchedule, PowerLoss, SlowDisk
from duetime.chaos.scenario import (
    BOUNDED_DUPLICATES,
    FENCED,
    NEVER_EARLY,
    NO_UNEXPLAINED_LOSS,
    QuickVersion,
    Scenario,
)

SLOW_DISK_WINDOW = "slow_disk_window"
FAST = PowerLoss(schedule=FaultSchedule(first_s=13.0, every_s=5.0, jitter_s=0.5, hold_s=(0.5, 1.0)))
SLOW = SlowDisk(
    fsync_delay_s=3.0,
    then="power_loss",
    schedule=FaultSchedule(first_s=2.0, every_s=60.0, jitter_s=0.0, hold_s=(0.5, 0.5)),
)
EXPECTATIONS = {
    ANY_CONFIG: (NO_UNEXPLAINED_LOSS, BOUNDED_DUPLICATES, FENCED, NEVER_EARLY),
    "aof=always": (ALWAYS_KEEPS_EVERYTHING,),
    "aof=everysec": (EVERYSEC_LOSES_THE_LAST_SECONDS,),
    "aof=no": (NO_LOSES_EVERYTHING_UNSYNCED,),
    "aof=off": (OFF_LOSES_EVERYTHING,),
}

SCENARIO = Scenario(
    name="power_loss",
    description="Power loss on a slow disk (3 s fsyncs), then three on a fast one; Redis "
    "restarts on what its files kept.",
    workload=Workload(tasks=260, duration=20.0, lead=(0.5, 6.0), work=(0.05, 0.3)),
    nemeses=(SLOW, FAST),
    checkers={
        **DEFAULT_CHECKERS,
        LOST_WINDOW: window_checker("power_loss"),
        LOST_ALL_PENDING: all_pending_checker("power_loss"),
        SLOW_DISK_WINDOW: window_checker("slow_disk_power_loss"),
    },
    expectations=EXPECTATIONS,
    quick_version=QuickVersion(
        workload=Workload(tasks=50, duration=2.5, lead=(0.5, 2.5), work=(0.05, 0.3)),
        nemeses=(
            PowerLoss(
                schedule=FaultSchedule(first_s=2.5, every_s=60.0, jitter_s=0.0, hold_s=(0.5, 0.5))
            ),
        ),
        # The quick run has no slow disk: its window goes untested.
        expectations={
            **EXPECTATIONS,
            "aof=everysec": (EVERYSEC_LOSES_THE_LAST_SECONDS,),
        },
    ),
)
