"""Is a path a mount point, and how to unmount it, without touching the mount itself.

A FUSE mount whose daemon died answers every access with ENOTCONN, so mount
points are looked up in ``/proc/self/mountinfo`` rather than stat()ed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

_OCTAL = re.compile(r"\\([0-7]{3})")


def _unescape(field: str) -> str:
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def mount_points() -> list[str]:
    """Every mount point of this process's mount namespace."""
    text = Path("/proc/self/mountinfo").read_text()
    return [_unescape(line.split()[4]) for line in text.splitlines() if line.strip()]


def is_mounted(path: str | os.PathLike[str]) -> bool:
    return os.path.realpath(path) in mount_points()


def _commands(mountpoint: str, lazy: bool) -> list[list[str]]:
    commands = []
    for tool in ("fusermount3", "fusermount"):
        found = shutil.which(tool)
        if found:
            commands.append([found, "-u", *(["-z"] if lazy else []), mountpoint])
    if os.geteuid() == 0 and shutil.which("umount"):
        commands.append(["umount", *(["-l"] if lazy else []), mountpoint])
    return commands


def unmount(path: str | os.PathLike[str], *, lazy: bool = False) -> bool:
    """Unmount ``path`` (lazily: detach now, even if busy). True once it is not mounted."""
    mountpoint = os.path.realpath(path)
    for command in _commands(mountpoint, lazy):
        if not is_mounted(mountpoint):
            return True
        try:
            subprocess.run(command, capture_output=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
    return not is_mounted(mountpoint)
