from __future__ import annotations

from history_builder import HistoryBuilder

from duetime.chaos.checker import lost


def test_every_acknowledged_task_executed_is_valid(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=1).run("a", 1, 1.2).schedule("b", due=2).run("b", 2, 2.1)
    result = lost.check(hb.build())
    assert result.verdict == "valid"
    assert result.details["acknowledged"] == 2
    assert result.details["lost"] == 0


def test_acknowledged_but_never_executed_is_lost(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=1).run("a", 1, 1.2).schedule("b", due=2)
    result = lost.check(hb.build())
    assert result.verdict == "invalid"
    assert result.details["lost"] == 1
    assert result.details["lost_ids"] == ["b"]


def test_started_but_never_finished_is_lost(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=1).run("a", 1, None)
    result = lost.check(hb.build())
    assert result.verdict == "invalid"
    assert result.details["lost_started_never_finished"] == 1


def test_failed_run_without_a_later_success_is_lost(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=1).run("a", 1, 1.1, outcome="fail")
    assert lost.check(hb.build()).verdict == "invalid"


def test_indeterminate_schedule_that_ran_is_recovered_not_lost(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=1, outcomes=("info",)).run("a", 1, 1.1)
    hb.schedule("b", due=1, outcomes=("info",))
    result = lost.check(hb.build())
    assert result.verdict == "valid"
    assert result.details["indeterminate"] == 2
    assert result.details["recovered"] == 1


def test_retry_after_indeterminate_reply_makes_it_acknowledged(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=1, outcomes=("info", "ok"))
    result = lost.check(hb.build())
    assert result.verdict == "invalid"
    assert result.details["acknowledged"] == 1


def test_rejected_schedule_that_ran_is_invalid(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=1, outcomes=("fail",)).run("a", 1, 1.1)
    result = lost.check(hb.build())
    assert result.verdict == "invalid"
    assert result.details["rejected_but_executed_ids"] == ["a"]


def test_run_of_a_task_never_scheduled_is_invalid(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=1).run("a", 1, 1.1).run("ghost", 2, 2.1)
    result = lost.check(hb.build())
    assert result.verdict == "invalid"
    assert result.details["unexpected_ids"] == ["ghost"]


def test_cron_firings_are_not_unexpected(hb: HistoryBuilder) -> None:
    hb.cron_fire("c", 4.0)
    assert lost.check(hb.build()).verdict == "valid"


def test_indeterminate_replies_are_counted_even_when_a_retry_succeeded(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=1, outcomes=("info", "info", "ok")).run("a", 1, 1.1)
    result = lost.check(hb.build())
    assert result.details["indeterminate_replies"] == 2
    assert result.details["indeterminate"] == 0


def test_lost_tasks_are_split_by_what_the_history_shows(hb: HistoryBuilder) -> None:
    hb.schedule("killed", due=1).run("killed", 1.0, None)
    hb.schedule("failed", due=1).run("failed", 1.0, 1.1, outcome="fail")
    hb.schedule("never", due=1)
    hb.schedule("fine", due=1).run("fine", 1.0, 1.1)
    result = lost.check(hb.build())
    assert result.verdict == "invalid"
    assert result.details["lost"] == 3
    assert result.details["lost_started_never_finished"] == 1
    assert result.details["lost_failed_not_retried"] == 1
    assert result.details["lost_never_started"] == 1
