"""The host's wall clock against the testbed clock, sampled while a run lasts.

Due times are wall-clock instants: Redis decides what is due by its ``TIME``, the
host's ``CLOCK_REALTIME``. History times are ``CLOCK_MONOTONIC`` plus an offset fixed
at the start, which a step of the wall clock does not move, nor a catch-up after a VM
resumes (this machine's wall clock was seen gaining 5 ms a second on the monotonic
one for minutes). The runner's process is never shifted by a nemesis, so it samples
``time.time() - clock.now()`` and records each change of a millisecond or more; the
checkers turn history times back into the wall time due times are judged by
(:mod:`duetime.chaos.checker.wall_clock`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .ops import HOST_CLOCK
from .sink import EventSink

SAMPLE_EVERY_S = 0.02
RECORD_STEP_S = 0.001
# A reading whose two testbed-clock reads lie further apart than this was interrupted (a
# thread switch: up to the GIL's 5 ms interval while the run's other threads are busy),
# and is tried again, keeping the tightest of READ_TRIES.
TIGHT_READ_S = 0.0002
READ_TRIES = 5


class HostClockWatch:
    """Records the wall clock's lead on the testbed clock, from start to stop."""

    def __init__(
        self,
        sink: EventSink,
        *,
        wall: Callable[[], float] = time.time,
        every_s: float = SAMPLE_EVERY_S,
        step_s: float = RECORD_STEP_S,
    ) -> None:
        self.sink = sink
        self.wall = wall
        self.every_s = every_s
        self.step_s = step_s
        self.recorded: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="host-clock", daemon=True)

    def start(self) -> None:
        self.sample(force=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling and record the last reading."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.sample(force=True)

    def sample(self, *, force: bool = False) -> None:
        """Read the lead once; record it when it moved by ``step_s`` (or ``force``)."""
        lead = self._read_lead()
        if force or self.recorded is None or abs(lead - self.recorded) >= self.step_s:
            self.recorded = lead
            self.sink.record("info", HOST_CLOCK, {"wall_lead_s": round(lead, 6)})

    def _read_lead(self) -> float:
        """The wall clock read between two testbed-clock reads, less their midpoint: off
        by at most half their gap, where one read after the other would count a thread
        switch between them as lead."""
        best_gap, best_lead = float("inf"), 0.0
        for _ in range(READ_TRIES):
            before = self.sink.clock.now()
            wall = self.wall()
            after = self.sink.clock.now()
            if after - before < best_gap:
                best_gap, best_lead = after - before, wall - (before + after) / 2
            if best_gap <= TIGHT_READ_S:
                break
        return best_lead

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            self.sample()
