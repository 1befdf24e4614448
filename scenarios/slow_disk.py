"""A slow disk under Redis, then redis-server is SIGKILLed (the machine survives).

Redis keeps its files on the FUSE power-loss filesystem, which makes every fsync
take 3 s. Under ``appendfsync everysec`` Redis then postpones writing its AOF for up
to 2 s while an fsync runs, and still replies (reading ``aof.c``; FACTS.md): the
kill is aimed a few tenths of a second into a new fsync, when acknowledged writes
live only in Redis's memory, so it should lose some, all acknowledged less than
2 s before it. ``always`` replies only after its fsync and ``no`` never postpones:
a process kill loses nothing acknowledged. Without persistence Redis restarts
empty. Where FUSE is not available the scenario is skipped, saying why.

Runs on topology=single only: the slow filesystem holds one redis-server's files.
"""

from duetime.chaos.checker import DEFAULT_CHECKERS
from duetime.chaos.checker.expectations import Expect
from duetime.chaos.checker.loss_bounds import EVERYSEC_WINDOW_S
from duetime.chaos.checker.redis_docs import (
    KILL_LOSES_NOTHING,
    LOST_WINDOW,
    window_checker,
)
from duetime.chaos.client.workload import Workload
from duetime.chaos.nemesis import FaultSchedule, SlowDisk
from duetime.chaos.scenario import STANDARD_EXPECTATIONS, QuickVersion, Scenario

EVERYSEC_KILL_WINDOW = Expect(
    LOST_WINDOW,
    "valid",
    f"reading aof.c: Redis postpones AOF writes for at most about {EVERYSEC_WINDOW_S:g} s",
)

SCENARIO = Scenario(
    name="slow_disk",
    description="Make every fsync take 3 s, SIGKILL redis-server while it lags (aimed "
    "under everysec), restart it; twice.",
    workload=Workload(tasks=220, duration=20.0, work=(0.05, 0.3)),
    nemeses=(
        SlowDisk(
            fsync_delay_s=3.0,
            then="kill",
            schedule=FaultSchedule(first_s=2.0, every_s=11.0, jitter_s=0.5, hold_s=(0.5, 1.0)),
        ),
    ),
    checkers={**DEFAULT_CHECKERS, LOST_WINDOW: window_checker("slow_disk_kill")},
    expectations={
        **STANDARD_EXPECTATIONS,
        "aof=always": (KILL_LOSES_NOTHING,),
        "aof=everysec": (EVERYSEC_KILL_WINDOW,),
        "aof=no": (KILL_LOSES_NOTHING,),
    },
    quick_version=QuickVersion(
        workload=Workload(tasks=60, duration=7.0, lead=(0.5, 1.5), work=(0.05, 0.3)),
        nemeses=(
            SlowDisk(
                fsync_delay_s=3.0,
                then="kill",
                schedule=FaultSchedule(first_s=0.5, every_s=60.0, jitter_s=0.0, hold_s=(0.5, 0.5)),
            ),
        ),
    ),
)
