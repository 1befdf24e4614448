"""Read what the drivers' handlers recorded, and sum it up.

Each handler appends ``"i due start\\n"`` to a ``runs.*`` file in the run folder (see
:mod:`benchmarks.peers.probe`); worker processes touch ``ready.<pid>`` when they are about
to take tasks. :class:`RunLog` tails those files while a measurement goes on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The drain rate is taken between these fractions of the runs, in start order: the start-up
# of the workers and the tail (a prefetched last few in one process) are left out.
STEADY_FROM = 0.1
STEADY_TO = 0.9


@dataclass(frozen=True)
class Run:
    i: int
    due: float
    start: float


class RunLog:
    """The runs recorded in one folder so far."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.runs: list[Run] = []
        self._offsets: dict[Path, int] = {}
        self._partial: dict[Path, bytes] = {}

    def ready(self) -> int:
        """How many processes said they are ready."""
        return sum(1 for _ in self.folder.glob("ready.*"))

    def poll(self) -> int:
        """Read what was appended since the last call; return the number of runs."""
        for path in sorted(self.folder.glob("runs.*")):
            offset = self._offsets.get(path, 0)
            with open(path, "rb") as f:
                f.seek(offset)
                data = f.read()
            if not data:
                continue
            self._offsets[path] = offset + len(data)
            data = self._partial.pop(path, b"") + data
            lines = data.split(b"\n")
            if lines[-1]:
                self._partial[path] = lines[-1]
            for line in lines[:-1]:
                if line:
                    self.runs.append(parse(line.decode()))
        return len(self.runs)


def parse(line: str) -> Run:
    """One record line, ``"i due start"``."""
    i, due, start = line.split()
    return Run(int(i), float(due), float(start))


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by the nearest-rank method; NaN for no values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def steady_rate(starts: Sequence[float]) -> float:
    """Runs per second between the 10th and the 90th percentile of start times."""
    ordered = sorted(starts)
    if len(ordered) < 10:
        return math.nan
    a = int(len(ordered) * STEADY_FROM)
    b = int(len(ordered) * STEADY_TO) - 1
    span = ordered[b] - ordered[a]
    return (b - a) / span if span > 0 else math.nan


def lateness(runs: Sequence[Run], expected: int) -> dict[str, Any]:
    """Lateness of each task's first run (start - due), in ms, with early/missing/duplicates.

    Only runs of delayed tasks (due > 0) count: a task due now is none of the timed ones.
    """
    first: dict[int, float] = {}
    timed = [r for r in runs if r.due > 0]
    for r in timed:
        late_ms = (r.start - r.due) * 1000
        if r.i not in first or late_ms < first[r.i]:
            first[r.i] = late_ms
    values = sorted(first.values())
    early = [v for v in values if v < 0]
    return {
        "tasks": expected,
        "ran": len(first),
        "missing": expected - len(first),
        "duplicates": len(timed) - len(first),
        "early": len(early),
        "most_early_ms": -early[0] if early else 0.0,
        "p50_ms": percentile(values, 0.50),
        "p99_ms": percentile(values, 0.99),
        "max_ms": values[-1] if values else math.nan,
    }
