"""Lost tasks traced to the strike that lost them, on hand-written histories.

``hb.schedule(id, due, at=t)`` acknowledges the task at ``t + 0.01``.
"""

from __future__ import annotations

import pytest
from history_builder import HistoryBuilder

from duetime.chaos.checker import lost
from duetime.chaos.checker.loss_windows import loss_windows, lost_tasks
from duetime.chaos.checker.lost import LostAllPending, LostWithin


def everysec_power_loss(hb: HistoryBuilder, oldest_lost_ack: float) -> HistoryBuilder:
    """A power loss at t=10 that keeps a task acknowledged at 5 (it ran before) and one
    acknowledged at 8 (it ran after the restart), and loses two acknowledged late."""
    hb.fault("power_loss", 10.3, 11.0, struck_at=10.0)
    hb.schedule("ran-before", due=6, at=5).run("ran-before", 6, 6.2)
    hb.schedule("survived", due=12, at=8).run("survived", 12, 12.2)
    hb.schedule("lost-late", due=13, at=9.79)
    hb.schedule("lost-early", due=13, at=10 - oldest_lost_ack - 0.01)
    return hb


def test_a_loss_within_the_documented_window_passes(hb: HistoryBuilder) -> None:
    history = everysec_power_loss(hb, oldest_lost_ack=0.9).build()
    result = LostWithin("power_loss", 2.0)(history)
    assert result.verdict == "valid", result.summary
    (window,) = result.details["loss_windows"]
    assert (window["at_risk"], window["lost"]) == (3, 2)
    assert window["oldest_lost_ack_s"] == pytest.approx(0.9)
    assert window["newest_lost_ack_s"] == pytest.approx(0.2)
    assert window["oldest_at_risk_ack_s"] == pytest.approx(1.99)
    assert not window["everything_at_risk_lost"]


def test_a_loss_older_than_the_documented_window_fails(hb: HistoryBuilder) -> None:
    history = everysec_power_loss(hb, oldest_lost_ack=3.5).build()
    result = LostWithin("power_loss", 2.0)(history)
    assert result.verdict == "invalid"
    assert result.details["oldest_lost_ack_s"] == pytest.approx(3.5)
    assert "over the 2 s bound" in result.summary


def test_the_window_bound_is_unknown_without_such_a_strike(hb: HistoryBuilder) -> None:
    hb.fault("kill_redis", 10, 11).schedule("a", due=12, at=9)
    assert LostWithin("power_loss", 2.0)(hb.build()).verdict == "unknown"


def test_the_lost_checker_traces_each_loss_to_the_first_strike_after_its_ack(
    hb: HistoryBuilder,
) -> None:
    hb.redis_config("off")  # a restart loses everything pending: both strikes explain theirs
    hb.fault("kill_redis", 5.0, 5.5).fault("power_loss", 10.2, 11.0, struck_at=10.0)
    hb.schedule("lost-at-5", due=7, at=4.0)
    hb.schedule("lost-at-10", due=12, at=6.0)
    hb.schedule("never-struck", due=20, at=15.0)
    details = lost.check(hb.build()).details
    assert details["lost_by_fault"] == {"kill_redis": 1, "power_loss": 1}
    assert details["lost_oldest_ack_s"] == {"kill_redis": pytest.approx(0.99), "power_loss": 3.99}
    assert (details["lost_unexplained"], details["lost_unexplained_ids"]) == (1, ["never-struck"])
    first, second = details["loss_windows"]
    assert (first["fault"], first["lost"], first["at_risk"]) == ("kill_redis", 1, 1)
    # A task lost by the first strike is gone: it is not at risk again at the second.
    assert (second["fault"], second["lost"], second["at_risk"]) == ("power_loss", 1, 1)


def test_a_reply_recorded_just_after_the_strike_is_still_its_loss(hb: HistoryBuilder) -> None:
    hb.fault("power_loss", 10.5, 11.0, struck_at=10.0).schedule("raced", due=12, at=10.1)
    (window,) = loss_windows(hb.build(), {"raced"})[0]
    assert window.lost == 1
    assert window.lost_ack_ages_s == (pytest.approx(-0.11),)


def test_faults_that_did_not_strike_redis_explain_no_loss(hb: HistoryBuilder) -> None:
    hb.fault("partition_workers", 4, 8, targets=["worker-0", "worker-1"])
    hb.fault("slow_disk", 4, 8, struck_at=None, began_at=3.0)
    hb.schedule("a", due=6, at=3.0)
    history = hb.build()
    windows, unexplained = loss_windows(history, lost_tasks(history))
    assert windows == []
    assert unexplained == {"a"}


def test_a_task_a_worker_had_started_is_not_at_risk(hb: HistoryBuilder) -> None:
    hb.fault("power_loss", 10.2, 11.0, struck_at=10.0)
    hb.schedule("running", due=9, at=8).run("running", 9.5, 12.0)
    hb.schedule("claimed-just-before", due=9.9, at=8).run("claimed-just-before", 10.1, 12.0)
    hb.schedule("pending", due=13, at=8).run("pending", 13.0, 13.2)
    (window,) = loss_windows(hb.build(), set())[0]
    assert (window.at_risk, window.lost) == (1, 0)


def test_losing_everything_pending_passes_the_all_pending_check(hb: HistoryBuilder) -> None:
    hb.fault("power_loss", 10.2, 11.0, struck_at=10.0)
    hb.schedule("a", due=12, at=2.0).schedule("b", due=13, at=9.0)
    hb.schedule("done", due=3, at=1.0).run("done", 3, 3.1)
    result = LostAllPending("power_loss")(hb.build())
    assert result.verdict == "valid", result.summary
    assert result.details["loss_windows"][0]["everything_at_risk_lost"]


def test_keeping_one_pending_task_fails_the_all_pending_check(hb: HistoryBuilder) -> None:
    hb.fault("power_loss", 10.2, 11.0, struck_at=10.0)
    hb.schedule("a", due=12, at=2.0).schedule("kept", due=13, at=9.0).run("kept", 13, 13.1)
    result = LostAllPending("power_loss")(hb.build())
    assert result.verdict == "invalid"
    assert result.details["kept_some"] == ["power_loss-0"]


def test_the_all_pending_check_is_unknown_when_nothing_was_at_risk(hb: HistoryBuilder) -> None:
    hb.fault("power_loss", 10.2, 11.0, struck_at=10.0)
    hb.schedule("done", due=3, at=1.0).run("done", 3, 3.1)
    assert LostAllPending("power_loss")(hb.build()).verdict == "unknown"
