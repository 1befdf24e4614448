from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
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


def test_a_ticker_up_by_the_wall_clock_must_fire_the_slots_it_covered(hb: HistoryBuilder) -> None:
    # The host's wall clock ran 2 s ahead of the testbed's: the ticker, up from 1000.3 to
    # 1018.3 by the testbed clock, covered slots 1004..1018 by the slots' clock, not 1002..1016.
    hb.host_clock(0.0, 2.0).cron_schedule("c", EVERY_2S).cron_up(1, 1000.3, 1018.3)
    fire_every_2s(hb, 1004, 1016)
    result = check(hb.build())
    assert result.verdict == "invalid"
    assert result.details["missed_slots"] == ["c@1018.0"]
    assert result.details["slots_expected"] == 8


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


def test_a_slot_that_fires_once_per_ticker_is_invalid(hb: HistoryBuilder) -> None:
    hb.cron_schedule("every1s", "* * * * * *").cron_up(1, ready=0.5).cron_up(2, ready=0.5)
    for slot in range(1, 6):
        hb.cron_fire("every1s", slot).cron_fire("every1s", slot, start=slot + 0.02)
    result = check(hb.build())
    assert result.verdict == "invalid"
    assert result.details["fired_more_than_once"] == 5


def test_a_slot_fired_twice_is_invalid(hb: HistoryBuilder) -> None:
    hb.cron_schedule("c", EVERY_2S).cron_up(1, 1000.3, 1020.3)
    fire_every_2s(hb, 1002, 1020)
    hb.cron_fire("c", 1010.0, start=1010.5)
    result = check(hb.build())
    assert result.verdict == "invalid"
    assert result.details["repeated_slots"] == ["c@1010.0"]
    assert "fired once each" not in result.summary


def test_a_slot_redelivered_after_its_first_run_died_is_one_firing(hb: HistoryBuilder) -> None:
    hb.cron_schedule("c", EVERY_2S).cron_up(1, 1000.3, 1020.3)
    fire_every_2s(hb, 1002, 1020, skip=(1010,))
    hb.run("cron:c:1010000", 1010.01, None, due=1010.0)  # the worker died mid-run
    hb.run("cron:c:1010000", 1013.0, 1013.05, due=1010.0, attempt=2)
    assert check(hb.build()).verdict == "valid"


def local(zone: str, text: str) -> float:
    """Epoch seconds of ``YYYY-MM-DD HH:MM``, ``+fold`` for the second of a repeated time."""
    w = dt.datetime.fromisoformat(text.removesuffix("+fold"))
    return w.replace(tzinfo=ZoneInfo(zone), fold=int(text.endswith("+fold"))).timestamp()


NY_FALL_BACK = ["01:00", "01:15", "01:30", "01:45", "02:00", "02:15"]  # 2024-11-03


@pytest.mark.parametrize(
    ("zone", "day", "up", "fired", "verdict"),
    [
        # each wall-clock quarter once across the fall-back: valid
        ("America/New_York", "2024-11-03", ("00:50", "02:20"), NY_FALL_BACK, "valid"),
        # croniter's way: the repeated hour's quarters fire again, in EST
        ("America/New_York", "2024-11-03", ("00:50", "02:20"),
         [*NY_FALL_BACK, "01:00+fold", "01:15+fold", "01:30+fold", "01:45+fold"], "invalid"),
        # the repeated hour's second pass fired instead of its first: invalid (missed and extra)
        ("America/New_York", "2024-11-03", ("00:50", "02:20"),
         ["01:00+fold", "01:15+fold", "01:30+fold", "01:45+fold", "02:00", "02:15"], "invalid"),
        # spring-forward: the gap's quarters and 03:00 fire once, at 03:00
        ("Europe/Madrid", "2024-03-31", ("01:20", "03:20"), ["01:30", "01:45", "03:00", "03:15"],
         "valid"),
        # the gap's slots dropped (nothing at 03:00): invalid
        ("Europe/Madrid", "2024-03-31", ("01:20", "03:20"), ["01:30", "01:45", "03:15"],
         "invalid"),
    ],
)  # fmt: skip
def test_slots_across_daylight_saving_are_judged_in_the_schedules_zone(
    hb: HistoryBuilder,
    zone: str,
    day: str,
    up: tuple[str, str],
    fired: list[str],
    verdict: str,
) -> None:
    hb.cron_schedule("q", "*/15 * * * *", timezone=zone)
    hb.cron_up(1, local(zone, f"{day} {up[0]}"), local(zone, f"{day} {up[1]}"))
    for i, at in enumerate(fired):
        slot = local(zone, f"{day} {at}")
        hb.cron_fire("q", slot, start=slot + 0.01 + i * 1e-4)
    result = check(hb.build())
    assert result.verdict == verdict, result.details
