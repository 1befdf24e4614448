"""A worker is frozen (SIGSTOP) for longer than its lease, then thawed (SIGCONT).

Another worker takes the frozen one's tasks over when the lease expires; the
frozen one wakes up still running them. Both runs finish: a bounded duplicate,
never a loss. 15% of the handlers work 5.5-7 s, longer than the pause, so the frozen
worker wakes while the new holder still runs the task: its renewals and its ack must
be refused (``fenced``). Workers run 8 handlers each so the long ones leave room for
the rest: the whole backlog drains in time. A few tasks fail every run with 2 attempts: they
must run out of attempts (``dead_letters``).

Runs on every topology (single, replicated, cluster): the fault freezes a worker
process only, whatever serves Redis.
"""

from duetime.chaos.client.workload import Workload
from duetime.chaos.nemesis import FaultSchedule, PauseWorker
from duetime.chaos.scenario import EVERY_TOPOLOGY, Scenario
from duetime.chaos.system.cluster import ClusterSettings

SCENARIO = Scenario(
    name="pause_worker",
    topologies=EVERY_TOPOLOGY,
    description="SIGSTOP a busy worker for 1.5-2.5x the lease (2 s), then SIGCONT.",
    workload=Workload(
        tasks=240,
        duration=16.0,
        work=(0.2, 0.8),
        long_fraction=0.15,
        long_work=(5.5, 7.0),
        doomed_fraction=0.05,
    ),
    nemeses=(
        PauseWorker(
            schedule=FaultSchedule(first_s=2.0, every_s=5.0, jitter_s=0.5, hold_s=(3.0, 5.0))
        ),
    ),
    cluster=ClusterSettings(concurrency=8),
    quick_factor=0.26,  # one pause in a 7.2 s load: keeps the CI matrix under 7 minutes
)
