from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from duetime.chaos.system.process import ManagedProcess, ProcessSpec

# A child that ignores SIGTERM and has a grandchild: stop() must still end both.
STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(child.pid, flush=True)
time.sleep(60)
"""


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def wait_for_line(path: Path, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        if text.endswith("\n"):
            return text.strip()
        time.sleep(0.02)
    raise AssertionError(f"no output in {path}")


def test_stop_ends_a_stubborn_process_and_its_children(tmp_path: Path) -> None:
    spec = ProcessSpec("stubborn", "test", (sys.executable, "-c", STUBBORN))
    proc = ManagedProcess(spec, tmp_path / "stubborn.log")
    leader = proc.start()
    grandchild = int(wait_for_line(tmp_path / "stubborn.log"))
    assert pid_alive(grandchild)
    proc.stop(grace=0.5)
    assert not proc.alive
    deadline = time.monotonic() + 5
    while pid_alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not pid_alive(grandchild)
    assert not pid_alive(leader)


def test_kill_is_immediate_and_restart_gives_a_new_pid(tmp_path: Path) -> None:
    spec = ProcessSpec("sleeper", "test", (sys.executable, "-c", "import time; time.sleep(60)"))
    proc = ManagedProcess(spec, tmp_path / "sleeper.log")
    first = proc.start()
    proc.kill()
    assert not proc.alive
    assert proc.returncode == -9
    second = proc.start()
    assert second != first and proc.alive
    proc.stop()
