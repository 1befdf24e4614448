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
    assert (result.verdict, result.details["unexplained"]) == ("invalid", 1)
    assert result.details["unexplained_ids"] == ["a"]


def test_a_holder_that_wakes_from_a_pause_and_runs_a_taken_over_task_is_explained(
    hb: HistoryBuilder,
) -> None:
    # worker-0 claimed before its pause; worker-1 ran the task once the lease lapsed.
    hb.fault("pause_worker", 1.0, 5.0, targets=["worker-0"])
    hb.run("a", 3.0, 3.2, process="worker-1")
    hb.run("a", 5.002, 5.1, process="worker-0")
    result = duplicated.check(hb.build())
    assert (result.verdict, result.details["unexplained"]) == ("valid", 0)
    assert result.details["explained_by_fault"] == {"pause_worker": 1}


def test_a_run_long_after_its_worker_woke_is_not_explained_by_the_pause(
    hb: HistoryBuilder,
) -> None:
    hb.fault("pause_worker", 1.0, 5.0, targets=["worker-0"])
    hb.run("a", 3.0, 3.2, process="worker-1")
    hb.run("a", 7.0, 7.1, process="worker-0")
    result = duplicated.check(hb.build())
    assert (result.verdict, result.details["unexplained"]) == ("invalid", 1)


def test_more_runs_than_max_attempts_is_invalid(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=0, max_attempts=2)
    for i in range(3):
        hb.run("a", i, i + 0.1, max_attempts=2)
    result = duplicated.check(hb.build())
    assert result.verdict == "invalid"
    assert result.details["over_max_attempts_ids"] == ["a"]


def test_a_run_handed_back_at_a_graceful_stop_gives_its_attempt_back(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=0, max_attempts=2)
    hb.run("a", 0, None, max_attempts=2, token=1)
    hb.lease("release", "a", 1, sent=0.5, answered=0.51)
    hb.run("a", 1, None, max_attempts=2, token=2).run("a", 2, 2.1, max_attempts=2, token=3)
    assert duplicated.check(hb.build()).details["over_max_attempts_ids"] == []


def test_a_refused_hand_back_still_counts_its_run(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=0, max_attempts=2)
    hb.run("a", 0, None, max_attempts=2, token=1)
    hb.lease("release", "a", 1, sent=0.5, answered=0.51, accepted=False)
    hb.run("a", 1, None, max_attempts=2, token=2).run("a", 2, 2.1, max_attempts=2, token=3)
    assert duplicated.check(hb.build()).details["over_max_attempts_ids"] == ["a"]


def test_every_started_run_counts_against_the_bound(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=0, max_attempts=2)
    hb.run("a", 0, None, max_attempts=2).run("a", 1, None, max_attempts=2)
    hb.run("a", 2, 2.1, max_attempts=2)
    assert duplicated.check(hb.build()).details["over_max_attempts_ids"] == ["a"]


def test_the_bound_is_the_producers_not_what_the_scheduler_told_the_handler(
    hb: HistoryBuilder,
) -> None:
    hb.schedule("a", due=0, max_attempts=1)
    hb.run("a", 0, None, max_attempts=10).run("a", 1, 1.1, max_attempts=10)
    hb.fault("kill_worker", 0.5, 0.6, targets=["worker-0"])
    result = duplicated.check(hb.build())
    assert (result.verdict, result.details["over_max_attempts_ids"]) == ("invalid", ["a"])


def test_within_the_bound_a_run_after_a_killed_one_is_fine(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=0, max_attempts=3)
    hb.run("a", 0, None).fault("kill_worker", 0.5, 0.6, targets=["worker-0"])
    hb.run("a", 2, 2.1, process="worker-1")
    assert duplicated.check(hb.build()).verdict == "valid"


def test_a_strike_may_undo_an_ack_within_its_documented_window(hb: HistoryBuilder) -> None:
    # everysec: a power loss takes up to 2 s of acknowledged writes, the ack among them.
    hb.redis_config("everysec").schedule("a", due=0)
    hb.run("a", 1.0, 1.2).fault("power_loss", 2.5, 3.0, struck_at=2.7)
    hb.run("a", 4.0, 4.1, process="worker-1")
    assert duplicated.check(hb.build()).verdict == "valid"


def test_a_strike_long_after_the_ack_explains_no_repeat(hb: HistoryBuilder) -> None:
    hb.redis_config("everysec").schedule("a", due=0)
    hb.run("a", 1.0, 1.2).fault("power_loss", 4.0, 4.5)
    hb.run("a", 5.0, 5.1, process="worker-1")
    assert duplicated.check(hb.build()).verdict == "invalid"


def test_a_kill_under_always_undoes_no_ack_past_the_slack(hb: HistoryBuilder) -> None:
    hb.redis_config("always").schedule("a", due=0)
    hb.run("a", 1.0, 1.2).fault("kill_redis", 2.0, 2.5)
    hb.run("a", 3.0, 3.1, process="worker-1")
    assert duplicated.check(hb.build()).verdict == "invalid"


def test_a_fault_counts_from_when_it_really_began(hb: HistoryBuilder) -> None:
    # The pause window is recorded from 5.0, but the worker was stopped at 1.5.
    hb.schedule("a", due=0).run("a", 1.0, 6.0, process="worker-0")
    hb.fault("pause_worker", 5.0, 6.0, targets=["worker-0"], began_at=1.5)
    hb.run("a", 3.6, 3.8, process="worker-1")
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
    # Two runs at once with no fault to take a lease over: the lease did not work.
    assert (result.verdict, result.details["unexplained"]) == ("invalid", 2)


def test_one_claim_run_twice_fails(hb: HistoryBuilder) -> None:
    # Same fencing token, two runs: a worker ran one claim twice.
    hb.schedule("a", due=0).run("a", 1.0, 1.1, token=7).run("a", 2.0, 2.1, token=7)
    hb.fault("kill_worker", 1.5, 1.6, targets=["worker-0"])
    result = duplicated.check(hb.build())
    assert (result.verdict, result.details["same_token_list"]) == ("invalid", ["a token 7"])


def test_runs_under_different_tokens_are_separate_claims(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=0).run("a", 1.0, None, token=7)
    hb.fault("kill_worker", 1.5, 1.6, targets=["worker-0"])
    hb.run("a", 2.0, 2.1, token=8, process="worker-1")
    assert duplicated.check(hb.build()).verdict == "valid"


def test_a_token_handed_out_again_after_a_documented_strike_is_excused(
    hb: HistoryBuilder,
) -> None:
    # everysec power loss: the counter's last increments may be gone with the task's ack.
    hb.redis_config("everysec").schedule("a", due=0)
    hb.run("a", 1.0, 1.2, token=7).fault("power_loss", 2.0, 2.5, struck_at=2.2)
    hb.run("a", 4.0, 4.1, token=7, process="worker-1")
    assert duplicated.check(hb.build()).details["same_token_runs"] == 0


def test_a_token_handed_out_again_after_a_worker_fault_is_not(hb: HistoryBuilder) -> None:
    hb.redis_config("everysec").schedule("a", due=0)
    hb.run("a", 1.0, 1.2, token=7).fault("kill_worker", 1.1, 1.5, targets=["worker-0"])
    hb.run("a", 4.0, 4.1, token=7, process="worker-1")
    assert duplicated.check(hb.build()).verdict == "invalid"
