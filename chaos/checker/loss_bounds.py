"""How much acknowledged work a strike on Redis may take, per persistence setting.

The bound each kind of strike (process kill, power loss, on a fast or a slow disk) is
allowed under the settings read back from Redis, from what Redis documents (the
redis.io persistence page; FACTS.md) and, for the slow disk, from reading ``aof.c``
with the figure measured here beside it. A lost task outside these bounds is never
excused (``loss_windows.explain_losses``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

# "about 1 second", "up to about 2 seconds" when the disk is slow (everysec).
EVERYSEC_WINDOW_S = 2.0
# Every acknowledged write still only in Redis (no persistence; or ``no`` on power loss).
EVERYTHING = math.inf
# On a slow disk a power loss under everysec takes the fsync in flight whole, and the one
# before it covered only writes made before it began: at most two fsync durations
# (reading aof.c). Measured: 3.18 s with 3 s fsyncs (reports/matrix, power_loss).
SLOW_DISK_FSYNCS_LOST = 2.0


def documented_window_s(
    settings: Mapping[str, str], fault: str, detail: Mapping[str, Any]
) -> float:
    """How many seconds of acknowledged writes a ``fault`` strike may take under ``settings``
    (the values read back from Redis), per what Redis documents; 0 when it may take none.

    Unknown settings or faults get 0: a loss nothing documents is never excused.
    """
    if settings.get("appendonly") == "no":
        return EVERYTHING  # a restart without AOF starts empty (no RDB in these runs)
    fsync = settings.get("appendfsync")
    power_cut = fault in ("power_loss", "slow_disk_power_loss")
    if fsync == "no" and power_cut:
        return EVERYTHING  # our filesystem never writes back on its own
    if fsync != "everysec":
        return 0.0  # always fsyncs before replying; a kill keeps what was written
    if fault == "power_loss":
        return EVERYSEC_WINDOW_S
    if fault == "slow_disk_power_loss":
        slow = float(detail.get("fsync_delay_s", 0.0))
        return max(EVERYSEC_WINDOW_S, SLOW_DISK_FSYNCS_LOST * slow)
    if fault == "slow_disk_kill":
        return EVERYSEC_WINDOW_S  # aof.c postpones write(2) at most 2 s while an fsync lags
    return 0.0
