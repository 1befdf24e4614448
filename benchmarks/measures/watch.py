"""Watching worker processes while they run: readiness, progress, early exits."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from ..bench import POLL_S, STARTUP_TIMEOUT_S
from ..procs import DriverFailed
from ..runs import RunLog


def check_alive(procs: Sequence[subprocess.Popen[bytes]], log: Path) -> None:
    if all(p.poll() is not None for p in procs):
        tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-4:])
        raise DriverFailed(f"the worker processes exited early; {log}: {tail}")


def wait_ready(
    runs: RunLog, procs: Sequence[subprocess.Popen[bytes]], need: int, log: Path
) -> None:
    """Wait until ``need`` processes said they are ready."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while runs.ready() < need:
        check_alive(procs, log)
        if time.monotonic() > deadline:
            raise DriverFailed(f"workers not ready after {STARTUP_TIMEOUT_S:.0f} s; see {log}")
        time.sleep(POLL_S)
