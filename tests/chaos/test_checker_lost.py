from __future__ import annotations

import pytest
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


def test_every_lost_id_is_kept_not_only_the_first_fifty(hb: HistoryBuilder) -> None:
    for i in range(82):
        hb.schedule(f"t-{i:03d}", due=1)
    result = lost.check(hb.build())
    assert result.details["lost"] == 82
    assert result.details["lost_ids"] == [f"t-{i:03d}" for i in range(82)]


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


# -- unexplained_loss: every loss explained by a strike, within what Redis documents --------


def lone_loss(hb: HistoryBuilder, aof: str, fault: str, acked_at: float, **detail: object) -> str:
    """One strike at t=10 and one task acknowledged at ``acked_at`` that never ran."""
    hb.redis_config(aof).fault(fault, 10.0, 11.0, **detail)
    hb.schedule("gone", due=30, at=acked_at)
    return lost.check_unexplained(hb.build()).verdict


@pytest.mark.parametrize(
    ("aof", "fault"),
    [("off", "kill_redis"), ("no", "power_loss"), ("everysec", "power_loss")],
)
def test_a_task_acknowledged_after_the_only_strike_and_never_run_fails(
    hb: HistoryBuilder, aof: str, fault: str
) -> None:
    # The three configs where this history passed before: no strike can explain it.
    assert lone_loss(hb, aof, fault, acked_at=20.0) == "invalid"


@pytest.mark.parametrize(
    ("aof", "fault", "acked_at", "verdict"),
    [
        ("off", "kill_redis", 2.0, "valid"),  # a restart without persistence starts empty
        ("off", "power_loss", 2.0, "valid"),
        ("no", "power_loss", 2.0, "valid"),  # nothing was fsynced on our filesystem
        ("no", "kill_redis", 9.9, "invalid"),  # a kill keeps what reached write(2)
        ("everysec", "kill_redis", 9.9, "invalid"),
        ("everysec", "power_loss", 8.5, "valid"),  # within the documented 2 s
        ("everysec", "power_loss", 7.0, "invalid"),  # 3 s before: too old to blame on it
        ("always", "power_loss", 9.9, "invalid"),  # always fsyncs before it replies
        ("always", "kill_redis", 9.9, "invalid"),
        ("everysec", "slow_disk_kill", 8.5, "valid"),  # aof.c postpones writes up to 2 s
        ("everysec", "slow_disk_kill", 7.0, "invalid"),
        ("no", "slow_disk_kill", 9.9, "invalid"),  # no never postpones
    ],
)
def test_a_loss_is_excused_only_inside_the_documented_window(
    hb: HistoryBuilder, aof: str, fault: str, acked_at: float, verdict: str
) -> None:
    assert lone_loss(hb, aof, fault, acked_at) == verdict


def test_a_slow_disk_power_loss_is_allowed_two_fsync_durations(hb: HistoryBuilder) -> None:
    assert lone_loss(hb, "everysec", "slow_disk_power_loss", 5.0, fsync_delay_s=3.0) == "valid"
    other = HistoryBuilder()
    assert lone_loss(other, "everysec", "slow_disk_power_loss", 3.5, fsync_delay_s=3.0) == (
        "invalid"
    )


def test_a_strike_is_dated_by_when_it_struck_not_when_its_window_began(
    hb: HistoryBuilder,
) -> None:
    # The disk was slowed at 10, the power cut at 14: a task acked at 12.5 is 1.5 s old.
    hb.redis_config("everysec").fault("power_loss", 10.0, 15.0, struck_at=14.0)
    hb.schedule("gone", due=30, at=12.5)
    assert lost.check_unexplained(hb.build()).verdict == "valid"


def test_a_strike_that_found_nothing_at_risk_is_no_failure(hb: HistoryBuilder) -> None:
    hb.redis_config("off").fault("kill_redis", 10.0, 11.0)
    hb.schedule("t", due=1, at=0.0).run("t", start=1.0, end=1.2)
    result = lost.check_unexplained(hb.build())
    assert (result.verdict, result.details["lost"]) == ("valid", 0)


def test_losses_with_no_strike_fail_under_every_config(hb: HistoryBuilder) -> None:
    hb.redis_config("off").fault("kill_worker", 10.0, 11.0, targets=["worker-0"])
    hb.schedule("gone", due=12, at=9.0)
    result = lost.check_unexplained(hb.build())
    assert (result.verdict, result.details["unexplained_ids"]) == ("invalid", ["gone"])


def test_without_the_settings_read_back_no_loss_is_excused(hb: HistoryBuilder) -> None:
    hb.fault("kill_redis", 10.0, 11.0).schedule("gone", due=30, at=9.0)
    assert lost.check_unexplained(hb.build()).verdict == "invalid"


def test_each_excused_loss_names_its_strike(hb: HistoryBuilder) -> None:
    hb.redis_config("off").fault("kill_redis", 10.0, 11.0).fault("kill_redis", 20.0, 21.0)
    hb.schedule("a", due=30, at=9.0).schedule("b", due=30, at=19.0)
    details = lost.check_unexplained(hb.build()).details
    assert details["explained"] == 2
    assert sorted(details["explained_by_strike"].values()) == [1, 1]


def evicting_run(hb: HistoryBuilder, policy: str = "allkeys-lru") -> HistoryBuilder:
    """Two tasks acknowledged, one ran; no strike on Redis."""
    hb.redis_config("everysec", policy=policy)
    return hb.schedule("gone", due=1.0).schedule("ran", due=1.0).run("ran", 1.1, 1.2)


def test_an_eviction_loss_the_workers_detected_is_explained(hb: HistoryBuilder) -> None:
    result = lost.check_unexplained(evicting_run(hb).records_lost(1, at=1.5).build())
    assert (result.verdict, result.details["explained_by_detected_eviction"]) == ("valid", 1)


def test_an_eviction_loss_no_worker_detected_is_unexplained(hb: HistoryBuilder) -> None:
    result = lost.check_unexplained(evicting_run(hb).build())
    assert (result.verdict, result.details["unexplained_ids"]) == ("invalid", ["gone"])


def test_a_loss_after_keys_evicted_is_explained_however_many_tasks_went(
    hb: HistoryBuilder,
) -> None:
    # Redis counts keys, not tasks: one evicted hash can hold every record.
    hb = evicting_run(hb).schedule("gone-too", due=1.0).keys_evicted(1, at=1.5)
    result = lost.check_unexplained(hb.build())
    assert (result.verdict, result.details["explained_by_detected_eviction"]) == ("valid", 2)


def test_a_task_scheduled_after_the_last_eviction_report_is_unexplained(
    hb: HistoryBuilder,
) -> None:
    hb = evicting_run(hb).keys_evicted(3, at=1.5).schedule("later", due=3.0, at=2.0)
    result = lost.check_unexplained(hb.build())
    assert (result.verdict, result.details["unexplained_ids"]) == ("invalid", ["later"])


def test_a_detected_loss_excuses_nothing_without_an_evicting_policy(hb: HistoryBuilder) -> None:
    hb = evicting_run(hb, policy="noeviction").records_lost(1, at=1.5)
    assert lost.check_unexplained(hb.build()).verdict == "invalid"
