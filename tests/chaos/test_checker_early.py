from __future__ import annotations

import pytest
from history_builder import HistoryBuilder

from duetime.chaos.checker import early


def test_runs_at_or_after_due_are_valid(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=10.0).run("a", 10.0, 10.1, due=10.0)
    hb.schedule("b", due=10.0).run("b", 10.0 - early.TOLERANCE_S / 2, 10.1, due=10.0)
    assert early.check(hb.build()).verdict == "valid"


def test_run_before_due_is_invalid(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=10.0).run("a", 9.5, 9.6, due=10.0)
    result = early.check(hb.build())
    assert result.verdict == "invalid"
    assert result.details["early_ids"] == ["a"]
    assert abs(result.details["max_early_s"] - 0.5) < 1e-6


def test_due_time_is_the_one_asked_for_not_the_one_reported(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=10.0).run("a", 9.0, 9.1, due=8.0)
    result = early.check(hb.build())
    assert result.verdict == "invalid"
    assert result.details["due_mismatch"] == 1


def test_cron_firing_before_its_slot_is_invalid(hb: HistoryBuilder) -> None:
    hb.cron_fire("c", 20.0, start=19.0)
    assert early.check(hb.build()).verdict == "invalid"


def test_a_task_no_producer_recorded_is_not_judged_by_the_schedulers_word(
    hb: HistoryBuilder,
) -> None:
    # The scheduler says it was due at 0: the testbed has no record to check that by.
    hb.run("stranger", start=1.0, end=1.1, due=0.0)
    result = early.check(hb.build())
    assert (result.verdict, result.details["no_due_known_ids"]) == ("unknown", ["stranger"])


def test_a_start_is_judged_on_the_hosts_wall_clock_which_ran_ahead(hb: HistoryBuilder) -> None:
    # A resumed VM's wall clock gained 30 ms on the monotonic one: Redis saw the task due
    # 30 ms sooner by the testbed clock, and on the wall clock it started on time.
    hb.host_clock(0.0, 0.0).host_clock(9.0, 0.030).host_clock(20.0, 0.030)
    hb.schedule("a", due=10.0).run("a", 9.975, 10.1, due=10.0)
    result = early.check(hb.build())
    assert result.verdict == "valid", result.details
    assert result.details["wall_clock_moved_s"] == 0.03
    assert "wall clock moved 0.030 s" in result.summary


def test_a_wall_clock_ahead_by_less_than_the_earliness_excuses_nothing(
    hb: HistoryBuilder,
) -> None:
    hb.host_clock(0.0, 0.0).host_clock(9.0, 0.010).host_clock(20.0, 0.010)
    hb.schedule("a", due=10.0).run("a", 9.975, 10.1, due=10.0)
    result = early.check(hb.build())
    assert result.verdict == "invalid"
    assert result.details["max_early_s"] == pytest.approx(0.015)


def test_a_wall_clock_behind_makes_a_start_earlier(hb: HistoryBuilder) -> None:
    # Stepped back 50 ms: Redis's TIME read 10.000 at testbed 10.040, too soon.
    hb.host_clock(0.0, 0.0).host_clock(5.0, -0.050).host_clock(20.0, -0.050)
    hb.schedule("a", due=10.0).run("a", 10.040, 10.1, due=10.0)
    result = early.check(hb.build())
    assert result.verdict == "invalid"
    assert result.details["max_early_s"] == pytest.approx(0.010)
