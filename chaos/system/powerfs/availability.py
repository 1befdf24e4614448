"""Can this machine mount the power-loss filesystem, and if not, why not."""

from __future__ import annotations

import os
import shutil
import stat
import sys
from pathlib import Path

_CAP_SYS_ADMIN = 21


def _has_cap_sys_admin() -> bool:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> _CAP_SYS_ADMIN & 1)
    return False


def _setuid_fusermount() -> str | None:
    for tool in ("fusermount3", "fusermount"):
        found = shutil.which(tool)
        if found and os.stat(found).st_mode & stat.S_ISUID:
            return found
    return None


def available() -> tuple[bool, str]:
    """Whether FUSE works here: ``(True, what will be used)`` or ``(False, why not)``.

    Checks Linux, ``/dev/fuse``, the right to mount (root with CAP_SYS_ADMIN, or a
    setuid ``fusermount3``), that mfusepy imports and that it finds libfuse. A
    mount can still be refused by a security policy this cannot see;
    :meth:`PowerLossFS.start` then fails with the daemon's own error.
    """
    if not sys.platform.startswith("linux"):
        return False, f"FUSE power-loss filesystem needs Linux, not {sys.platform}"
    if not os.path.exists("/dev/fuse"):
        return False, "/dev/fuse does not exist (load the fuse module; docker: --device /dev/fuse)"
    if not os.access("/dev/fuse", os.R_OK | os.W_OK):
        return False, "/dev/fuse is not readable and writable by this user"
    if os.geteuid() == 0:
        if not _has_cap_sys_admin() and _setuid_fusermount() is None:
            return False, "root without CAP_SYS_ADMIN cannot mount (docker: --cap-add SYS_ADMIN)"
    elif _setuid_fusermount() is None:
        return False, "not root and no setuid fusermount3 (apt-get install fuse3)"
    try:
        import mfusepy  # type: ignore[import-untyped]
    except ImportError:
        return False, "mfusepy is not installed (pip install mfusepy)"
    except (OSError, AttributeError) as exc:
        return False, f"libfuse cannot be loaded ({exc}); apt-get install fuse3 libfuse3-3"
    version = f"{mfusepy.fuse_version_major}.{mfusepy.fuse_version_minor}"
    return True, f"libfuse {version} via mfusepy"
