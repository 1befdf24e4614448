"""Reading the handlers' records and summing them up."""

from __future__ import annotations

import math
from pathlib import Path

from benchmarks.runs import Run, RunLog, lateness, percentile, steady_rate


def test_runlog_reads_appended_lines_including_a_split_one(tmp_path: Path) -> None:
    f = tmp_path / "runs.123"
    f.write_text("0 0 100.0\n1 0 100.5\n2 0 10")
    log = RunLog(tmp_path)
    assert log.poll() == 2
    with open(f, "a") as out:
        out.write("1.25\n")
    (tmp_path / "ready.123").touch()
    assert log.poll() == 3
    assert log.runs[2] == Run(2, 0.0, 101.25)
    assert log.ready() == 1


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert math.isnan(percentile([], 0.5))


def test_steady_rate_leaves_out_the_first_and_last_tenth() -> None:
    starts = [0.0] * 10 + [1.0 + k / 1000 for k in range(80)] + [100.0] * 10
    assert abs(steady_rate(starts) - 1000.0) < 20


def test_lateness_counts_early_missing_and_duplicates() -> None:
    runs = [Run(0, 10.0, 10.002), Run(1, 11.0, 10.999), Run(1, 11.0, 11.5)]
    out = lateness(runs, expected=3)
    assert out["ran"] == 2 and out["missing"] == 1 and out["duplicates"] == 1
    assert out["early"] == 1
    assert abs(out["most_early_ms"] - 1.0) < 1e-6
    assert abs(out["max_ms"] - 2.0) < 1e-6


def test_lateness_ignores_runs_of_tasks_due_now() -> None:
    runs = [Run(0, 0.0, 50.0), Run(0, 10.0, 10.001)]
    out = lateness(runs, expected=1)
    assert out["ran"] == 1 and out["duplicates"] == 0
    assert abs(out["max_ms"] - 1.0) < 1e-6
