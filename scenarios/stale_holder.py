"""A worker is frozen mid-handler for 2-2.4x its 1 s lease while most handlers run 2.5-3 s.

The frozen worker's leases expire, another worker claims its tasks and starts them
again, and the frozen one wakes while that new holder still runs them: its renewals
and its acks come with a token that is no longer the task's. Redis must refuse every
one (``fenced``). pause_worker makes the same race possible; here it is the common
case, so a fence that ignores the token is caught by every seed of a quick run.

Runs on every topology (single, replicated, cluster): the fault freezes a worker
process only, and fencing is decided on the task's own master.
"""

from duetime.chaos.client.workload import Workload
from duetime.chaos.nemesis import FaultSchedule, PauseWorker
from duetime.chaos.scenario import EVERY_TOPOLOGY, Scenario
from duetime.chaos.system.cluster import ClusterSettings

SCENARIO = Scenario(
    name="stale_holder",
    topologies=EVERY_TOPOLOGY,
    description="SIGSTOP a worker mid-handler for 2-2.4 s (lease 1 s); most handlers run "
    "2.5-3 s, so it wakes while another worker runs its tasks.",
    workload=Workload(
        tasks=200,
        duration=16.0,
        lead=(0.3, 0.5),
        work=(0.1, 0.3),
        long_fraction=0.7,
        long_work=(2.5, 3.0),
    ),
    nemeses=(
        PauseWorker(
            schedule=FaultSchedule(first_s=1.2, every_s=5.0, jitter_s=0.3, hold_s=(2.0, 2.4))
        ),
    ),
    cluster=ClusterSettings(concurrency=8, lease_s=1.0),
    quick_factor=0.2,  # one pause in a 3.7 s load
)
