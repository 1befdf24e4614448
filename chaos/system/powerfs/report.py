"""What the filesystem tells about itself: a drop report and a stats snapshot.

Both cross the control socket as JSON, so each has ``to_json`` and ``from_json``.
Paths are relative to the backing directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FileDrop:
    """One file that lost un-fsynced changes: ``pending_bytes`` written, cut or added
    since its last fsync, and its size before and after the drop."""

    path: str
    pending_bytes: int
    size_before: int
    size_after: int

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "pending_bytes": self.pending_bytes,
            "size_before": self.size_before,
            "size_after": self.size_after,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileDrop:
        return cls(
            path=str(data["path"]),
            pending_bytes=int(data["pending_bytes"]),
            size_before=int(data["size_before"]),
            size_after=int(data["size_after"]),
        )


@dataclass(frozen=True)
class DropReport:
    """What a simulated power loss threw away, one entry per file still linked."""

    files: tuple[FileDrop, ...] = ()

    @property
    def pending_bytes(self) -> int:
        return sum(f.pending_bytes for f in self.files)

    @property
    def bytes_lost(self) -> int:
        """How much shorter the files got (overwritten bytes restored are not counted)."""
        return sum(max(0, f.size_before - f.size_after) for f in self.files)

    def file(self, path: str) -> FileDrop | None:
        return next((f for f in self.files if f.path == path), None)

    def to_json(self) -> dict[str, Any]:
        return {"files": [f.to_json() for f in self.files]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DropReport:
        return cls(files=tuple(FileDrop.from_json(f) for f in data["files"]))


@dataclass(frozen=True)
class SyncInProgress:
    """An fsync that has started and not yet returned (it may be sleeping the delay)."""

    path: str
    age_s: float


@dataclass(frozen=True)
class Stats:
    """A snapshot: pending bytes per file, fsyncs under way, the delay and counters."""

    pending: dict[str, int]
    syncing: tuple[SyncInProgress, ...]
    fsync_delay: float
    writes: int
    fsyncs: int
    drops: int

    def to_json(self) -> dict[str, Any]:
        return {
            "pending": dict(self.pending),
            "syncing": [{"path": s.path, "age_s": s.age_s} for s in self.syncing],
            "fsync_delay": self.fsync_delay,
            "writes": self.writes,
            "fsyncs": self.fsyncs,
            "drops": self.drops,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Stats:
        return cls(
            pending={str(k): int(v) for k, v in data["pending"].items()},
            syncing=tuple(
                SyncInProgress(path=str(s["path"]), age_s=float(s["age_s"]))
                for s in data["syncing"]
            ),
            fsync_delay=float(data["fsync_delay"]),
            writes=int(data["writes"]),
            fsyncs=int(data["fsyncs"]),
            drops=int(data["drops"]),
        )
