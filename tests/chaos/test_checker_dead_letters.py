"""dead_letters: a task meant to fail every run runs max_attempts times, then stops."""

from __future__ import annotations

from history_builder import HistoryBuilder

from duetime.chaos.checker import dead_letters, lost


def doomed(hb: HistoryBuilder, runs: int, max_attempts: int = 2) -> HistoryBuilder:
    hb.schedule("d", due=1, max_attempts=max_attempts, fail_attempts=max_attempts)
    for i in range(runs):
        hb.run("d", 1.0 + i, 1.1 + i, outcome="fail", attempt=i + 1, max_attempts=max_attempts)
    return hb


def test_a_doomed_task_that_ran_every_attempt_passes(hb: HistoryBuilder) -> None:
    result = dead_letters.check(doomed(hb, runs=2).build())
    assert (result.verdict, result.details["ran_out"]) == ("valid", 1)


def test_a_doomed_task_given_up_early_fails(hb: HistoryBuilder) -> None:
    result = dead_letters.check(doomed(hb, runs=1).build())
    assert (result.verdict, result.details["short_unexplained_ids"]) == ("invalid", ["d"])


def test_a_run_handed_back_does_not_count_as_an_attempt(hb: HistoryBuilder) -> None:
    hb.schedule("d", due=1, max_attempts=2, fail_attempts=2)
    hb.run("d", 1.0, None, attempt=1, max_attempts=2, token=1)
    hb.lease("release", "d", 1, sent=1.5, answered=1.51)
    hb.run("d", 2.0, 2.1, outcome="fail", attempt=1, max_attempts=2, token=2)
    result = dead_letters.check(hb.build())
    assert (result.verdict, result.details["short_unexplained_ids"]) == ("invalid", ["d"])
    hb.run("d", 3.0, 3.1, outcome="fail", attempt=2, max_attempts=2, token=3)
    assert dead_letters.check(hb.build()).verdict == "valid"


def test_a_doomed_task_that_never_ran_and_no_strike_explains_fails(hb: HistoryBuilder) -> None:
    assert dead_letters.check(doomed(hb, runs=0).build()).verdict == "invalid"


def test_a_doomed_task_a_documented_strike_took_is_excused(hb: HistoryBuilder) -> None:
    hb.redis_config("off").fault("kill_redis", 2.0, 2.5)
    assert dead_letters.check(doomed(hb, runs=0).build()).verdict == "valid"


def test_a_doomed_task_is_not_counted_lost(hb: HistoryBuilder) -> None:
    details = lost.check(doomed(hb, runs=2).build()).details
    assert details["lost"] == 0


def test_a_workload_without_doomed_tasks_passes(hb: HistoryBuilder) -> None:
    hb.schedule("t", due=1).run("t", 1.0, 1.1)
    assert dead_letters.check(hb.build()).verdict == "valid"
