"""The history: every operation the testbed saw, recorded outside Redis.

One frozen :class:`Op` per line of JSONL. ``type`` follows Jepsen: ``invoke`` when
an operation starts, then ``ok`` (it happened), ``fail`` (it certainly did not
happen) or ``info`` (unknown: it may have happened). Operations that are events
rather than calls (a fault starting, a process exiting) are a lone ``info``.
``time`` is epoch seconds on the testbed clock (see :mod:`duetime.chaos.history.clock`), which
the clock-skew nemesis does not touch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

OpType = Literal["invoke", "ok", "fail", "info"]
OP_TYPES: tuple[OpType, ...] = ("invoke", "ok", "fail", "info")

# Names of the ``f`` field the testbed writes; checkers match on them.
SCHEDULE = "schedule"
EXECUTE = "execute"
FAULT_START = "fault-start"
FAULT_END = "fault-end"
PROCESS_START = "process-start"
PROCESS_END = "process-end"
CRON_READY = "cron-ready"
# A dispatcher process moved due tasks, with its wall clock's skew (it decides due times).
DISPATCH = "dispatch"
CRON_SCHEDULE = "cron-schedule"
PHASE = "phase"
# A worker's lease state change (claim, renew, ack, fail, release): ok if Redis accepted it.
LEASE = "lease"
# The settings read back from Redis after each start (what the run really tested).
REDIS_CONFIG = "redis-config"
# How far the host's wall clock was ahead of the testbed clock (it moved by a step or more).
HOST_CLOCK = "host-clock"


class HistoryError(ValueError):
    """A history line that is not a well-formed operation."""


@dataclass(frozen=True)
class Op:
    """One operation: who (``process``) did what (``f``, ``value``), when, and how it ended."""

    type: OpType
    process: str
    time: float
    f: str
    value: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in OP_TYPES:
            raise HistoryError(f"op type must be one of {OP_TYPES}, not {self.type!r}")

    def to_json(self) -> str:
        return json.dumps(
            {
                "type": self.type,
                "process": self.process,
                "time": self.time,
                "f": self.f,
                "value": self.value,
            },
            separators=(",", ":"),
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, line: str) -> Op:
        try:
            raw = json.loads(line)
            return cls(
                type=cast(OpType, raw["type"]),
                process=str(raw["process"]),
                time=float(raw["time"]),
                f=str(raw["f"]),
                value=dict(raw.get("value") or {}),
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise HistoryError(f"not an operation: {line[:200]!r}: {exc}") from exc


def write_history(path: Path, ops: Iterable[Op]) -> None:
    """Write ``ops`` to ``path`` as JSONL, one operation per line."""
    with path.open("w", encoding="utf-8") as out:
        for op in ops:
            out.write(op.to_json() + "\n")


def parse_lines(lines: Iterable[str], *, tolerate_torn_tail: bool = False) -> Iterator[Op]:
    """Parse JSONL lines. A torn last line (a writer killed mid-write) can be skipped."""
    pending: str | None = None
    for line in lines:
        if pending is not None:
            yield Op.from_json(pending)
        pending = line if line.strip() else None
    if pending is not None:
        try:
            yield Op.from_json(pending)
        except HistoryError:
            if not tolerate_torn_tail:
                raise


def read_history(path: Path) -> list[Op]:
    """Read a JSONL history written by :func:`write_history`, in file order."""
    with path.open(encoding="utf-8") as src:
        return list(parse_lines(src))


def sorted_by_time(ops: Iterable[Op]) -> list[Op]:
    """Merge operations from several writers into one history ordered by time (stable)."""
    return sorted(ops, key=lambda op: op.time)
