"""Workers are SIGKILLed while a handler runs, and at any instant, then restarted.

The killed worker's leases expire after --lease seconds and another worker runs
those tasks again: nothing acknowledged may be lost, duplicates stay bounded. A
few tasks fail every run with 2 attempts: a killed run counts as one of them, and
each must still end in the dead letters after exactly 2 runs (``dead_letters``).
A second nemesis kills a worker at random instants, whatever it is doing: inside a
claim, an ack or a renewal round trip as well as inside a handler.

Runs on every topology (single, replicated, cluster): the faults hit worker
processes only, whatever serves Redis.
"""

from duetime.chaos.client.workload import Workload
from duetime.chaos.nemesis import FaultSchedule, KillWorker
from duetime.chaos.scenario import EVERY_TOPOLOGY, Scenario

SCENARIO = Scenario(
    name="kill_workers",
    topologies=EVERY_TOPOLOGY,
    description="SIGKILL a worker mid-task about every 3 s, and one at any instant every 2 s.",
    workload=Workload(tasks=260, duration=16.0, work=(0.1, 0.6), doomed_fraction=0.05),
    nemeses=(
        KillWorker(
            schedule=FaultSchedule(first_s=2.0, every_s=3.0, jitter_s=0.5, hold_s=(0.3, 1.0))
        ),
        KillWorker(
            anytime=True,
            schedule=FaultSchedule(first_s=1.0, every_s=2.0, jitter_s=0.9, hold_s=(0.2, 0.5)),
        ),
    ),
    quick_factor=0.15,  # one kill in a 5.4 s load: keeps the CI matrix under 7 minutes
)
