"""Read the sink directory of a run: all at once, or incrementally while it runs."""

from __future__ import annotations

from pathlib import Path

from .ops import HistoryError, Op, parse_lines, sorted_by_time


class SinkTail:
    """Returns the operations appended to a sink directory since the last call.

    Keeps a partial last line until its newline arrives, so a line being written
    is never parsed half-way.
    """

    def __init__(self, sink_dir: Path) -> None:
        self.sink_dir = sink_dir
        self._offsets: dict[Path, int] = {}
        self._partial: dict[Path, bytes] = {}

    def poll(self) -> list[Op]:
        new: list[Op] = []
        if not self.sink_dir.is_dir():
            return new
        for path in sorted(self.sink_dir.glob("*.jsonl")):
            offset = self._offsets.get(path, 0)
            with path.open("rb") as src:
                src.seek(offset)
                chunk = src.read()
            if not chunk:
                continue
            self._offsets[path] = offset + len(chunk)
            data = self._partial.pop(path, b"") + chunk
            complete, _, rest = data.rpartition(b"\n")
            if rest:
                self._partial[path] = rest
            if complete:
                new.extend(parse_lines(complete.decode().splitlines()))
        return sorted_by_time(new)


def read_sink(sink_dir: Path) -> list[Op]:
    """Every operation in a sink directory, merged by time.

    A torn last line (its writer was SIGKILLed mid-write) is skipped; anything
    else malformed raises :class:`~duetime.chaos.history.ops.HistoryError`.
    """
    ops: list[Op] = []
    for path in sorted(sink_dir.glob("*.jsonl")):
        with path.open(encoding="utf-8") as src:
            try:
                ops.extend(parse_lines(src, tolerate_torn_tail=True))
            except HistoryError as exc:
                raise HistoryError(f"{path}: {exc}") from exc
    return sorted_by_time(ops)
