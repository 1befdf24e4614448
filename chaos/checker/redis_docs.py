"""What Redis documents about losing acknowledged writes, as expectations of the testbed.

Sources (see FACTS.md): the redis.io persistence page (``everysec`` may lose about
one second of writes on a disaster, up to about two on a slow disk; ``always`` fsyncs
every write before replying; ``no`` leaves flushing to the OS, about every 30 s on
Linux) and Redis's ``src/aof.c``. Our
power-loss filesystem never writes back on its own, so under ``appendfsync no`` a
power loss takes everything Redis wrote since its last fsync: all of it.

Replication (FACTS.md, "Replication, Sentinel and Cluster"; redis.io and valkey.io pages
of the replication docs, ``WAIT``, ``WAITAOF``, Sentinel and the Cluster spec):

- Replication is asynchronous: the primary replies before its replicas have the write. A
  failover promotes a replica that may lack writes acknowledged within the replication
  lag: ``durability=none`` may lose them. A primary cut off from its replicas and
  Sentinels keeps acknowledging the clients that still reach it until it is told to step
  down; rejoining as a replica, it discards those writes.
- ``WAIT n`` returns once ``n`` replicas acknowledged every earlier write of the
  connection: in their memory, not on their disks. It "does not make Redis a strongly
  consistent store", but Sentinel and Cluster promote the best replica available (equal
  priorities: the largest replication offset), which holds every write any replica
  acknowledged. Our faults leave every replica reachable and none loses its memory, so
  under ``durability=wait`` a failover loses nothing acknowledged. A write ``WAIT`` did not
  confirm raises ``NotDurable``: the producer records it as indeterminate (``info``), and
  its loss is never charged.
- ``WAITAOF numlocal numreplicas`` (Redis and Valkey 7.2+) returns once the write is
  fsynced to the AOF of the local node and of ``numreplicas`` replicas: under
  ``durability=waitaof`` neither a failover nor a power loss of the primary loses it.
- ``min-replicas-to-write N`` with ``min-replicas-max-lag S``: a primary refuses writes
  once fewer than N replicas acknowledged within S seconds (replicas acknowledge once a
  second), which bounds what a cut-off primary acknowledges to about S + 1 seconds.
- A primary's own disk matters only while it stays primary: promoted elsewhere, it
  rejoins as a replica and resyncs from the promoted node (a power-lost primary's
  unsynced AOF is replaced, not replayed to anyone). Not promoted, it comes back with
  what its disk kept and its replicas resync from it: the single-node window applies,
  ``WAIT`` notwithstanding (a replica's copy is overwritten by the resync).
- Workers' claims and acks are never waited for (``Durability`` covers producers): a
  failover may take those the promoted node lacked under every durability setting. That
  means a repeat, or a token handed out again, never a lost task.

The windows these give per strike and setting are
:func:`~duetime.chaos.checker.loss_bounds.documented_span`'s.

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
    "durability=none": "a failover loses writes acknowledged within the replication lag "
    "before it (a cut-off primary: until it steps down, or about min-replicas-max-lag + 1 s "
    "with min-replicas-to-write)",
    "durability=wait": "WAIT 1 puts each acknowledged write in a replica's memory, and "
    "failover promotes the replica with the most: a failover loses nothing acknowledged; "
    "a power loss of the primary with no replica promoted still loses its AOF window",
    "durability=waitaof": "WAITAOF 1 1 fsyncs each acknowledged write on the primary and a "
    "replica: neither a failover nor a power loss loses it",
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


FAILOVER_LOSES_ONLY_WHAT_REPLICAS_LACKED = Expect(
    "unexplained_loss",
    "valid",
    "Redis docs: replication is asynchronous, so under durability=none a failover may lose "
    "schedules acknowledged while the promoted replica lagged (a cut-off primary: until it "
    "stepped down); under wait/waitaof none; every other acknowledged schedule must run",
)
WAIT_LOSES_NOTHING_IN_A_FAILOVER = Expect(
    "lost",
    "valid",
    "Redis docs: WAIT 1 returns once a replica has the write in memory, and Sentinel and "
    "Cluster promote the replica with the largest replication offset: no acknowledged "
    "schedule is lost to a failover",
)
WAITAOF_LOSES_NOTHING = Expect(
    "lost",
    "valid",
    "Redis docs: WAITAOF 1 1 returns once the write is fsynced on the primary and on a "
    "replica: no acknowledged schedule is lost to a failover or a power loss",
)
# Keyed by parts of the run configuration's label (expectations.expectations_for), whose
# later parts win: durability comes after topology. ``durability=none`` is the default and
# appears in no label, so its rule is the topologies'.
REPLICATION_EXPECTATIONS: dict[str, tuple[Expect, ...]] = {
    "topology=replicated": (FAILOVER_LOSES_ONLY_WHAT_REPLICAS_LACKED,),
    "topology=cluster": (FAILOVER_LOSES_ONLY_WHAT_REPLICAS_LACKED,),
    "durability=wait": (WAIT_LOSES_NOTHING_IN_A_FAILOVER,),
    "durability=waitaof": (WAITAOF_LOSES_NOTHING,),
}
