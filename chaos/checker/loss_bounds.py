"""How much acknowledged work a strike on Redis may take, per persistence and durability
setting.

The bound each kind of strike (process kill, power loss, on a fast or a slow disk; a
failover of a replicated primary) is allowed under the settings read back from Redis, from
what Redis documents (the redis.io persistence, replication, Sentinel and ``WAIT``/
``WAITAOF`` pages; FACTS.md) and, for the slow disk, from reading ``aof.c`` with the figure
measured here beside it. A lost task outside these bounds is never excused
(``loss_windows.explain_losses``). What each bound rests on is spelled out in
:mod:`.redis_docs`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .facts import FaultWindow

# "about 1 second", "up to about 2 seconds" when the disk is slow (everysec).
EVERYSEC_WINDOW_S = 2.0
# Every acknowledged write still only in Redis (no persistence; or ``no`` on power loss).
EVERYTHING = math.inf
# On a slow disk a power loss under everysec takes the fsync in flight whole, and the one
# before it covered only writes made before it began: at most two fsync durations
# (reading aof.c). Measured: 3.18 s with 3 s fsyncs (reports/matrix, power_loss).
SLOW_DISK_FSYNCS_LOST = 2.0
# A reply recorded this long after a strike may still be one Redis sent before it.
ACK_SLACK_S = 0.5
# How far behind the primary a replica may be when the primary falls. Replication is
# asynchronous and Redis bounds the lag nowhere by default; on loopback a replica applies
# the stream within milliseconds. The testbed allows one second, the period at which
# replicas report their offset (REPLCONF ACK) and the unit of INFO's ``lag``, and fails a
# run whose loss reaches further back: a larger lag is looked at, never excused.
REPLICATION_LAG_S = 1.0

# Faults that end with a replica promoted in the primary's place (chaos/nemesis/replication*):
# what they may lose is what the promoted node lacked (``behind_since`` on) while the old
# primary still answered (a killed one: until the strike; a cut-off one: until demoted).
KILL_PRIMARY = "kill_primary"
LAG_REPLICA = "lag_replica"
FAILOVER_POWER_LOSS = "failover_power_loss"
PARTITION_PRIMARY = "partition_primary"
REPLICATION_FAULTS = frozenset({KILL_PRIMARY, LAG_REPLICA, FAILOVER_POWER_LOSS, PARTITION_PRIMARY})
# The strike on one node each replication fault is, when no replica was promoted: the old
# primary came back as primary and its replicas resynced from it (a full resync when it
# restarted: FACTS.md, "a primary that restarts empty wipes its replicas").
SAME_NODE_STRIKE = {
    KILL_PRIMARY: "kill_redis",
    LAG_REPLICA: "kill_redis",
    FAILOVER_POWER_LOSS: "power_loss",
}
POWER_CUTS = frozenset({"power_loss", "slow_disk_power_loss", FAILOVER_POWER_LOSS})

# ``durability`` keys of the run configuration (the first ``redis-config`` op).
DURABILITY_NONE = "none"
DURABILITY_WAIT = "wait"
DURABILITY_WAITAOF = "waitaof"


@dataclass(frozen=True)
class LossSpan:
    """Writes acknowledged from ``start`` to ``end`` (testbed clock) a strike may take;
    in a Cluster, only writes to keys of ``slots`` (empty: any key)."""

    start: float
    end: float
    slots: tuple[tuple[int, int], ...] = ()

    def covers(self, at: float, slot: int | None = None) -> bool:
        """Whether a write acknowledged at ``at`` (to a key of Cluster slot ``slot``, when
        the producer recorded it) is one this strike may take."""
        return self.start <= at <= self.end and holds_slot(self.slots, slot)


def struck_slots(w: FaultWindow) -> tuple[tuple[int, int], ...]:
    """The Cluster slots the master struck by ``w`` served (its ``struck_slots`` detail);
    empty when the strike took a node that held every key."""
    return tuple((int(lo), int(hi)) for lo, hi in w.detail.get("struck_slots") or ())


def holds_slot(slots: tuple[tuple[int, int], ...], slot: int | None) -> bool:
    """Whether a key of ``slot`` was on a node serving ``slots``. A strike that names no
    slots held every key; a write whose slot is unknown is given the benefit of the doubt."""
    return not slots or slot is None or any(lo <= slot <= hi for lo, hi in slots)


def documented_window_s(
    settings: Mapping[str, str], fault: str, detail: Mapping[str, Any]
) -> float:
    """How many seconds of acknowledged writes a single-node ``fault`` strike may take under
    ``settings`` (the values read back from Redis), per what Redis documents; 0 when it may
    take none.

    Unknown settings or faults get 0: a loss nothing documents is never excused.
    """
    if settings.get("appendonly") == "no":
        return EVERYTHING  # a restart without AOF starts empty (no RDB in these runs)
    fsync = settings.get("appendfsync")
    power_cut = fault in POWER_CUTS
    if fsync == "no" and power_cut:
        return EVERYTHING  # our filesystem never writes back on its own
    if fsync != "everysec":
        return 0.0  # always fsyncs before replying; a kill keeps what was written
    if fault in ("power_loss", FAILOVER_POWER_LOSS):
        return EVERYSEC_WINDOW_S
    if fault == "slow_disk_power_loss":
        slow = float(detail.get("fsync_delay_s", 0.0))
        return max(EVERYSEC_WINDOW_S, SLOW_DISK_FSYNCS_LOST * slow)
    if fault == "slow_disk_kill":
        return EVERYSEC_WINDOW_S  # aof.c postpones write(2) at most 2 s while an fsync lags
    return 0.0


def durability(settings: Mapping[str, str]) -> str:
    """The run's ``durability`` setting (``none`` when the history names none)."""
    return settings.get("durability", DURABILITY_NONE) or DURABILITY_NONE


def struck_at(w: FaultWindow) -> float | None:
    """When a fault hit Redis: its ``struck_at`` detail, else its start; None if it never
    struck (a disk that was only slow) or hit only some processes."""
    if w.targets:
        return None
    at = w.detail.get("struck_at", w.start)
    return None if at is None else float(at)


def documented_span(
    settings: Mapping[str, str], w: FaultWindow, *, waited: bool = True
) -> LossSpan | None:
    """The acknowledged writes strike ``w`` may take per what Redis documents, or None.

    ``waited``: the writes were made under the run's ``durability`` (producers' schedules).
    Workers' claims, acks and retries never are (``Durability`` covers producers only), so
    the checkers of those pass ``waited=False``: a failover may take them under any setting.
    """
    at = struck_at(w)
    if at is None:
        return None
    if w.fault in REPLICATION_FAULTS and "promoted_at" in w.detail:
        return _failover_span(settings, w, at, waited)
    fault = SAME_NODE_STRIKE.get(w.fault, w.fault)
    if fault == PARTITION_PRIMARY:
        return None  # nobody promoted: the primary kept its writes and its replicas catch up
    if waited and durability(settings) == DURABILITY_WAITAOF and fault in POWER_CUTS:
        return None  # WAITAOF 1 n: the primary's AOF had the write on disk before the reply
    window = documented_window_s(settings, fault, w.detail)
    if window <= 0:
        return None
    return LossSpan(at - window, at + ACK_SLACK_S, struck_slots(w))


def _failover_span(
    settings: Mapping[str, str], w: FaultWindow, at: float, waited: bool
) -> LossSpan | None:
    """A replica was promoted. WAIT/WAITAOF put every acknowledged write on a replica, and
    Sentinel and Cluster promote the replica with the largest replication offset, which has
    every write any replica acknowledged: nothing is lost. Without them, what the promoted
    node lacked: writes acknowledged from ``behind_since`` (less the replication lag) until
    the old primary stopped answering as primary. The old primary's own disk does not
    matter: it rejoins as a replica and resyncs from the promoted node."""
    if waited and durability(settings) in (DURABILITY_WAIT, DURABILITY_WAITAOF):
        return None
    behind = float(w.detail.get("behind_since", at))
    last_answer = _old_primary_last_answer(settings, w, at)
    return LossSpan(behind - REPLICATION_LAG_S, last_answer, struck_slots(w))


def _old_primary_last_answer(settings: Mapping[str, str], w: FaultWindow, at: float) -> float:
    """Until when the old primary may have acknowledged writes the promoted node never got
    (a reply recorded up to ``ACK_SLACK_S`` after it may still be its)."""
    if w.fault != PARTITION_PRIMARY:
        # Killed, it answered nobody after the strike (its last replies raced it) until it
        # restarted; restarted before it was told to step down (``demoted_at``, when
        # recorded), it answered as a primary until then. Nobody answered between the
        # strike and the promotion, so the span ends before ``promoted_at``.
        return max(at, float(w.healed.get("demoted_at", at))) + ACK_SLACK_S
    # Cut off, it answers the clients that still reach it until it is told to step down,
    # or until it notices it lost its replicas or the Cluster's majority, when configured.
    demoted = float(w.healed.get("demoted_at", w.end))
    return min([demoted, *_minority_bounds(settings, at)]) + ACK_SLACK_S


def _minority_bounds(settings: Mapping[str, str], cut_at: float) -> list[float]:
    """When a primary cut off at ``cut_at`` stops accepting writes on its own.

    ``min-replicas-to-write N``: once fewer than N replicas acknowledged within
    ``min-replicas-max-lag`` seconds; replicas acknowledge once a second, so at most
    ``max-lag + 1`` s after the cut (redis.io replication docs). Cluster: a master that
    cannot reach the majority of masters for ``cluster-node-timeout`` "enters an error
    state and stops accepting writes" (cluster spec); its cron checks every 100 ms, so
    within a second more."""
    bounds = []
    if int(settings.get("min-replicas-to-write", "0") or 0) > 0:
        max_lag = float(settings.get("min-replicas-max-lag", "10") or 10)
        bounds.append(cut_at + max_lag + 1.0)
    timeout_ms = settings.get("cluster-node-timeout")
    if settings.get("topology") == "cluster" and timeout_ms:
        bounds.append(cut_at + float(timeout_ms) / 1000 + 1.0)
    return bounds
