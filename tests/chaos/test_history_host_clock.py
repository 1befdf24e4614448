from __future__ import annotations

import time
from pathlib import Path

import pytest

from duetime.chaos.checker.wall_clock import WallClock
from duetime.chaos.history.clock import TestbedClock
from duetime.chaos.history.host_clock import HostClockWatch
from duetime.chaos.history.ops import HOST_CLOCK, read_history
from duetime.chaos.history.sink import EventSink


class SteppedWall:
    """A wall clock that reads the testbed clock plus a lead the test sets."""

    def __init__(self, clock: TestbedClock) -> None:
        self.clock = clock
        self.lead = 0.0

    def __call__(self) -> float:
        return self.clock.now() + self.lead


def test_a_watch_records_each_move_of_a_millisecond_and_its_ends(tmp_path: Path) -> None:
    clock = TestbedClock.anchored_now()
    sink = EventSink(tmp_path / "runner.jsonl", "runner", clock)
    wall = SteppedWall(clock)
    watch = HostClockWatch(sink, wall=wall, every_s=3600)
    watch.sample(force=True)
    for lead in (0.0004, 0.0008, 0.0012, 0.0015, 0.030):
        wall.lead = lead
        watch.sample()
    watch.stop()
    sink.close()
    leads = [op.value["wall_lead_s"] for op in read_history(sink.path) if op.f == HOST_CLOCK]
    assert leads == pytest.approx([0.0, 0.0012, 0.030, 0.030], abs=1e-5)


def test_a_running_watch_sees_a_step_of_the_wall_clock(tmp_path: Path) -> None:
    clock = TestbedClock.anchored_now()
    sink = EventSink(tmp_path / "runner.jsonl", "runner", clock)
    wall = SteppedWall(clock)
    watch = HostClockWatch(sink, wall=wall, every_s=0.005)
    watch.start()
    try:
        wall.lead = 0.25
        deadline = clock.now() + 5
        # Polled with sleeps: a loop spinning on the GIL delays the watch's thread.
        while clock.now() < deadline and abs((watch.recorded or 0.0) - 0.25) > 1e-5:
            time.sleep(0.001)
    finally:
        watch.stop()
        sink.close()
    wall_clock = WallClock.of(read_history(sink.path))
    assert wall_clock.moved_s == pytest.approx(0.25, abs=1e-5)


class InterruptedOnce(SteppedWall):
    """Its first reading comes 5 ms late, as after a thread switch."""

    def __init__(self, clock: TestbedClock) -> None:
        super().__init__(clock)
        self.interrupted = False

    def __call__(self) -> float:
        if not self.interrupted:
            self.interrupted = True
            time.sleep(0.005)
        return super().__call__()


def test_a_reading_interrupted_by_a_thread_switch_is_not_taken_for_lead(tmp_path: Path) -> None:
    clock = TestbedClock.anchored_now()
    sink = EventSink(tmp_path / "runner.jsonl", "runner", clock)
    wall = InterruptedOnce(clock)
    wall.lead = 0.1
    watch = HostClockWatch(sink, wall=wall, every_s=3600)
    watch.sample(force=True)
    sink.close()
    assert wall.interrupted
    assert watch.recorded == pytest.approx(0.1, abs=1e-4)


def test_wall_time_is_interpolated_between_readings_and_held_outside() -> None:
    wall = WallClock(times=(10.0, 20.0), leads=(0.0, 0.1))
    assert wall.at(5.0) == 5.0
    assert wall.at(15.0) == pytest.approx(15.05)
    assert wall.at(25.0) == pytest.approx(25.1)
    assert wall.latest(15.0) == pytest.approx(15.1)
    assert WallClock().at(7.0) == 7.0
