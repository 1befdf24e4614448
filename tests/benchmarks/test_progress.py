"""Where a benchmark run is: plain lines in a pipe, a rich bar on a terminal."""

from __future__ import annotations

import io

from benchmarks.progress import BenchProgress


class Clock:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


def test_a_pipe_gets_each_step_and_a_load_count_every_few_seconds() -> None:
    out, clock = io.StringIO(), Clock()
    with BenchProgress(3, out, clock=clock, every_s=5.0) as progress:
        progress.step("Redis alone")
        clock.now += 2
        progress.say("Redis alone: ping 90,000")
        progress.add_steps(1)
        progress.step("duetime: backlog of 1,000,000")
        for done in (500_000, 1_000_000):
            clock.now += 1
            progress.count("duetime: tasks loaded", done, 1_000_000)
        clock.now += 1
        progress.count("duetime: tasks loaded", 250_000, 2_000_000)  # within 5 s: not shown
    assert out.getvalue().splitlines() == [
        "[    0s] step 1/3: Redis alone",
        "[    2s] Redis alone: ping 90,000",
        "[    2s] step 2/4: duetime: backlog of 1,000,000",
        "[    3s] duetime: tasks loaded: 500,000 of 1,000,000",
        "[    4s] duetime: tasks loaded: 1,000,000 of 1,000,000",
    ]


def test_a_terminal_gets_a_bar_with_the_step_and_the_lines_above_it() -> None:
    out = io.StringIO()
    with BenchProgress(8, out, terminal=True) as progress:
        progress.step("duetime: drain, default, 1 process(es)")
        progress.say("duetime: enqueue one call per task 6,465/s")
        progress.count("duetime: tasks loaded", 500_000, 1_000_000)
    text = out.getvalue()
    assert "duetime: enqueue one call per task 6,465/s" in text
    assert "duetime: drain, default, 1 process(es)" in text
    assert "0/8" in text  # the step under way is not done yet
    assert "step 1/8" not in text  # the pipe's wording stays out of the bar
