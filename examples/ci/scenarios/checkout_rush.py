"""The shop's own scenario: a checkout rush while workers are SIGKILLed.

Receipts and restocks with the shop's payloads, run by the shop's handlers. A worker is
killed mid-task, and others at any instant (inside a claim or an ack as well): every
acknowledged task must still run, repeats stay bounded and are explained by a kill, and
a worker whose lease was taken over is fenced.
"""

from duetime.chaos.client.workload import TaskKind, Workload
from duetime.chaos.nemesis import FaultSchedule, KillWorker
from duetime.chaos.scenario import Scenario
from duetime.chaos.system.cluster import ClusterSettings

ORDER = {"order": 1001, "lines": [{"qty": 2, "cents": 1250}, {"qty": 1, "cents": 399}]}

SCENARIO = Scenario(
    name="checkout_rush",
    description="Receipts and restocks; workers SIGKILLed mid-task and at any instant.",
    workload=Workload(
        tasks=60,
        duration=5.0,
        lead=(0.3, 1.0),
        kinds=(
            TaskKind("send_receipt", (ORDER, {**ORDER, "order": 1002}), weight=3.0),
            TaskKind("restock", ({"supplier_ms": 150}, {"supplier_ms": 400})),
        ),
    ),
    nemeses=(
        KillWorker(
            schedule=FaultSchedule(first_s=1.5, every_s=100.0, jitter_s=0.3, hold_s=(0.3, 0.6))
        ),
        KillWorker(
            anytime=True,
            schedule=FaultSchedule(first_s=1.0, every_s=2.0, jitter_s=0.5, hold_s=(0.2, 0.4)),
        ),
    ),
    cluster=ClusterSettings(workers=3, lease_s=1.0, user_handlers="shopapp.tasks:HANDLERS"),
    drain_timeout_s=10.0,
)
