"""When a cron expression's slots fall, in a time zone with daylight saving.

A cron expression matches wall-clock times; a slot is the instant a matched wall
time is fired at. Wall time and instants mostly map one to one, except:

- **Fall-back** (a repeated hour): a wall time that occurs twice is one slot, at
  its first occurrence. During the second pass of the repeated hour nothing
  fires for wall times the first pass already covered.
- **Spring-forward** (a gap): a wall time that never occurs fires at the first
  valid instant after the gap (the transition). Several wall times in one gap,
  and a slot at that instant itself, are one slot: they fire once, together.

So each distinct matched wall time is fired once, slots are strictly increasing
instants, and none is ever inside a gap. Sub-hourly expressions follow the same
rule slot by slot: ``*/15 * * * *`` across a fall-back fires 01:00, 01:15, 01:30,
01:45 in the first pass and then 02:00 after the second pass; across a
spring-forward at 02:00 it fires 01:45 and then once at 03:00 for 02:00..03:00.

Croniter is only asked about wall times (it iterates naive calendar arithmetic,
here as UTC), never about instants in the zone, where it repeats fall-back slots.
"""

from __future__ import annotations

import datetime as dt
import threading
from functools import lru_cache
from zoneinfo import ZoneInfo

from croniter import croniter

_UTC = dt.timezone.utc
_ONE_S = dt.timedelta(seconds=1)
# Wider than any UTC offset change (Antarctica/Troll's 2 h is the largest in use).
_MAX_SHIFT_S = 4 * 3600


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def wall(zone: ZoneInfo, t_s: int) -> dt.datetime:
    """The naive wall-clock time at epoch second ``t_s``."""
    return dt.datetime.fromtimestamp(t_s, zone).replace(tzinfo=None)


def _offset(zone: ZoneInfo, t_s: int) -> dt.timedelta | None:
    return dt.datetime.fromtimestamp(t_s, zone).utcoffset()


def _transition(zone: ZoneInfo, lo: int, hi: int) -> int:
    """The first second in ``(lo, hi]`` whose UTC offset is not ``lo``'s (one change between)."""
    before = _offset(zone, lo)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset(zone, mid) == before:
            lo = mid
        else:
            hi = mid
    return hi


def instant(zone: ZoneInfo, w: dt.datetime) -> int:
    """The epoch second a matched wall time ``w`` (naive, whole seconds) fires at.

    Its first occurrence if it occurs at all (twice in a repeated hour); if it falls
    in a gap, the transition: the first instant whose wall time is after ``w``.
    """
    a = int(w.replace(tzinfo=zone, fold=0).timestamp())
    b = int(w.replace(tzinfo=zone, fold=1).timestamp())
    first = min(a, b)
    if wall(zone, first) == w:
        return first
    if wall(zone, max(a, b)) == w:
        return max(a, b)
    return _transition(zone, first, max(a, b))


def _last_wall_at_or_before(zone: ZoneInfo, t_s: int) -> dt.datetime:
    """The latest wall time whose slot instant is at or before ``t_s``.

    That is the wall time at ``t_s``, except in the second pass of a repeated hour:
    then every wall time of the repeated hour already had its (first) instant.
    """
    w = wall(zone, t_s)
    first = instant(zone, w)
    if first == t_s:
        return w
    change = _transition(zone, first, t_s)
    return wall(zone, change - 1)


class _Iterators(threading.local):
    def __init__(self) -> None:
        self.by_expr: dict[str, croniter] = {}


# Parsing an expression is half the cost of a slot; an iterator is reset, not rebuilt.
# Per thread, as iterators are stateful; the number of distinct expressions is small.
_ITERATORS = _Iterators()


def _cron(expr: str, w: dt.datetime) -> croniter:
    start = w.replace(tzinfo=_UTC)
    cache = _ITERATORS.by_expr
    it = cache.get(expr)
    if it is None:
        if len(cache) >= 256:
            cache.clear()
        it = cache[expr] = croniter(expr, start, second_at_beginning=True)
    else:
        it.set_current(start, force=True)
    return it


def next_slot(expr: str, zone: str, after_ms: int) -> int:
    """The first slot of ``expr`` in ``zone`` strictly after ``after_ms`` (epoch ms).

    See the module docstring for what a slot is across daylight-saving changes.
    """
    tz = _zone(zone)
    after_s = after_ms // 1000  # slots are whole seconds: s * 1000 > after_ms
    it = _cron(expr, _last_wall_at_or_before(tz, after_s))
    while True:
        w = it.get_next(dt.datetime).replace(tzinfo=None)
        s = instant(tz, w)
        if s > after_s:  # always at the first try; a guard against zones tzdata surprises with
            return s * 1000


def latest_slot(expr: str, zone: str, at_ms: int) -> int:
    """The last slot of ``expr`` in ``zone`` at or before ``at_ms`` (epoch ms)."""
    tz = _zone(zone)
    w = _last_wall_at_or_before(tz, at_ms // 1000)
    prev = _cron(expr, w + _ONE_S).get_prev(dt.datetime).replace(tzinfo=None)
    return instant(tz, prev) * 1000
