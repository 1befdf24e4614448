"""The matrix's overall progress: runs done of the total, elapsed, and an ETA."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


def clock_text(seconds: float) -> str:
    """``1:05:09``, ``4:07``: hours only when there are."""
    s = max(0, round(seconds))
    hours, rest = divmod(s, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass
class MatrixProgress:
    """Counts finished runs; the ETA is the mean run time so far times the runs left."""

    total: int
    now: Callable[[], float] = time.monotonic
    started: float = field(init=False)
    done: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.started = self.now()

    def run_finished(self) -> None:
        self.done += 1

    def eta_s(self) -> float | None:
        """Seconds left, from the mean run time so far; None before the first run ends."""
        if not self.done:
            return None
        mean = (self.now() - self.started) / self.done
        return mean * (self.total - self.done)

    def line(self) -> str:
        """``matrix 3/8 runs done · elapsed 1:12 · ETA 2:00``."""
        eta = self.eta_s()
        eta_text = "after the first run" if eta is None else clock_text(eta)
        return (
            f"matrix {self.done}/{self.total} runs done · "
            f"elapsed {clock_text(self.now() - self.started)} · ETA {eta_text}"
        )
