"""The FUSE operations: a passthrough to the backing directory.

Data changes (write, truncate, O_TRUNC) go through the :class:`DurabilityTracker`;
everything else is plain ``os`` calls on the backing path. Metadata changes
(create, mkdir, rename, unlink, link, chmod...) are durable at once, so ``fsyncdir``
has nothing to do. Errors are ``OSError`` with an errno, which mfusepy returns
to the kernel as ``-errno``.
"""

from __future__ import annotations

import errno
import os
import threading

from .tracker import DurabilityTracker

_STAT_FIELDS = ("st_mode", "st_ino", "st_dev", "st_nlink", "st_uid", "st_gid", "st_size")
_STATVFS_FIELDS = (
    "f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail",
    "f_files", "f_ffree", "f_favail", "f_flag", "f_namemax",
)  # fmt: skip


def _stat_dict(st: os.stat_result) -> dict[str, int]:
    attrs = {name: int(getattr(st, name)) for name in _STAT_FIELDS}
    attrs.update(st_atime=st.st_atime_ns, st_mtime=st.st_mtime_ns, st_ctime=st.st_ctime_ns)
    attrs.update(st_blocks=st.st_blocks, st_blksize=st.st_blksize)
    return attrs


class PassthroughOperations:
    """What mfusepy calls. ``use_ns``: times cross as integer nanoseconds."""

    use_ns = True

    def __init__(self, root: str, tracker: DurabilityTracker) -> None:
        self._root = os.path.realpath(root)
        self._tracker = tracker
        self._lock = threading.Lock()
        # O_APPEND is stripped from the backing descriptors so that every write goes
        # through the tracker at an offset it knows; these handles append.
        self._appending: set[int] = set()

    def _full(self, path: str | None) -> str:
        if path is None:
            raise OSError(errno.ENOENT, "no path")
        return os.path.join(self._root, path.lstrip("/"))

    # Metadata: durable as soon as it is done.

    def getattr(self, path: str | None, fh: int | None = None) -> dict[str, int]:
        st = os.fstat(fh) if fh is not None else os.lstat(self._full(path))
        return _stat_dict(st)

    def access(self, path: str, amode: int) -> int:
        if not os.access(self._full(path), amode):
            raise OSError(errno.EACCES, "access denied")
        return 0

    def readdir(self, path: str, fh: int) -> list[str]:
        return [".", "..", *os.listdir(self._full(path))]

    def readlink(self, path: str) -> str:
        return os.readlink(self._full(path))

    def mknod(self, path: str, mode: int, dev: int) -> int:
        os.mknod(self._full(path), mode, dev)
        return 0

    def mkdir(self, path: str, mode: int) -> int:
        os.mkdir(self._full(path), mode)
        return 0

    def rmdir(self, path: str) -> int:
        os.rmdir(self._full(path))
        return 0

    def unlink(self, path: str) -> int:
        os.unlink(self._full(path))
        self._tracker.forget_unlinked()
        return 0

    def rename(self, old: str, new: str) -> int:
        os.rename(self._full(old), self._full(new))
        self._tracker.forget_unlinked()
        return 0

    def symlink(self, target: str, source: str) -> int:
        os.symlink(source, self._full(target))
        return 0

    def link(self, target: str, source: str) -> int:
        os.link(self._full(source), self._full(target))
        return 0

    def chmod(self, path: str | None, mode: int) -> int:
        os.chmod(self._full(path), mode)
        return 0

    def chown(self, path: str | None, uid: int, gid: int) -> int:
        os.lchown(self._full(path), uid, gid)
        return 0

    def utimens(self, path: str | None, times: tuple[int, int] | None = None) -> int:
        if times is None:
            os.utime(self._full(path), follow_symlinks=False)
        else:
            os.utime(self._full(path), ns=times, follow_symlinks=False)
        return 0

    def statfs(self, path: str) -> dict[str, int]:
        sv = os.statvfs(self._full(path))
        return {name: int(getattr(sv, name)) for name in _STATVFS_FIELDS}

    def fsyncdir(self, path: str | None, datasync: int, fh: int) -> int:
        return 0

    # Data: through the tracker.

    def create(self, path: str, mode: int, flags: int) -> int:
        return self._opened(os.open(self._full(path), self._backing_flags(flags), mode), flags)

    def open(self, path: str, flags: int) -> int:
        full = self._full(path)
        if flags & os.O_TRUNC:
            self._tracker.truncate(0, path=full)
        return self._opened(os.open(full, self._backing_flags(flags)), flags)

    def read(self, path: str | None, size: int, offset: int, fh: int) -> bytes:
        return os.pread(fh, size, offset)

    def write(self, path: str | None, data: bytes, offset: int, fh: int) -> int:
        with self._lock:
            append = fh in self._appending
        return self._tracker.write(fh, data, offset, append=append)

    def truncate(self, path: str | None, length: int, fh: int | None = None) -> int:
        if fh is not None:
            self._tracker.truncate(length, fh=fh)
        else:
            self._tracker.truncate(length, path=self._full(path))
        return 0

    def fsync(self, path: str | None, datasync: int, fh: int) -> int:
        self._tracker.fsync(fh)
        return 0

    def flush(self, path: str | None, fh: int) -> int:
        return 0  # close(2) makes nothing durable

    def release(self, path: str | None, fh: int) -> int:
        with self._lock:
            self._appending.discard(fh)
        os.close(fh)
        return 0

    def destroy(self, path: str) -> None:
        self._tracker.close()

    @staticmethod
    def _backing_flags(flags: int) -> int:
        return (flags & ~(os.O_APPEND | os.O_TRUNC)) | os.O_CLOEXEC

    def _opened(self, fh: int, flags: int) -> int:
        if flags & os.O_APPEND:
            with self._lock:
                self._appending.add(fh)
        return fh
