"""Redis fills up: maxmemory is lowered to just above what it uses and filled with
ballast, held, then freed.

Under ``noeviction`` a full Redis refuses new tasks with the library's ``RedisFull``,
which says nothing was written: the producers record those calls as refused, not as
lost, and none of them may run (``full_memory``). Workers still drain a full Redis, so
every acknowledged task runs and the backlog drains once the ballast is gone
(``unexplained_loss``). Under ``maxmemory=allkeys-lru`` Redis evicts instead of
refusing, whatever keys it picks: the testbed runs the reference with
``--allow-eviction`` and holds it to the rest (README, "The maxmemory axis").

Runs on topology=single only: the nemesis fills one redis-server's memory.
"""

from duetime.chaos.checker import DEFAULT_CHECKERS, full_memory
from duetime.chaos.checker.expectations import ANY_CONFIG, Expect
from duetime.chaos.client.workload import Workload
from duetime.chaos.nemesis import FaultSchedule, FillMemory
from duetime.chaos.scenario import STANDARD_EXPECTATIONS, QuickVersion, Scenario

REFUSED_NOT_WRITTEN = Expect(
    "full_memory",
    "valid",
    "a full Redis (maxmemory, noeviction) refuses new tasks with RedisFull and writes "
    "nothing of the refused call; workers still drain it",
)

SCENARIO = Scenario(
    name="full_memory",
    description="Fill Redis to maxmemory about every 6 s, hold 1.5-2.5 s, free it.",
    workload=Workload(tasks=220, duration=14.0, work=(0.05, 0.2), payload_bytes=(200, 2000)),
    nemeses=(
        FillMemory(
            schedule=FaultSchedule(first_s=2.5, every_s=6.0, jitter_s=0.5, hold_s=(1.5, 2.5))
        ),
    ),
    expectations={ANY_CONFIG: (*STANDARD_EXPECTATIONS[ANY_CONFIG], REFUSED_NOT_WRITTEN)},
    checkers={**DEFAULT_CHECKERS, "full_memory": full_memory.check},
    quick_version=QuickVersion(
        workload=Workload(
            tasks=60, duration=4.0, lead=(0.3, 1.0), work=(0.05, 0.2), payload_bytes=(200, 2000)
        ),
        nemeses=(
            FillMemory(
                schedule=FaultSchedule(first_s=1.5, every_s=60.0, jitter_s=0.0, hold_s=(1.5, 1.5))
            ),
        ),
    ),
)
