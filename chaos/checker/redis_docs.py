"""What Redis documents about losing acknowledged writes, as expectations of the testbed.

Sources (see FACTS.md): the redis.io persistence page (``everysec`` may lose about
one second of writes on a disaster, up to about two on a slow disk; ``always`` fsyncs
every write before replying; ``no`` leaves flushing to the OS, about every 30 s on
Linux) and Redis's ``src/aof.c``. Our
power-loss filesystem never writes back on its own, so under ``appendfsync no`` a
power loss takes everything Redis wrote since its last fsync: all of it.

Checker names used here: ``lost`` (the default lost checker), ``lost_window``
(:class:`~duetime.chaos.checker.lost.LostWithin`, the documented window) and
``lost_all_pending`` (:class:`~duetime.chaos.checker.lost.LostAllPending`).
"""

from __future__ import annotations

from .expectations import Expect
from .loss_bounds import EVERYSEC_WINDOW_S
from .lost import LostAllPending, LostWithin

LOST_WINDOW = "lost_window"
# Starts the ``because`` of an expectation that a run confirms what the docs do not say.
DISAGREES_WITH_DOCS = "DISAGREES WITH THE DOCS"
LOST_ALL_PENDING = "lost_all_pending"


# What the Redis docs promise for acknowledged writes, per configuration.
DOCUMENTED = {
    "aof=always": "nothing acknowledged is lost, even on power loss",
    "aof=everysec": f"a process kill loses nothing; power loss about the last second, up to "
    f"about {EVERYSEC_WINDOW_S:g} s",
    "aof=no": "a process kill loses nothing; power loss what the OS had not written back "
    "(about 30 s on Linux; on our filesystem, everything)",
    "aof=off": "a restart loses everything (no AOF, no RDB)",
}
# How many seconds of acknowledged writes a strike may take per the docs (None: any).
DOCUMENTED_WINDOW_S: dict[str, float | None] = {
    "aof=always": 0.0,
    "aof=everysec": EVERYSEC_WINDOW_S,
    "aof=no": None,
    "aof=off": None,
}


def window_checker(fault: str) -> LostWithin:
    return LostWithin(fault, EVERYSEC_WINDOW_S)


def all_pending_checker(fault: str) -> LostAllPending:
    return LostAllPending(fault)


ALWAYS_KEEPS_EVERYTHING = Expect(
    "lost",
    "valid",
    "Redis docs: appendfsync always fsyncs before it replies, so no acknowledged write "
    "is lost, even on power loss",
)
EVERYSEC_LOSES_THE_LAST_SECONDS = Expect(
    LOST_WINDOW,
    "valid",
    "Redis docs: appendfsync everysec loses about the last second of writes on power "
    f"loss, up to about {EVERYSEC_WINDOW_S:g} s",
)
NO_LOSES_EVERYTHING_UNSYNCED = Expect(
    LOST_ALL_PENDING,
    "valid",
    "Redis docs: appendfsync no leaves flushing to the OS (about every 30 s on Linux); "
    "our filesystem never flushes on its own, so power loss takes every acknowledged "
    "task still pending",
)
OFF_LOSES_EVERYTHING = Expect(
    LOST_ALL_PENDING,
    "valid",
    "Redis docs: without AOF or RDB a restarted Redis starts empty: every acknowledged "
    "task still pending is lost",
)
OFF_LOSES_ON_A_KILL = Expect(
    "lost",
    "invalid",
    "Redis docs: without AOF or RDB a restarted Redis starts empty, so acknowledged "
    "tasks still pending at the kill are lost",
)
KILL_LOSES_NOTHING = Expect(
    "lost",
    "valid",
    "Redis writes the AOF to the kernel (write(2)) before it replies: a process kill, "
    "with the OS still up, loses nothing acknowledged",
)
