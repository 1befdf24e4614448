"""A FUSE filesystem that loses what was not fsynced, on command (the idea of LazyFS).

Why: a SIGKILL of redis-server loses nothing that reached the kernel, so it cannot
show what ``appendfsync no | everysec | always`` guarantee on power loss. Redis
keeps its files on this filesystem instead; the power-loss nemesis SIGKILLs
redis-server, calls :meth:`PowerLossFS.drop_unsynced`, and restarts Redis on
what is left. The filesystem can also make every fsync slow
(:meth:`PowerLossFS.set_fsync_delay`), which is what makes Redis postpone AOF
writes under ``everysec``.

Model (the simplest one that is exactly right for the data):

- Passthrough: each write goes straight to the backing file, so reads always see
  it. Before writing, the filesystem reads the bytes about to be overwritten and
  the file size, and appends them to that file's undo log (``undo.py``).
- ``fsync``/``fdatasync`` (Redis calls ``fdatasync``; both are treated alike)
  sleeps the configured delay, then forgets the undo records of every change made
  before the call began. Changes made while a slow fsync sleeps stay pending
  (the kernel serialises writes and fsync on one FUSE inode anyway). A drop
  during the sleep is a power loss before the fsync finished: the fsync then
  makes nothing durable and fails with EIO.
- ``drop`` undoes the remaining records newest first (restore overwritten bytes,
  restore the size), so exactly the un-fsynced changes vanish and each file is
  as its last completed fsync left it. Overwrites are undone too, not only appends.
- Files are known by inode and reached through a descriptor the filesystem opens
  itself, so a rename (Redis 7 writes ``*.manifest`` to a temp name, fsyncs and
  renames it; RDB and AOF rewrites do the same) keeps the undo state with the data.
- Simplification: metadata operations (create, mkdir, rename, unlink, link,
  chmod, utimens) are durable at once and are never undone; ``fsyncdir`` is a
  no-op. So a file created and never fsynced survives a drop *empty*, like the
  zero-length files ext4 leaves after a crash, rather than disappearing; an
  unlink is never undone, so a file unlinked with pending data is simply gone.
  Redis's own crash safety rests on fsync-then-rename, which this model honours.
- A write is either entirely kept or entirely undone. The kernel page cache is
  bypassed (``direct_io``, zero attribute and entry timeouts) so after a drop
  nobody can read bytes that were lost, not even through a handle kept open.
- Unmounting (a clean shutdown) leaves pending changes in place: only ``drop`` loses data.

Other choices: undo logs over a passthrough rather than LazyFS's own page cache,
because reads then need no logic at all and the backing directory always shows
what the kernel would hold; the filesystem runs in its own process (``python -m
duetime.chaos.system.powerfs mount``) so that the test and Redis can use the mount freely and
``stop()`` can always kill it; the control channel is a Unix socket rather than
a FIFO because commands need replies (a drop report, stats). One lock serialises
data changes: fine for Redis's few files, not a filesystem for throughput.

Not modelled: torn or reordered writes within a file, lost metadata (renames,
creates, unlinks), ``RENAME_NOREPLACE``/``RENAME_EXCHANGE`` (mfusepy drops rename
flags), xattrs, ``fallocate``, shared writable ``mmap`` (``direct_io``).
Changes made to the backing directory behind the filesystem's back are not tracked.

Using it as a power-loss nemesis: ``os.kill(pid, SIGKILL)``, then
:meth:`PowerLossFS.drop_unsynced`, then reap the process. A process whose thread
is inside a (slow) fsync cannot be reaped until that FUSE request returns, so
reaping first would let the fsync finish and make its data durable before the
"power" goes; dropping first cuts it short, as a real power loss would.

Layout: ``undo`` (one file's log), ``tracker`` (all logs, fsync, drop),
``passthrough`` (the mfusepy operations), ``control`` (the socket protocol),
``daemon`` (the mounted process), ``mounts`` (mountinfo, unmount), ``handle``
(:class:`PowerLossFS`), ``availability`` (:func:`available`).

Needs Debian's ``fuse3`` and ``libfuse3-3`` and ``pip install mfusepy``.
"""

from __future__ import annotations

from .availability import available
from .control import ControlError
from .handle import PowerFSError, PowerFSUnavailable, PowerLossFS
from .report import DropReport, FileDrop, Stats, SyncInProgress

__all__ = [
    "ControlError",
    "DropReport",
    "FileDrop",
    "PowerFSError",
    "PowerFSUnavailable",
    "PowerLossFS",
    "Stats",
    "SyncInProgress",
    "available",
]
