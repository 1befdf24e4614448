"""Counts by state over the last hour, sampled by the dashboard while it runs."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from ..task import Stats

STATES = ("due", "scheduled", "in_flight", "retrying", "dead")
WINDOW_S = 3600.0


class Trend:
    """Samples of one namespace's counts, the newest last, at most an hour old."""

    def __init__(self, window_s: float = WINDOW_S) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, Stats]] = deque()
        self._lock = threading.Lock()

    def add(self, stats: Stats, at: float | None = None) -> None:
        now = time.time() if at is None else at
        with self._lock:
            self._samples.append((now, stats))
            while self._samples and self._samples[0][0] < now - self.window_s:
                self._samples.popleft()

    def series(self, state: str) -> list[tuple[float, int]]:
        with self._lock:
            return [(t, int(getattr(s, state))) for t, s in self._samples]


def sparkline(points: list[tuple[float, int]], width: int = 160, height: int = 28) -> str:
    """An SVG polyline's ``points`` attribute for the series (empty if fewer than two)."""
    if len(points) < 2:
        return ""
    t0, t1 = points[0][0], points[-1][0]
    low, top = min(v for _, v in points), max(v for _, v in points)
    span = (t1 - t0) or 1.0

    def y(v: int) -> float:
        if top == low:
            return height / 2  # a count that did not move: a level line, mid-height
        return height - 2 - (v - low) / (top - low) * (height - 4)

    return " ".join(f"{(t - t0) / span * width:.1f},{y(v):.1f}" for t, v in points)


def sample_forever(
    read: Callable[[], dict[str, Stats]],
    trends: dict[str, Trend],
    stop: threading.Event,
    every_s: float,
) -> None:
    """Add a sample of every namespace each ``every_s`` seconds until ``stop``."""
    while not stop.is_set():
        try:
            for ns, stats in read().items():
                trends[ns].add(stats)
        except Exception:  # Redis away: a gap in the trend, the page says why
            pass
        stop.wait(every_s)
