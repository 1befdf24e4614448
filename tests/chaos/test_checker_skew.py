"""skew: a clock-skew fault counts only if the skewed worker ran tasks shifted."""

from __future__ import annotations

from history_builder import HistoryBuilder

from duetime.chaos.checker import skew
from duetime.chaos.history.ops import DISPATCH, EXECUTE, Op


def skewed_run(hb: HistoryBuilder, at: float, wall_skew_s: float, process: str) -> None:
    value = {"exec_id": f"x{at}", "task_id": f"t{at}", "wall_skew_s": wall_skew_s}
    hb.ops.append(Op("invoke", process, at, EXECUTE, value))


def test_a_skew_that_shifted_the_runs_of_its_worker_passes(hb: HistoryBuilder) -> None:
    hb.fault("clock_skew", 1.0, 9.0, targets=["worker-1"], shift_s=30.0)
    skewed_run(hb, 2.0, 30.01, "worker-1")
    assert skew.check(hb.build()).verdict == "valid"


def test_a_skew_dropped_by_a_restart_tested_nothing(hb: HistoryBuilder) -> None:
    # The worker ran, but with its clock right: the shift was not in force.
    hb.fault("clock_skew", 1.0, 9.0, targets=["worker-1"], shift_s=30.0)
    skewed_run(hb, 2.0, 0.0, "worker-1")
    skewed_run(hb, 3.0, 30.0, "worker-2")  # another worker's clock is no evidence
    result = skew.check(hb.build())
    assert (result.verdict, len(result.details["untested"])) == ("unknown", 1)


def test_runs_without_skew_faults_pass(hb: HistoryBuilder) -> None:
    skewed_run(hb, 2.0, 0.0, "worker-1")
    assert skew.check(hb.build()).verdict == "valid"


def test_a_skewed_dispatcher_process_counts_by_its_dispatch_rounds(hb: HistoryBuilder) -> None:
    # A dispatcher process runs no handler: its rounds that moved tasks are the evidence.
    hb.fault("clock_skew", 1.0, 9.0, targets=["dispatcher-0"], shift_s=30.0)
    hb.ops.append(Op("info", "dispatcher-0", 2.0, DISPATCH, {"moved": 3, "wall_skew_s": 30.0}))
    assert skew.check(hb.build()).verdict == "valid"


def test_a_dispatcher_round_with_its_clock_right_is_no_evidence(hb: HistoryBuilder) -> None:
    hb.fault("clock_skew", 1.0, 9.0, targets=["dispatcher-0"], shift_s=30.0)
    hb.ops.append(Op("info", "dispatcher-0", 2.0, DISPATCH, {"moved": 3, "wall_skew_s": 0.0}))
    assert skew.check(hb.build()).verdict == "unknown"


def test_the_hosts_own_wall_clock_moving_is_not_the_nemesis_shift(hb: HistoryBuilder) -> None:
    # The whole host's wall clock ran 0.4 s ahead: the worker saw that, not a 0.5 s shift.
    hb.host_clock(0.0, 0.4).fault("clock_skew", 1.0, 9.0, targets=["worker-1"], shift_s=0.5)
    skewed_run(hb, 2.0, 0.4, "worker-1")
    assert skew.check(hb.build()).verdict == "unknown"
