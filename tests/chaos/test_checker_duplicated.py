from __future__ import annotations

from history_builder import HistoryBuilder

from duetime.chaos.checker import duplicated


def test_single_runs_have_no_duplicates(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=1).run("a", 1, 1.1).run("b", 1, 1.2, process="worker-1")
    result = duplicated.check(hb.build())
    assert result.verdict == "valid"
    assert result.details["duplicate_executions"] == 0


def test_rerun_after_a_pause_is_a_duplicate_explained_by_the_fault(hb: HistoryBuilder) -> None:
    hb.run("a", 1.0, 6.0, process="worker-0")
    hb.fault("pause_worker", 1.5, 5.5, targets=["worker-0"])
    hb.run("a", 3.6, 3.8, process="worker-1")
    result = duplicated.check(hb.build())
    assert result.verdict == "valid"
    assert result.details["duplicate_executions"] == 1
    assert result.details["max_executions_per_task"] == 2
    assert result.details["explained_by_fault"] == {"pause_worker": 1}
    assert result.details["unexplained"] == 0


def test_duplicate_without_a_fault_is_reported_unexplained(hb: HistoryBuilder) -> None:
    hb.run("a", 1.0, 1.1, process="worker-0").run("a", 5.0, 5.1, process="worker-1")
    hb.fault("pause_worker", 3.0, 4.0, targets=["worker-1"])
    result = duplicated.check(hb.build())
    assert result.details["unexplained"] == 1


def test_more_runs_than_max_attempts_is_invalid(hb: HistoryBuilder) -> None:
    for i in range(3):
        hb.run("a", i, i + 0.1, max_attempts=2)
    result = duplicated.check(hb.build())
    assert result.verdict == "invalid"
    assert result.details["over_max_attempts_ids"] == ["a"]


def test_unfinished_runs_do_not_count_against_the_bound(hb: HistoryBuilder) -> None:
    hb.run("a", 0, None, max_attempts=2).run("a", 1, None, max_attempts=2)
    hb.run("a", 2, 2.1, max_attempts=2)
    assert duplicated.check(hb.build()).verdict == "valid"


def test_repeats_with_the_same_idempotency_key_are_counted(hb: HistoryBuilder) -> None:
    hb.run("a", 1.0, 1.1, key="a:1").run("a", 2.0, 2.1, key="a:1")
    hb.run("b", 1.0, 1.1, key="b:1").run("b", 2.0, 2.1, key="b:2")
    hb.run("c", 1.0, 1.1).run("c", 2.0, 2.1)  # no key: nothing a receiver could match
    result = duplicated.check(hb.build())
    assert result.details["duplicate_executions"] == 3
    assert result.details["same_key_duplicates"] == 1


def test_a_repeat_that_starts_while_the_first_run_still_runs_overlaps(
    hb: HistoryBuilder,
) -> None:
    hb.run("a", 1.0, 3.0, process="worker-0").run("a", 2.0, 2.5, process="worker-1")
    hb.run("b", 1.0, 1.5, process="worker-0").run("b", 2.0, 2.5, process="worker-1")
    result = duplicated.check(hb.build())
    assert result.details["duplicate_executions"] == 2
    assert result.details["overlapping_duplicates"] == 1
