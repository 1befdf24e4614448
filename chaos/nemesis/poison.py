"""Data faults: unreadable task records and recurring specs, written straight into Redis.

What a restore from another version, a manual edit or another program leaves behind.
Each strike writes one poisoned task of each kind (``duetime.chaos.designs.data_faults``
knows how in each design's key layout), due now, among the workload's good tasks, and
an unreadable recurring spec under a name of its own (for designs whose schedules live
in Redis), while the workers run. A data fault is not healed: setting it aside is the
scheduler's job, and the ``poisoned`` checker judges how it did.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from duetime.chaos.designs.data_faults import POISON_KINDS, cron_poisoner, poisoner
from duetime.chaos.system.cluster import REDIS_ROLE, Cluster
from duetime.chaos.system.run_config import CLUSTER

from .base import Fault, Nemesis, NemesisContext, NemesisUnavailable

# Poisoned names start with this, so the history tells them from the workload's.
POISON_PREFIX = "poison-"
SOCKET_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class PoisonRecords(Nemesis):
    """Write one unreadable task record of each of ``kinds`` (those the design has) and,
    with ``cron``, one unreadable recurring spec. The fault's detail lists them."""

    kinds: tuple[str, ...] = POISON_KINDS
    cron: bool = True

    @property
    def name(self) -> str:
        return "poison_records"

    def setup(self, cluster: Cluster) -> None:
        if cluster.topology == CLUSTER:
            raise NemesisUnavailable(
                "poison_records writes the one-shard key layout to one primary: "
                "topology=cluster shards the namespace over three"
            )

    def inject(self, ctx: NemesisContext) -> Fault | None:
        strategy = ctx.cluster.design.name
        namespace = ctx.cluster.settings.namespace
        tag = f"{ctx.rng.randrange(16**6):06x}"
        client = ctx.cluster.primary_client(socket_timeout=SOCKET_TIMEOUT_S)
        tasks, absent, specs = [], [], []
        try:
            for kind in self.kinds:
                task_id = f"{POISON_PREFIX}{tag}-{kind}"
                # Due now by Redis's host clock: the testbed and Redis share the machine.
                if poisoner(strategy)(client, namespace, task_id, kind, time.time()):
                    tasks.append({"task_id": task_id, "kind": kind})
                else:
                    absent.append(kind)
            name = f"{POISON_PREFIX}{tag}-cron"
            if self.cron and cron_poisoner(strategy)(client, namespace, name):
                specs.append(name)
        finally:
            client.close()
        if not tasks and not specs:
            return None
        detail = {"tasks": tasks, "cron": specs, "kinds_the_design_lacks": absent}
        return Fault(targets=(REDIS_ROLE,), detail=detail, healer=lambda: None)
