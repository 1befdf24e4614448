"""From an explored case to a scenario the runner takes."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from duetime.chaos.checker.expectations import Expect
from duetime.chaos.scenario import STANDARD_EXPECTATIONS, Scenario
from duetime.chaos.system.cluster import ClusterSettings

from .case import ExploreCase
from .kinds import Registry

# Two workers, so one can take over what a killed or paused one held; 2 s leases,
# so takeovers happen within a short run.
CLUSTER = ClusterSettings(workers=2, concurrency=4, lease_s=2.0)
# With cron schedules: two tickers (one can cover for the other) and workers that do
# not tick, as in scenarios/cron_schedulers.py. The cron checker expects slots while
# the tickers run; workers still ticking during the drain fire slots it cannot place.
CRON_CLUSTER = dataclasses.replace(CLUSTER, cron_schedulers=2, worker_args=("--no-cron",))
DRAIN_TIMEOUT_S = 20.0
SCENARIO_NAME = "explore"


def scenario_for(
    case: ExploreCase,
    registry: Registry,
    *,
    name: str = SCENARIO_NAME,
    description: str = "",
    expectations: Mapping[str, tuple[Expect, ...]] = STANDARD_EXPECTATIONS,
    default_config: str = "aof=everysec",
) -> Scenario:
    """The scenario that runs ``case``: one one-shot nemesis per fault.

    With cron schedules, two cron-scheduler processes tick them (see ``CRON_CLUSTER``).
    """
    nemeses = tuple(registry.get(f.kind).build(f.at_s, f.hold_s, f.variant) for f in case.faults)
    cluster = CRON_CLUSTER if case.workload.cron else CLUSTER
    return Scenario(
        name=name,
        description=description or case.describe(registry),
        workload=case.workload,
        nemeses=nemeses,
        cluster=cluster,
        expectations=dict(expectations),
        default_config=default_config,
        drain_timeout_s=DRAIN_TIMEOUT_S,
    )
