"""``ProgressLine``: silent while a command is quick, then a count on stderr."""

from __future__ import annotations

import io

from duetime.progress import ProgressLine


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_pipe_gets_nothing_at_first_then_a_plain_line_every_few_seconds() -> None:
    out, clock = io.StringIO(), Clock()
    line = ProgressLine("dead purge", "deleted", out, after_s=2.0, every_s=5.0, clock=clock)
    line.update(1000)
    clock.now += 1.9
    line.update(2000)
    assert out.getvalue() == ""
    clock.now += 0.2
    line.update(3000)
    clock.now += 4.0
    line.update(4000)  # within 5 s of the last line: not shown
    clock.now += 1.0
    line.update(5000)
    line.close()
    assert out.getvalue() == "dead purge: 3,000 deleted (2 s)\ndead purge: 5,000 deleted (7 s)\n"


def test_a_terminal_gets_one_line_rewritten_in_place() -> None:
    out, clock = Terminal(), Clock()
    line = ProgressLine("dead purge", "deleted", out, after_s=0.0, clock=clock)
    line.update(1000)
    clock.now += 0.5
    line.update(2000)
    line.close()
    assert out.getvalue() == (
        "\r\x1b[2Kdead purge: 1,000 deleted (0 s)\r\x1b[2Kdead purge: 2,000 deleted (0 s)\n"
    )


def test_nothing_shown_leaves_the_terminal_untouched() -> None:
    out = Terminal()
    line = ProgressLine("dead purge", "deleted", out, after_s=2.0, clock=Clock())
    line.update(10)
    line.close()
    assert out.getvalue() == ""
