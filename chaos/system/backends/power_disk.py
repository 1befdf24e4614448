"""Redis's data directory on the power-loss filesystem (``duetime.chaos.system.powerfs``).

``mount()`` creates a backing directory and a mount point in a fresh temporary
directory and mounts the filesystem; ``unmount()`` undoes all of it. The power-loss
and slow-disk nemeses reach the filesystem through :attr:`PowerDisk.fs`.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from duetime.chaos.system.powerfs import PowerFSError, PowerLossFS, available

REDIS_SUBDIR = "redis"


class PowerDiskUnavailable(RuntimeError):
    """FUSE cannot be used here; the message says why (never faked, always skipped)."""


class PowerDisk:
    """One mount of the power-loss filesystem, made for one run's Redis."""

    def __init__(self) -> None:
        self._fs: PowerLossFS | None = None
        self._root: Path | None = None

    @property
    def mounted(self) -> bool:
        return self._fs is not None

    @property
    def fs(self) -> PowerLossFS:
        if self._fs is None:
            raise RuntimeError("the power-loss filesystem is not mounted")
        return self._fs

    @property
    def redis_dir(self) -> Path:
        """Where Redis keeps its files: on the mount."""
        return self.fs.mountpoint / REDIS_SUBDIR

    def mount(self) -> Path:
        """Mount (once) and return the directory for Redis's files."""
        if self._fs is not None:
            return self.redis_dir
        ok, why = available()
        if not ok:
            raise PowerDiskUnavailable(f"FUSE is not available: {why}")
        root = Path(tempfile.mkdtemp(prefix="duetime-powerdisk-"))
        fs = PowerLossFS(root / "backing", root / "mnt")
        try:
            fs.start()
        except PowerFSError as exc:
            shutil.rmtree(root, ignore_errors=True)
            raise PowerDiskUnavailable(f"the power-loss filesystem did not mount: {exc}") from exc
        self._fs, self._root = fs, root
        self.redis_dir.mkdir(exist_ok=True)
        return self.redis_dir

    def unmount(self) -> None:
        """Unmount and remove the temporary directories; idempotent."""
        fs, root = self._fs, self._root
        self._fs = self._root = None
        try:
            if fs is not None:
                fs.stop()
        finally:
            if root is not None:
                shutil.rmtree(root, ignore_errors=True)
