"""Workers are SIGKILLed while a handler runs, then restarted.

The killed worker's leases expire after --lease seconds and another worker runs
those tasks again: nothing acknowledged may be lost, duplicates stay bounded. A
few tasks fail every run with 2 attempts: a killed run counts as one of them, and
each must still end in the dead letters after exactly 2 runs (``dead_letters``).
"""

from duetime.chaos.client.workload import Workload
from duetime.chaos.nemesis import FaultSchedule, KillWorker
from duetime.chaos.scenario import Scenario

SCENARIO = Scenario(
    name="kill_workers",
    description="SIGKILL a worker mid-task about every 3 s and restart it.",
    workload=Workload(tasks=260, duration=16.0, work=(0.1, 0.6), doomed_fraction=0.05),
    nemeses=(
        KillWorker(
            schedule=FaultSchedule(first_s=2.0, every_s=3.0, jitter_s=0.5, hold_s=(0.3, 1.0))
        ),
    ),
    quick_factor=0.15,  # one kill in a 5.4 s load: keeps the CI matrix under 7 minutes
)
