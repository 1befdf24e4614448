"""Cron slots across daylight-saving changes: each wall-clock slot once, in order.

The oracle here does not use croniter nor duetime.slots' search: it enumerates the
matched wall times by hand and maps each to its instant by trying every UTC offset
the zone has nearby (a repeated wall time: its first instant; a wall time in a gap:
the instant the clock jumps over it).
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from duetime.slots import latest_slot, next_slot

UTC = dt.timezone.utc
HOUR = 3600
DAY = 24 * HOUR
QUARTER = dt.timedelta(minutes=15)

# expression -> whether it matches a wall time (all fall on quarter hours)
EXPRESSIONS: dict[str, Callable[[dt.datetime], bool]] = {
    "30 1 * * *": lambda w: (w.hour, w.minute) == (1, 30),
    "30 2 * * *": lambda w: (w.hour, w.minute) == (2, 30),
    "0 2 * * *": lambda w: (w.hour, w.minute) == (2, 0),
    "0 * * * *": lambda w: w.minute == 0,
    "*/15 * * * *": lambda w: True,
}
DAILY = {"30 1 * * *", "30 2 * * *", "0 2 * * *"}
# DST in both hemispheres, 30-minute (Lord Howe) and 2-hour (Troll) shifts, changes at
# midnight (Havana, Santiago), a negative DST (Casablanca, during Ramadan), Chatham's +12:45.
SAMPLE_ZONES = (
    "America/New_York",
    "Europe/Madrid",
    "Europe/London",
    "Australia/Lord_Howe",
    "Antarctica/Troll",
    "America/Havana",
    "America/Santiago",
    "Africa/Casablanca",
    "Pacific/Chatham",
    "Asia/Gaza",
)
YEARS = range(2020, 2036)


def wall(tz: ZoneInfo, t: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(t, tz).replace(tzinfo=None)


def naive_epoch(w: dt.datetime) -> int:
    return int(w.replace(tzinfo=UTC).timestamp())


def expected_instant(tz: ZoneInfo, w: dt.datetime) -> int:
    base = naive_epoch(w)
    offsets = {dt.datetime.fromtimestamp(base + k * HOUR, tz).utcoffset() for k in range(-26, 27)}
    exact = [
        base - int(o.total_seconds()) for o in offsets if o is not None
    ]  # every instant whose wall time could be w
    occurs = [t for t in exact if wall(tz, t) == w]
    if occurs:
        return min(occurs)
    lo, hi = min(exact), max(exact)  # a gap: wall(lo) < w < wall(hi), no fold in between
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if wall(tz, mid) < w else (lo, mid)
    assert wall(tz, hi - 1) < w < wall(tz, hi)
    return hi


def offset(tz: ZoneInfo, t: int) -> dt.timedelta | None:
    return dt.datetime.fromtimestamp(t, tz).utcoffset()


def transitions(tz: ZoneInfo, years: range) -> list[int]:
    """Every UTC offset change in ``years``, to the second (weekly samples, then bisection)."""
    start = int(dt.datetime(years.start, 1, 1, tzinfo=UTC).timestamp())
    end = int(dt.datetime(years.stop, 1, 1, tzinfo=UTC).timestamp())
    found = []
    for t in range(start, end, 7 * DAY):
        lo, hi = t, min(t + 7 * DAY, end)
        before = offset(tz, lo)
        if before == offset(tz, hi):
            continue
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if offset(tz, mid) == before else (lo, mid)
        found.append(hi)
    return found


@functools.cache
def zone_transitions(zone: str, first_year: int, last_year: int) -> tuple[int, ...]:
    return tuple(transitions(ZoneInfo(zone), range(first_year, last_year + 1)))


def check_window(expr: str, zone: str, a: int, b: int) -> None:
    """Between instants ``a`` and ``b``: the fired slots are exactly the expected ones."""
    tz = ZoneInfo(zone)
    matches = EXPRESSIONS[expr]
    fired = []
    ms = a * 1000
    while (ms := next_slot(expr, zone, ms)) <= b * 1000:
        fired.append(ms // 1000)
    w = wall(tz, a).replace(minute=0, second=0) - dt.timedelta(hours=4)
    expected = set()
    while w <= wall(tz, b) + dt.timedelta(hours=4):
        if matches(w) and a < (t := expected_instant(tz, w)) <= b:
            expected.add(t)
        w += QUARTER
    where = f"{expr!r} in {zone} from {wall(tz, a)}"
    assert fired == sorted(expected), where  # each once, in order, none missing or extra
    for prev, slot in zip([None, *fired], fired, strict=False):
        assert latest_slot(expr, zone, slot * 1000) == slot * 1000, where
        if prev is not None:
            assert latest_slot(expr, zone, slot * 1000 - 1) == prev * 1000, where


def check_transition(zone: str, change: int, expressions: tuple[str, ...]) -> None:
    for expr in expressions:
        span = DAY + 2 * HOUR if expr in DAILY else 3 * HOUR
        check_window(expr, zone, change - span, change + span)


@functools.cache
def dst_zones() -> tuple[str, ...]:
    return tuple(
        sorted(
            z
            for z in zoneinfo.available_timezones()
            if zone_transitions(z, YEARS.start, YEARS.stop - 1)
        )
    )


def local(zone: str, text: str) -> int:
    """Epoch ms of a local time written ``YYYY-MM-DD HH:MM[+fold]``."""
    fold = int(text.endswith("+fold"))
    w = dt.datetime.fromisoformat(text.removesuffix("+fold"))
    return int(w.replace(tzinfo=ZoneInfo(zone), fold=fold).timestamp() * 1000)


def shown(zone: str, ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, ZoneInfo(zone)).strftime("%m-%d %H:%M%z")


@pytest.mark.parametrize(
    ("expr", "zone", "start", "expected"),
    [
        # fall-back: the repeated 01:30 fires once, at its first occurrence
        ("30 1 * * *", "America/New_York", "2024-11-02 12:00",
         ["11-03 01:30-0400", "11-04 01:30-0500"]),
        ("0 2 * * *", "Europe/Madrid", "2024-10-26 12:00",
         ["10-27 02:00+0200", "10-28 02:00+0100"]),
        # started inside the second pass of the repeated hour: 01:30 is already past
        ("30 1 * * *", "America/New_York", "2024-11-03 01:10+fold",
         ["11-04 01:30-0500"]),
        # spring-forward: 02:30 does not exist; it fires once when the clock jumps
        ("30 2 * * *", "America/New_York", "2024-03-09 12:00",
         ["03-10 03:00-0400", "03-11 02:30-0400"]),
        ("0 2 * * *", "Europe/Madrid", "2024-03-30 12:00",
         ["03-31 03:00+0200", "04-01 02:00+0200"]),
        # sub-hourly: each wall-clock quarter once; the gap's quarters and 03:00 fire once
        ("*/15 * * * *", "America/New_York", "2024-11-03 01:20",
         ["11-03 01:30-0400", "11-03 01:45-0400", "11-03 02:00-0500", "11-03 02:15-0500"]),
        ("*/15 * * * *", "America/New_York", "2024-03-10 01:20",
         ["03-10 01:30-0500", "03-10 01:45-0500", "03-10 03:00-0400", "03-10 03:15-0400"]),
        ("0 * * * *", "America/New_York", "2024-11-03 00:30",
         ["11-03 01:00-0400", "11-03 02:00-0500", "11-03 03:00-0500"]),
        # Lord Howe moves by 30 minutes: hourly 02:00 is in the gap and fires at 02:30
        ("0 * * * *", "Australia/Lord_Howe", "2024-10-06 00:30",
         ["10-06 01:00+1030", "10-06 02:30+1100", "10-06 03:00+1100"]),
    ],
)  # fmt: skip
def test_slots_across_daylight_saving_changes(
    expr: str, zone: str, start: str, expected: list[str]
) -> None:
    ms = local(zone, start)
    got = []
    for _ in expected:
        ms = next_slot(expr, zone, ms)
        got.append(shown(zone, ms))
    assert got == expected


@pytest.mark.parametrize("zone", SAMPLE_ZONES)
def test_each_wall_clock_slot_fires_once_around_dst_in_sample_zones(zone: str) -> None:
    changes = zone_transitions(zone, 2024, 2025)
    assert changes, f"{zone} has no offset change in 2024-2025"
    for change in changes:
        check_transition(zone, change, tuple(EXPRESSIONS))


@settings(max_examples=40, deadline=None)
@given(
    zone=st.sampled_from(SAMPLE_ZONES),
    year=st.sampled_from(YEARS),
    expr=st.sampled_from(tuple(EXPRESSIONS)),
    which=st.integers(0, 7),
)
def test_each_wall_clock_slot_fires_once_around_dst_any_year(
    zone: str, year: int, expr: str, which: int
) -> None:
    changes = zone_transitions(zone, year, year)
    if changes:
        check_transition(zone, changes[which % len(changes)], (expr,))


AREAS = ("America", "Europe")


@pytest.mark.slow
@pytest.mark.parametrize("area", [*AREAS, "elsewhere"])  # three parts, each well within a timeout
def test_each_wall_clock_slot_fires_once_around_every_dst_change_2020_2035(area: str) -> None:
    zones = [
        z
        for z in dst_zones()
        if z.split("/")[0] == area or (area == "elsewhere" and z.split("/")[0] not in AREAS)
    ]
    assert len(zones) > 40
    for zone in zones:
        for change in zone_transitions(zone, YEARS.start, YEARS.stop - 1):
            check_transition(zone, change, tuple(EXPRESSIONS))
