"""Where a benchmark run is: which step of how many, and counts in the long loads.

On a terminal, a rich progress bar stays at the bottom (the step, its description, the
elapsed time; a second bar while a backlog loads) and the run's lines scroll above it.
In a pipe or a log, the same lines as always, each step announced as ``step 3/24``, and
a load's count at most every ``every_s`` seconds.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

PIPE_EVERY_S = 5.0


class BenchProgress:
    """Steps of a run and counts of long loads; ``say`` prints a line either way."""

    def __init__(
        self,
        total_steps: int,
        stream: TextIO | None = None,
        *,
        terminal: bool | None = None,
        every_s: float = PIPE_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream or sys.stdout
        self._terminal = self._stream.isatty() if terminal is None else terminal
        self._clock = clock
        self._started = clock()
        self._every_s = every_s
        self._done = 0
        self._total = total_steps
        self._count_shown = -float("inf")
        self._bar: Progress | None = None
        self._steps: TaskID | None = None
        self._load: TaskID | None = None
        if self._terminal:
            console = Console(file=self._stream, force_terminal=True)
            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self._steps = self._bar.add_task("starting", total=total_steps)

    def __enter__(self) -> BenchProgress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def say(self, message: str) -> None:
        """A line of the run's log, stamped with the seconds since it began."""
        line = f"[{self._clock() - self._started:5.0f}s] {message}"
        if self._bar is not None:
            self._bar.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=self._stream, flush=True)

    def add_steps(self, n: int) -> None:
        """Steps learnt of on the way (a peer's scale levels depend on its drain)."""
        self._total += n
        if self._bar is not None and self._steps is not None:
            self._bar.update(self._steps, total=self._total)

    def step(self, description: str) -> None:
        """The next step begins; the one before it is done."""
        self._done += 1
        self._done = min(self._done, self._total)
        if self._bar is not None and self._steps is not None:
            self._bar.update(self._steps, completed=self._done - 1, description=description)
        else:
            self.say(f"step {self._done}/{self._total}: {description}")

    def count(self, description: str, done: int, total: int) -> None:
        """How far a long load is (``done`` of ``total``); ends the load when they meet."""
        if self._bar is not None:
            if self._load is None:
                self._load = self._bar.add_task(description, total=total)
            self._bar.update(self._load, completed=done, total=total, description=description)
            if done >= total:
                self._bar.remove_task(self._load)
                self._load = None
            return
        now = self._clock()
        if done >= total or now - self._count_shown >= self._every_s:
            self._count_shown = now
            self.say(f"{description}: {done:,} of {total:,}")
