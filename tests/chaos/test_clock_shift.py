from __future__ import annotations

import os
import subprocess
import sys

import pytest

from duetime.chaos.nemesis import NemesisUnavailable
from duetime.chaos.nemesis.clock import build_shim, shift_env

PROBE = """
import threading, time
wall, mono = time.time(), time.monotonic()
time.sleep(0.05)
threading.Event().wait(0.05)
print(wall, mono, time.monotonic() - mono)
"""


def test_shim_shifts_wall_clock_only() -> None:
    try:
        shim = build_shim()
    except NemesisUnavailable as exc:
        pytest.skip(str(exc))
    env = {**os.environ, **shift_env(shim, 30.0)}
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.split()
    import time

    wall, mono, slept = float(out[0]), float(out[1]), float(out[2])
    assert 29.0 < wall - time.time() < 31.0
    assert abs(mono - time.monotonic()) < 5.0
    assert 0.09 < slept < 2.0
