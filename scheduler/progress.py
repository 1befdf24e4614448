"""A running count on stderr for a command that takes a while (``dead purge``).

Nothing is shown for the first ``after_s`` seconds, so quick commands print exactly
what they always did. Then, on a terminal, one line rewritten in place; in a pipe or a
log, a plain line at most every ``every_s`` seconds. The library does not depend on
rich, so the terminal line is drawn here with a carriage return.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

SHOW_AFTER_S = 2.0
PIPE_EVERY_S = 5.0


class ProgressLine:
    """Shows ``<what>: <count> <unit>`` once an operation has run longer than ``after_s``."""

    def __init__(
        self,
        what: str,
        unit: str,
        stream: TextIO,
        *,
        after_s: float = SHOW_AFTER_S,
        every_s: float = PIPE_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._what = what
        self._unit = unit
        self._stream = stream
        self._after_s = after_s
        self._every_s = every_s
        self._clock = clock
        self._started = clock()
        self._shown_at: float | None = None
        self._terminal = stream.isatty()

    def update(self, count: int) -> None:
        """The count so far; shown only when it is time to."""
        now = self._clock()
        elapsed = now - self._started
        if elapsed < self._after_s:
            return
        pipe_too_soon = self._shown_at is not None and now - self._shown_at < self._every_s
        if not self._terminal and pipe_too_soon:
            return
        text = f"{self._what}: {count:,} {self._unit} ({elapsed:.0f} s)"
        if self._terminal:
            self._stream.write(f"\r\x1b[2K{text}")
        else:
            self._stream.write(f"{text}\n")
        self._stream.flush()
        self._shown_at = now

    def close(self) -> None:
        """End the terminal's rewritten line, if one was drawn."""
        if self._terminal and self._shown_at is not None:
            self._stream.write("\n")
            self._stream.flush()
