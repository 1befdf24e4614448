"""The testbed clock: one clock for every process of a run.

Times in the history are ``CLOCK_MONOTONIC + offset``. ``CLOCK_MONOTONIC`` is
system-wide on Linux, so every process reads the same clock, and the clock-skew
nemesis (which shifts only ``CLOCK_REALTIME``) cannot bend it. The runner fixes
``offset`` once (wall time minus monotonic time) and hands it to its children, so
history times read as epoch seconds comparable with due times.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

CLOCK_OFFSET_ENV = "CHAOS_CLOCK_OFFSET"


@dataclass(frozen=True)
class TestbedClock:
    """Epoch seconds derived from ``CLOCK_MONOTONIC`` with a fixed offset."""

    __test__ = False  # not a pytest test class despite its name
    offset: float

    @classmethod
    def anchored_now(cls) -> TestbedClock:
        """A clock anchored to the current wall time (the runner makes one per run)."""
        return cls(offset=time.time() - time.monotonic())

    @classmethod
    def from_env(cls) -> TestbedClock:
        raw = os.environ.get(CLOCK_OFFSET_ENV)
        if raw is None:
            raise RuntimeError(f"${CLOCK_OFFSET_ENV} is not set: run this under the chaos runner")
        return cls(offset=float(raw))

    def env(self) -> dict[str, str]:
        return {CLOCK_OFFSET_ENV: repr(self.offset)}

    def now(self) -> float:
        return time.monotonic() + self.offset
