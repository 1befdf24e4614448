"""Power-loss filesystems under chosen nodes of a replicated topology, one mount each.

One mount per node, because a power cut drops every unsynced write of a mount: sharing
one would also take from the replicas what only the struck primary's disk lost. Chosen
before the nodes start (their data directories are the mounts); ``unmount()`` undoes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .backends.power_disk import PowerDisk


class NodeDisks:
    """Which node (by its index in start order) keeps its files on which power-loss disk."""

    def __init__(self) -> None:
        self._disks: dict[int, PowerDisk] = {}

    def attach(self, indexes: Iterable[int]) -> None:
        """Mount a disk for each node index; raises ``PowerDiskUnavailable`` without FUSE,
        having unmounted any it mounted."""
        # Imported here: the backends package builds topologies, which import this module.
        from .backends.power_disk import PowerDisk

        try:
            for index in indexes:
                if index not in self._disks:
                    disk = PowerDisk()
                    disk.mount()
                    self._disks[index] = disk
        except BaseException:
            self.unmount()
            raise

    def data_dir(self, index: int) -> Path | None:
        """Where node ``index`` keeps its files: its disk's, or None (a temporary dir)."""
        disk = self._disks.get(index)
        return disk.redis_dir if disk is not None else None

    def __bool__(self) -> bool:
        return bool(self._disks)

    def disk(self, index: int) -> PowerDisk | None:
        return self._disks.get(index)

    def unmount(self) -> None:
        disks, self._disks = list(self._disks.values()), {}
        for disk in disks:
            disk.unmount()
