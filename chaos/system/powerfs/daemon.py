"""The filesystem process: mount, serve the control socket, unmount.

``serve`` blocks in libfuse until the mount goes away (``fusermount3 -u``,
SIGTERM or SIGINT: libfuse's own handlers end the loop and unmount). With
``exit_with_parent`` a watchdog detaches the mount and ends the process when the
parent dies without calling ``stop()``, so a crashed test leaves nothing mounted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import threading
import time

from .control import ControlServer
from .mounts import unmount
from .passthrough import PassthroughOperations
from .tracker import DurabilityTracker

_WATCH_INTERVAL_S = 0.5
_EXIT_GRACE_S = 3.0
_log = logging.getLogger("powerfs")


def _watch_parent(mountpoint: str, runtime_dir: str | None) -> None:
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(_WATCH_INTERVAL_S)
    _log.warning("parent %d died; unmounting %s", parent, mountpoint)
    # Before the unmount: it ends the FUSE loop, and the process may exit with it.
    if runtime_dir is not None:
        shutil.rmtree(runtime_dir, ignore_errors=True)
    unmount(mountpoint, lazy=True)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(_EXIT_GRACE_S)
    os._exit(1)


def serve(
    backing: str,
    mountpoint: str,
    control: str,
    *,
    fsync_delay: float = 0.0,
    exit_with_parent: bool = False,
    runtime_dir: str | None = None,
) -> int:
    """Mount ``backing`` at ``mountpoint`` and serve commands on ``control`` until
    unmounted; return libfuse's status (0: unmounted cleanly). ``runtime_dir`` is
    removed if the parent dies (it holds the socket and log that ``stop()`` would remove)."""
    import mfusepy  # type: ignore[import-untyped]

    tracker = DurabilityTracker(backing, fsync_delay)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(control)
    server = ControlServer(control, tracker)
    server.start()
    if exit_with_parent:
        watchdog = threading.Thread(
            target=_watch_parent, args=(mountpoint, runtime_dir), daemon=True
        )
        watchdog.start()
    try:
        mfusepy.FUSE(
            PassthroughOperations(backing, tracker),
            mountpoint,
            foreground=True,
            fsname="powerfs",
            # No kernel caching: after a drop the kernel must not serve lost bytes
            # or a stale size, so every read and stat reaches the backing file.
            direct_io=True,
            attr_timeout=0,
            entry_timeout=0,
            negative_timeout=0,
            # Unlink really unlinks (no .fuse_hidden files); open handles still work.
            hard_remove=True,
        )
    except RuntimeError as exc:
        # mfusepy raises RuntimeError(status) when libfuse fails or ends on a signal.
        _log.warning("libfuse ended with status %s", exc)
        return 1
    finally:
        server.close()
        tracker.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(control)
    return 0
