"""History times back on the host's wall clock, where due times live.

The runner records how far the wall clock was ahead of the testbed clock each time
that lead moved by a millisecond (:mod:`duetime.chaos.history.host_clock`). Between
two readings the lead is interpolated; before the first and after the last it is
held. A history with no readings (written before they existed, or by hand) has a
wall clock that never left the testbed clock.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from duetime.chaos.history.ops import HOST_CLOCK, Op


@dataclass(frozen=True)
class WallClock:
    """The host's wall time at each testbed time of one run."""

    times: tuple[float, ...] = ()
    leads: tuple[float, ...] = ()

    @classmethod
    def of(cls, history: Sequence[Op]) -> WallClock:
        readings = sorted(
            (op.time, float(op.value["wall_lead_s"])) for op in history if op.f == HOST_CLOCK
        )
        return cls(tuple(t for t, _ in readings), tuple(lead for _, lead in readings))

    def _around(self, t: float) -> tuple[int, int]:
        i = bisect.bisect_right(self.times, t)
        return max(i - 1, 0), min(i, len(self.times) - 1)

    def lead(self, t: float) -> float:
        """The wall clock's lead at testbed time ``t``, interpolated between readings."""
        if not self.times:
            return 0.0
        lo, hi = self._around(t)
        t0, t1 = self.times[lo], self.times[hi]
        if hi == lo or t1 == t0:
            return self.leads[lo]
        share = min(max((t - t0) / (t1 - t0), 0.0), 1.0)
        return self.leads[lo] + share * (self.leads[hi] - self.leads[lo])

    def at(self, t: float) -> float:
        """The wall time at testbed time ``t``."""
        return t + self.lead(t)

    def latest(self, t: float) -> float:
        """The latest the wall time at ``t`` can have been: a step between two readings
        may have come just before ``t``."""
        if not self.times:
            return t
        lo, hi = self._around(t)
        return t + max(self.leads[lo], self.leads[hi])

    @property
    def moved_s(self) -> float:
        """How far the lead moved during the run, the largest change either way."""
        return max(self.leads) - min(self.leads) if self.leads else 0.0
