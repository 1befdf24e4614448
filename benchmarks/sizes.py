"""How many tasks each measurement uses, in the full run and in ``--quick``."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Sizes:
    single: int  # tasks enqueued with one call each
    batch: int  # tasks enqueued through the batch API (in calls of 1,000)
    drain: int  # tasks already due, drained by the workers
    drain_cap_s: float  # a drain stops this long after its first run, done or not
    precision: int  # delayed tasks ...
    spread_s: float  # ... due evenly over this long ...
    lead_s: float  # ... the first this long after the producer connected
    grace_s: float  # how long after the last due time a task may still run
    memory: int  # pending tasks whose Redis memory is measured
    pad: int  # filler bytes in each memory-test payload
    scale_levels: tuple[int, ...]  # backlogs of pending tasks for duetime
    scale_peer_levels: tuple[int, ...]  # ... and for peers, where practical
    scale_drain: int  # due tasks drained at each backlog
    scale_precision: int  # delayed tasks timed at each backlog ...
    scale_spread_s: float  # ... over this long
    scale_load_budget_s: float  # a peer's backlog is skipped if loading it takes longer
    ceiling_s: float  # seconds of each Python ceiling measurement
    ceiling_bench_n: int  # requests of each redis-benchmark run (x5 when pipelined)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FULL = Sizes(
    single=5_000,
    batch=20_000,
    drain=20_000,
    drain_cap_s=15.0,
    precision=2_000,
    spread_s=10.0,
    lead_s=3.0,
    grace_s=10.0,
    memory=20_000,
    pad=100,
    scale_levels=(10_000, 1_000_000, 10_000_000),
    scale_peer_levels=(10_000, 1_000_000),
    scale_drain=10_000,
    scale_precision=1_000,
    scale_spread_s=5.0,
    scale_load_budget_s=120.0,
    ceiling_s=3.0,
    ceiling_bench_n=300_000,
)

QUICK = Sizes(
    single=500,
    batch=2_000,
    drain=2_000,
    drain_cap_s=4.0,
    precision=200,
    spread_s=2.0,
    lead_s=1.5,
    grace_s=3.0,
    memory=2_000,
    pad=100,
    scale_levels=(10_000,),
    scale_peer_levels=(10_000,),
    scale_drain=2_000,
    scale_precision=200,
    scale_spread_s=2.0,
    scale_load_budget_s=20.0,
    ceiling_s=1.0,
    ceiling_bench_n=50_000,
)
