"""A flaky network between Redis and every client: latency with jitter, resets, cut-offs.

Toxiproxy toxics on every client's proxy, through its HTTP API: 0-200 ms of
latency each way; 70% of connections reset (TCP RST) as soon as they carry data;
and 70% of connections closed after 1 KB of replies. Calls fail or time out
part-way, so some writes are indeterminate and some acknowledgements of runs are
lost: no acknowledged task may be lost, duplicates stay bounded, nothing runs
early.

Runs on topology=single only: Toxiproxy routes clients to one redis-server.
"""

from duetime.chaos.client.workload import Workload
from duetime.chaos.nemesis import FaultSchedule, NetworkToxic
from duetime.chaos.scenario import QuickVersion, Scenario

LATENCY = NetworkToxic.latency(
    100,
    jitter_ms=100,
    schedule=FaultSchedule(first_s=2.0, every_s=6.0, jitter_s=0.5, hold_s=(2.0, 3.0)),
)
RESETS = NetworkToxic.reset_peer(
    timeout_ms=0,
    toxicity=0.7,
    schedule=FaultSchedule(first_s=4.5, every_s=6.0, jitter_s=0.5, hold_s=(1.5, 2.0)),
)
CUT_OFFS = NetworkToxic.limit_data(
    1024,
    stream="downstream",
    toxicity=0.7,
    schedule=FaultSchedule(first_s=6.5, every_s=6.0, jitter_s=0.5, hold_s=(1.0, 1.5)),
)

SCENARIO = Scenario(
    name="flaky_network",
    description="Latency 100+-100 ms, then 70% of connections reset on sending, then "
    "70% cut after 1 KB of replies; every client, in turn, about every 6 s.",
    workload=Workload(tasks=200, duration=16.0, work=(0.05, 0.3)),
    nemeses=(LATENCY, RESETS, CUT_OFFS),
    quick_version=QuickVersion(
        workload=Workload(tasks=50, duration=3.5, lead=(0.3, 1.0), work=(0.05, 0.3)),
        nemeses=(
            NetworkToxic.latency(
                100,
                jitter_ms=100,
                schedule=FaultSchedule(first_s=0.3, every_s=60.0, jitter_s=0.0, hold_s=(1.2, 1.2)),
            ),
            NetworkToxic.reset_peer(
                timeout_ms=0,
                toxicity=0.7,
                schedule=FaultSchedule(first_s=1.6, every_s=60.0, jitter_s=0.0, hold_s=(1.0, 1.0)),
            ),
            NetworkToxic.limit_data(
                1024,
                stream="downstream",
                toxicity=0.7,
                schedule=FaultSchedule(first_s=2.8, every_s=60.0, jitter_s=0.0, hold_s=(1.0, 1.0)),
            ),
        ),
    ),
)
