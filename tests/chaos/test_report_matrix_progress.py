"""The matrix's progress line: runs done of the total, elapsed, and an ETA from the mean
run time so far."""

from __future__ import annotations

from duetime.chaos.report.matrix_progress import MatrixProgress, clock_text


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_the_eta_is_the_mean_run_time_so_far_times_the_runs_left() -> None:
    clock = Clock()
    progress = MatrixProgress(5, now=clock)
    assert progress.line() == "matrix 0/5 runs done · elapsed 0:00 · ETA after the first run"
    clock.t += 30
    progress.run_finished()
    clock.t += 50
    progress.run_finished()
    # 80 s for 2 runs: 40 s each, 3 left.
    assert progress.eta_s() == 120.0
    assert progress.line() == "matrix 2/5 runs done · elapsed 1:20 · ETA 2:00"


def test_clock_text_shows_hours_only_when_there_are() -> None:
    assert clock_text(59.6) == "1:00"
    assert clock_text(3 * 3600 + 62) == "3:01:02"
