from __future__ import annotations

from history_builder import HistoryBuilder

from duetime.chaos.checker.cron import CronChecker

EVERY_2S = "*/2 * * * * *"
check = CronChecker(edge_s=0.5, misfire_grace_s=5.0)


def fire_every_2s(hb: HistoryBuilder, first: int, last: int, skip: tuple[int, ...] = ()) -> None:
    for slot in range(first, last + 1, 2):
        if slot not in skip:
            hb.cron_fire("c", float(slot))


def test_every_slot_fired_while_a_ticker_was_up_is_valid(hb: HistoryBuilder) -> None:
    hb.cron_schedule("c", EVERY_2S).cron_up(1, 1000.3, 1020.3)
    fire_every_2s(hb, 1002, 1020)
    result = check(hb.build())
    assert result.verdict == "valid", result.details
    assert result.details["slots_expected"] == 9


def test_a_slot_missed_while_a_ticker_was_up_is_invalid(hb: HistoryBuilder) -> None:
    hb.cron_schedule("c", EVERY_2S).cron_up(1, 1000.3, 1020.3)
    fire_every_2s(hb, 1002, 1020, skip=(1010,))
    result = check(hb.build())
    assert result.verdict == "invalid"
    assert result.details["missed_slots"] == ["c@1010.0"]


def test_one_ticker_down_the_other_must_cover(hb: HistoryBuilder) -> None:
    hb.cron_schedule("c", EVERY_2S).cron_up(1, 1000.3, 1030.3)
    hb.cron_up(2, 1000.3, 1010.3).cron_up(3, 1013.0, 1030.3)
    fire_every_2s(hb, 1002, 1030, skip=(1012,))
    assert check(hb.build()).verdict == "invalid"


def long_outage(hb: HistoryBuilder, misfire: str = "run_once") -> None:
    """Every ticker down from 1006.3 to 1014.3: slots 1008..1014 missed, oldest 6.3 s late."""
    hb.cron_schedule("c", EVERY_2S, misfire).cron_up(1, 1000.3, 1006.3).cron_up(2, 1014.3, 1030.3)
    fire_every_2s(hb, 1002, 1006)
    fire_every_2s(hb, 1016, 1030)


def test_long_outage_collapses_into_one_late_firing(hb: HistoryBuilder) -> None:
    long_outage(hb)
    hb.cron_fire("c", 1014.0, start=1014.35)
    result = check(hb.build())
    assert result.verdict == "valid", result.details
    assert result.details["slots_in_outages"] == 4


def test_long_outage_fired_slot_by_slot_breaks_run_once(hb: HistoryBuilder) -> None:
    long_outage(hb)
    for slot in (1008, 1010, 1012, 1014):
        hb.cron_fire("c", float(slot), start=1014.35)
    result = check(hb.build())
    assert result.verdict == "invalid"
    assert result.details["policy_breaches"]


def test_long_outage_with_no_late_firing_breaks_run_once(hb: HistoryBuilder) -> None:
    long_outage(hb)
    assert check(hb.build()).verdict == "invalid"


def test_long_outage_with_no_late_firing_is_fine_under_skip(hb: HistoryBuilder) -> None:
    long_outage(hb, misfire="skip")
    assert check(hb.build()).verdict == "valid"


def test_short_outage_catches_up_every_missed_slot(hb: HistoryBuilder) -> None:
    hb.cron_schedule("c", EVERY_2S).cron_up(1, 1000.3, 1006.3).cron_up(2, 1009.3, 1020.3)
    fire_every_2s(hb, 1002, 1020)
    assert check(hb.build()).verdict == "valid"


def test_short_outage_that_drops_a_slot_is_invalid(hb: HistoryBuilder) -> None:
    hb.cron_schedule("c", EVERY_2S).cron_up(1, 1000.3, 1006.3).cron_up(2, 1009.3, 1020.3)
    fire_every_2s(hb, 1002, 1020, skip=(1008,))
    assert check(hb.build()).verdict == "invalid"


def test_a_firing_for_a_slot_that_does_not_exist_is_invalid(hb: HistoryBuilder) -> None:
    hb.cron_schedule("c", EVERY_2S).cron_up(1, 1000.3, 1020.3)
    fire_every_2s(hb, 1002, 1020)
    hb.cron_fire("c", 1003.0)
    result = check(hb.build())
    assert result.verdict == "invalid"
    assert result.details["unexpected_slots"] == ["c@1003.0"]


def test_a_firing_that_never_finished_is_invalid(hb: HistoryBuilder) -> None:
    hb.cron_schedule("c", EVERY_2S).cron_up(1, 1000.3, 1020.3)
    fire_every_2s(hb, 1002, 1020, skip=(1010,))
    hb.cron_fire("c", 1010.0, finished=False)
    assert check(hb.build()).verdict == "invalid"


def test_no_ticker_ever_ready_is_unknown(hb: HistoryBuilder) -> None:
    hb.cron_schedule("c", EVERY_2S)
    assert check(hb.build()).verdict == "unknown"


def test_no_schedules_is_trivially_valid(hb: HistoryBuilder) -> None:
    hb.schedule("a", due=1).run("a", 1, 1.1)
    assert check(hb.build()).verdict == "valid"


def test_a_slot_that_fires_once_per_ticker_is_counted_as_repeated(hb: HistoryBuilder) -> None:
    hb.cron_schedule("every1s", "* * * * * *").cron_up(1, ready=0.5).cron_up(2, ready=0.5)
    for slot in range(1, 6):
        hb.cron_fire("every1s", slot).cron_fire("every1s", slot, start=slot + 0.02)
    result = check(hb.build())
    assert result.details["fired_more_than_once"] == 5
