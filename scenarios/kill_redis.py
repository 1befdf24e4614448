"""redis-server is SIGKILLed and restarted from the files it left behind.

Redis writes the AOF to the kernel before it replies, so a process kill loses
nothing acknowledged under appendfsync no/everysec/always (the OS survives).
With AOF off and no RDB snapshot, Redis restarts empty: pending tasks are lost,
as documented. Every run is held to one rule (``unexplained_loss``): a lost task
must have been acknowledged inside the window Redis documents for that kind of
strike under the run's config (everything still pending for aof=off, nothing for
the others); any other loss fails the run.

Runs on topology=single only: the nemesis kills and restarts one redis-server.
"""

from duetime.chaos.client.workload import Workload
from duetime.chaos.nemesis import FaultSchedule, KillRedis
from duetime.chaos.scenario import STANDARD_EXPECTATIONS, Scenario

SCENARIO = Scenario(
    name="kill_redis",
    description="SIGKILL redis-server about every 6 s, restart it from its AOF/RDB files.",
    workload=Workload(tasks=240, duration=16.0, work=(0.05, 0.3)),
    nemeses=(
        KillRedis(
            schedule=FaultSchedule(first_s=3.0, every_s=6.0, jitter_s=1.0, hold_s=(0.5, 1.5))
        ),
    ),
    expectations=STANDARD_EXPECTATIONS,
    quick_factor=0.15,  # one kill in a 5.4 s load: keeps the CI matrix under 7 minutes
)
