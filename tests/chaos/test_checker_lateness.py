from __future__ import annotations

import pytest
from history_builder import HistoryBuilder

from duetime.chaos.checker.lateness import LatenessChecker


def test_percentiles_of_first_start_minus_due(hb: HistoryBuilder) -> None:
    for i in range(100):
        hb.schedule(f"t{i}", due=10.0, at=5.0).run(f"t{i}", 10.0 + i / 100, 11.0)
    hb.run("t0", 30.0, 30.1)  # a later re-run does not change lateness
    result = LatenessChecker()(hb.build())
    assert result.verdict == "valid"
    assert result.details["p50_s"] == pytest.approx(0.49)
    assert result.details["p99_s"] == pytest.approx(0.98)
    assert result.details["max_s"] == pytest.approx(0.99)


def test_lateness_counts_from_submission_when_submitted_after_due(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=10.0, at=12.0).run("a", 12.5, 12.6)
    assert LatenessChecker()(hb.build()).details["max_s"] == pytest.approx(0.5)


def test_bound_exceeded_is_invalid(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=10.0).run("a", 13.0, 13.1)
    result = LatenessChecker(max_s=2.0)(hb.build())
    assert result.verdict == "invalid"


def test_a_bound_with_nothing_to_measure_is_unknown(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=10.0)
    assert LatenessChecker(max_p99_s=1.0)(hb.build()).verdict == "unknown"


def test_until_finished_counts_the_retry_after_a_killed_run(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=10.0).run("a", 10.0, None).run("a", 12.5, 12.75)
    details = LatenessChecker()(hb.build()).details
    assert details["max_s"] == pytest.approx(0.0)
    assert details["finished_max_s"] == pytest.approx(2.75)


def test_lateness_is_measured_on_the_hosts_wall_clock(hb: HistoryBuilder) -> None:
    # The wall clock gained 0.2 s during the run: a start 0.1 s before due on the testbed
    # clock was 0.1 s late on the clock the due time is on.
    hb.host_clock(0.0, 0.0).host_clock(9.0, 0.2).schedule("a", due=10.0).run("a", 9.9, 10.0)
    assert LatenessChecker()(hb.build()).details["max_s"] == pytest.approx(0.1)
