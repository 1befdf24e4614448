"""Which changes are durable: the undo logs of all files, fsync, drop.

The tracker performs every data change itself (under one lock, so the pre-image it
reads and the change it makes cannot interleave with another change) and keeps,
per file with un-fsynced changes, an undo log and a descriptor of its own. Files
are known by ``(st_dev, st_ino)`` and reached through that descriptor, so a rename
(Redis renames its temp manifest and rewritten AOF) changes nothing here, and an
unlinked file can be recognised by ``st_nlink == 0`` and forgotten.
"""

from __future__ import annotations

import errno
import itertools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .report import DropReport, FileDrop, Stats, SyncInProgress
from .undo import UndoLog, UndoRecord

FileKey = tuple[int, int]


@dataclass
class _Tracked:
    fd: int
    """Our own O_RDWR descriptor: reads pre-images and undoes, wherever the file went."""
    log: UndoLog = field(default_factory=UndoLog)


@dataclass(frozen=True)
class _Sync:
    key: FileKey
    fh: int
    started: float
    cycle: int
    """The drop count when it started: a drop since then means it never completed."""


@dataclass
class _Counters:
    writes: int = 0
    fsyncs: int = 0
    drops: int = 0


def _key(st: os.stat_result) -> FileKey:
    return (st.st_dev, st.st_ino)


class DurabilityTracker:
    """Data changes on the backing files, and what an fsync or a power loss does to them.

    ``root`` is the backing directory (for the paths in reports); ``fsync_delay``
    the seconds every fsync sleeps before it makes anything durable.
    """

    def __init__(self, root: str, fsync_delay: float = 0.0) -> None:
        self._root = os.path.realpath(root)
        self._lock = threading.Lock()
        self._files: dict[FileKey, _Tracked] = {}
        self._seq = itertools.count()
        self._syncing: dict[int, _Sync] = {}
        self._power_cycle = 0
        self._power_lost = threading.Condition(self._lock)
        self._counters = _Counters()
        self._fsync_delay = 0.0
        self.set_fsync_delay(fsync_delay)

    @property
    def fsync_delay(self) -> float:
        return self._fsync_delay

    def set_fsync_delay(self, seconds: float) -> None:
        if not seconds >= 0.0:
            raise ValueError(f"fsync delay must be >= 0 seconds, not {seconds!r}")
        self._fsync_delay = float(seconds)

    def write(self, fh: int, data: bytes, offset: int, *, append: bool = False) -> int:
        """Write ``data`` at ``offset`` (at the end when ``append``) through ``fh``."""
        with self._lock:
            st = os.fstat(fh)
            if append:
                offset = st.st_size
            tracked = self._track(st, lambda: os.open(f"/proc/self/fd/{fh}", os.O_RDWR))
            overlap = min(len(data), st.st_size - offset)
            before = os.pread(tracked.fd, overlap, offset) if overlap > 0 else b""
            try:
                written = os.pwrite(fh, data, offset)
            except OSError:
                self._untrack_if_clean(_key(st))
                raise
            tracked.log.add(UndoRecord(next(self._seq), offset, before, st.st_size, written))
            self._counters.writes += 1
            return written

    def truncate(self, length: int, *, fh: int | None = None, path: str | None = None) -> None:
        """Set the size of the file open as ``fh``, or else at backing ``path``."""
        if length < 0:
            raise OSError(errno.EINVAL, "negative length")
        with self._lock:
            if fh is not None:
                st = os.fstat(fh)
                tracked = self._track(st, lambda: os.open(f"/proc/self/fd/{fh}", os.O_RDWR))
            elif path is not None:
                st = os.stat(path)
                tracked = self._track(st, lambda: os.open(path, os.O_RDWR))
            else:
                raise OSError(errno.ENOENT, "no file to truncate")
            size = st.st_size
            before = os.pread(tracked.fd, size - length, length) if length < size else b""
            try:
                os.ftruncate(tracked.fd, length)
            except OSError:
                self._untrack_if_clean(_key(st))
                raise
            if length != size:
                record = UndoRecord(
                    next(self._seq), min(length, size), before, size, abs(size - length)
                )
                tracked.log.add(record)
            self._untrack_if_clean(_key(st))

    def fsync(self, fh: int) -> None:
        """Sleep the fsync delay, then make durable what was written before the call.

        A drop during the sleep is a power loss before the fsync finished: it
        makes nothing durable and fails with EIO (the caller is normally being killed).
        """
        mark, delay = self.begin_fsync(fh)
        self.end_fsync(mark, wait=delay)

    def begin_fsync(self, fh: int) -> tuple[int, float]:
        """The first half of :meth:`fsync`: take a mark; return it and the delay to sleep."""
        key = _key(os.fstat(fh))
        with self._lock:
            mark = next(self._seq)
            self._syncing[mark] = _Sync(key, fh, time.monotonic(), self._power_cycle)
            tracked = self._files.get(key)
            if tracked is not None:
                tracked.log.sync_started(mark)
            return mark, self._fsync_delay

    def end_fsync(self, mark: int, wait: float = 0.0) -> None:
        """The second half of :meth:`fsync`: wait up to ``wait`` seconds (cut short by
        a drop), then what preceded ``mark`` is durable."""
        with self._lock:
            sync = self._syncing[mark]
            if wait:
                self._power_lost.wait_for(lambda: self._power_cycle != sync.cycle, wait)
            del self._syncing[mark]
            self._counters.fsyncs += 1
            if self._power_cycle != sync.cycle:
                raise OSError(errno.EIO, "power lost before the fsync completed")
            tracked = self._files.get(sync.key)
            if tracked is not None:
                tracked.log.make_durable(mark)
                self._untrack_if_clean(sync.key)

    def forget_unlinked(self) -> None:
        """Stop tracking files that no longer have a name: nothing can restore them."""
        with self._lock:
            for key in [k for k, t in self._files.items() if os.fstat(t.fd).st_nlink == 0]:
                os.close(self._files.pop(key).fd)

    def drop(self) -> DropReport:
        """Power loss: undo every change not yet made durable by an fsync."""
        with self._lock:
            dropped = []
            for tracked in self._files.values():
                try:
                    st = os.fstat(tracked.fd)
                    if st.st_nlink == 0:
                        continue
                    pending = tracked.log.pending_bytes
                    tracked.log.undo(tracked.fd)
                    after = os.fstat(tracked.fd).st_size
                    dropped.append(FileDrop(self._path(tracked.fd), pending, st.st_size, after))
                finally:
                    os.close(tracked.fd)
            self._files.clear()
            self._counters.drops += 1
            self._power_cycle += 1
            self._power_lost.notify_all()
            return DropReport(files=tuple(sorted(dropped, key=lambda f: f.path)))

    def sync_all(self) -> int:
        """Make everything durable at once (like ``sync``); return how many files had changes."""
        with self._lock:
            count = len(self._files)
            for tracked in self._files.values():
                os.close(tracked.fd)
            self._files.clear()
            return count

    def stats(self) -> Stats:
        with self._lock:
            now = time.monotonic()
            pending = {
                self._path(t.fd): t.log.pending_bytes
                for t in self._files.values()
                if os.fstat(t.fd).st_nlink > 0
            }
            syncing = tuple(
                SyncInProgress(self._path(sync.fh), round(now - sync.started, 3))
                for sync in self._syncing.values()
            )
            return Stats(
                pending=pending,
                syncing=syncing,
                fsync_delay=self._fsync_delay,
                writes=self._counters.writes,
                fsyncs=self._counters.fsyncs,
                drops=self._counters.drops,
            )

    def close(self) -> None:
        """Release every descriptor; pending changes stay on the backing files as they are."""
        self.sync_all()

    def _track(self, st: os.stat_result, opener: Callable[[], int]) -> _Tracked:
        key = _key(st)
        tracked = self._files.get(key)
        if tracked is None:
            tracked = self._files[key] = _Tracked(fd=opener())
        return tracked

    def _untrack_if_clean(self, key: FileKey) -> None:
        tracked = self._files.get(key)
        if tracked is not None and not tracked.log:
            os.close(self._files.pop(key).fd)

    def _path(self, fd: int) -> str:
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            return f"<fd {fd}>"
        target = target.removesuffix(" (deleted)")
        return os.path.relpath(target, self._root)
