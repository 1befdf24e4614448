"""Shared pieces of the explore tests: a registry of the process nemeses, fake runs."""

from __future__ import annotations

from duetime.chaos.explore.case import ExploreCase
from duetime.chaos.explore.judge import PROPERTIES, judge
from duetime.chaos.explore.kinds import KINDS, Registry
from duetime.chaos.explore.search import CaseResult

PROCESS_KINDS = ("kill_worker", "pause_worker", "clock_skew", "kill_cron", "kill_redis")

# The process nemeses, without asking the machine (no compiler check): for tests that
# never run a case.
PROCESS_REGISTRY = Registry(tuple(k for k in KINDS if k.name in PROCESS_KINDS), {})


def fake_result(case: ExploreCase, lost: bool, aof: str = "off") -> CaseResult:
    """A result as a real run would judge it, with ``lost`` failing or not."""
    verdicts = {p: "valid" for p in PROPERTIES} | {"lost": "invalid" if lost else "valid"}
    figures = {"acknowledged": case.workload.tasks, "lost": 1 if lost else 0}
    return CaseResult(judge(verdicts, aof, case.faults), figures, duration_s=0.1)


def loses_on_late_redis_kill(case: ExploreCase) -> bool:
    """The fake bug: a kill_redis from 1.0 s on loses tasks once there are 3 or more."""
    late_kill = any(f.kind == "kill_redis" and f.at_ds >= 10 for f in case.faults)
    return late_kill and case.workload.tasks >= 3
