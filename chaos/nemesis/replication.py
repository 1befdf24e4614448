"""Replication faults: the primary killed, replicas lagging behind it, a power cut under it.

Each needs a replicated topology: ``ctx.cluster.replication`` is a
:class:`~duetime.chaos.system.sentinel_group.SentinelGroup` (Sentinel promotes a
replica) or a :class:`~duetime.chaos.system.redis_cluster.LocalCluster` (the master's
replica takes over its slots); on a single Redis ``setup()`` raises
:class:`NemesisUnavailable`. Every strike waits for the promotion, so the fault-start
record says which node took over and when clients could see it (``promoted_at``:
every Sentinel, or a majority of the Cluster's nodes, name it and it says
``role:master``). The heal starts the old primary again on its port and waits until it
is a replica that caught up, so nothing is left down for the drain; its ``fault-end``
op says when and whose replica it became (``rejoined``, ``rejoined_at``,
``primary_at_heal``: the promoted node, or another if a Sentinel failed over again).

Detail keys (the contract the checkers read; times on the testbed clock):
``struck_at``, ``behind_since`` (from when the promoted node may lack acknowledged
writes), ``old_primary``, ``promoted``, ``promoted_at``, ``promotion_s``; ``began_at``
(= ``behind_since``: the fault-start op is recorded only once the promotion is seen,
seconds after the fault began); and, as
evidence, ``old_offset`` (the old primary's replication offset just before the strike),
``promoted_offset`` (how much of that stream the promoted node had) and
``missing_bytes`` (at least that much of the stream the promoted node lacked; None when
either offset is unknown). In a Cluster also ``struck_slots``: the slot ranges the
struck master served (``[[lo, hi], ...]``), the only keys a strike on it can take.

A SIGSTOPped replica's kernel still receives the stream into its socket buffer, which
it applies after SIGCONT: ``lag_replica`` therefore also closes the replicas' links on
the primary's side once they are stopped, so every write of the pause is one the
promoted replica lacks (``missing_bytes``), however light the load.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from duetime.chaos.system.cluster import Cluster
from duetime.chaos.system.powerfs import DropReport
from duetime.chaos.system.powerfs import available as fuse_available
from duetime.chaos.system.promotion import Clock, Promotion
from duetime.chaos.system.redis_cluster import LocalCluster
from duetime.chaos.system.redis_server import RedisServer
from duetime.chaos.system.sentinel_group import SentinelGroup

from .base import Fault, Nemesis, NemesisContext, NemesisUnavailable
from .disk import drop_detail

Replication = SentinelGroup | LocalCluster
# Cluster.topology values with replicas (chaos.config's names).
REPLICATED_TOPOLOGIES = ("replicated", "cluster")
# Long enough for a Cluster or Sentinel election that had to wait for a fresh INFO.
PROMOTION_TIMEOUT_S = 30.0


def replication_of(cluster: Cluster, nemesis: str) -> Replication:
    """The run's replicated topology, or :class:`NemesisUnavailable` saying why not."""
    replication = getattr(cluster, "replication", None)
    if isinstance(replication, SentinelGroup | LocalCluster):
        return replication
    topology = getattr(cluster, "topology", "single")
    raise NemesisUnavailable(
        f"{nemesis} needs topology=replicated or topology=cluster, not {topology}"
    )


def promotion_detail(promotion: Promotion, behind_since: float) -> dict[str, Any]:
    old, new = promotion.old_offset, promotion.promoted_offset
    return {
        # The driver records fault-start once inject returns, after the promotion: the
        # fault began earlier, at the pause or the strike (checkers and plots read this).
        "began_at": behind_since,
        "struck_at": promotion.struck_at,
        "behind_since": behind_since,
        "old_primary": promotion.old.host_port,
        "promoted": promotion.promoted.host_port,
        "promoted_at": promotion.promoted_at,
        "promotion_s": promotion.promotion_s,
        "old_offset": old,
        "promoted_offset": new,
        # A lower bound: the old primary may have taken more writes after its offset was read.
        "missing_bytes": max(0, old - new) if old is not None and new is not None else None,
        # In a Cluster only the keys of these slots were on the struck master.
        **({"struck_slots": [list(r) for r in promotion.slots]} if promotion.slots else {}),
    }


def rejoiner(
    replication: Replication, server: RedisServer, clock: Clock
) -> Callable[[], dict[str, Any]]:
    """The heal: ``server`` rejoins as a replica in sync; the ``fault-end`` op says when
    and of which primary (the promoted one, unless the topology failed over again)."""

    def heal() -> dict[str, Any]:
        with replication.strikes:
            rejoin = replication.rejoin(server, clock=clock)
        return {
            "rejoined": server.host_port,
            "rejoined_at": rejoin.at,
            "primary_at_heal": rejoin.primary.host_port,
        }

    return heal


def struck_primary(
    replication: Replication,
    ctx: NemesisContext,
    eligible: Callable[[RedisServer], bool] = lambda _: True,
) -> RedisServer | None:
    """An ``eligible`` primary to strike (drawn at random in a Cluster), or None when the
    run is ending or none has a running replica left to promote (earlier faults not
    healed yet). Call holding ``replication.strikes``."""
    if ctx.stop.is_set():
        return None
    primaries = [p for p in replication.primaries() if eligible(p) and replication.replicas_of(p)]
    return ctx.rng.choice(primaries) if primaries else None


@dataclass(frozen=True)
class KillPrimary(Nemesis):
    """SIGKILL a primary (in a Cluster, a master drawn at random), wait for a replica to
    be promoted; heal: the old primary rejoins as a replica and catches up."""

    @property
    def name(self) -> str:
        return "kill_primary"

    def setup(self, cluster: Cluster) -> None:
        replication_of(cluster, self.name)

    def inject(self, ctx: NemesisContext) -> Fault | None:
        replication = replication_of(ctx.cluster, self.name)
        clock = ctx.cluster.clock.now
        with replication.strikes:
            primary = struck_primary(replication, ctx)
            if primary is None:
                return None
            promotion = replication.kill_primary(primary, clock=clock, timeout=PROMOTION_TIMEOUT_S)
        return Fault(
            targets=(),
            detail=promotion_detail(promotion, behind_since=promotion.struck_at),
            healer=rejoiner(replication, promotion.old, clock),
        )


@dataclass(frozen=True)
class LagReplica(Nemesis):
    """SIGSTOP a primary's replicas for ``lag_s`` while the load goes on, SIGKILL the
    primary, and SIGCONT the replicas at once, so one of them, behind, is promoted."""

    lag_s: float = 1.0

    def __post_init__(self) -> None:
        if self.lag_s <= 0:
            raise ValueError(f"lag_s must be > 0, not {self.lag_s}")

    @property
    def name(self) -> str:
        return "lag_replica"

    def setup(self, cluster: Cluster) -> None:
        replication_of(cluster, self.name)

    def inject(self, ctx: NemesisContext) -> Fault | None:
        replication = replication_of(ctx.cluster, self.name)
        clock = ctx.cluster.clock.now
        with replication.strikes:
            primary = struck_primary(replication, ctx)
            if primary is None:
                return None
            paused = replication.pause_replicas(primary, clock=clock)
            try:
                # A stopped replica's kernel would still buffer the stream and apply it on
                # SIGCONT; closing its link now makes it lag for real, as a slow or
                # partitioned replica would.
                with primary.client(socket_timeout=2) as c:
                    c.client_kill_filter(_type="replica")
                if ctx.stop.wait(self.lag_s):  # the run is ending: no strike
                    return None

                # The replicas resume only after the kill: what the primary had not sent
                # them by then is gone, as a lagging replica's would be.
                def strike(server: RedisServer) -> None:
                    server.kill()
                    paused.resume()

                promotion = replication.kill_primary(
                    primary, clock=clock, strike=strike, timeout=PROMOTION_TIMEOUT_S
                )
            finally:
                paused.resume()
        behind = min(paused.offsets.values(), default=None)
        old = promotion.old_offset
        return Fault(
            targets=(),
            detail={
                **promotion_detail(promotion, behind_since=paused.paused_at),
                "paused": [s.host_port for s in paused.servers],
                "paused_offsets": paused.offsets,
                "lag_bytes": old - behind if old is not None and behind is not None else None,
            },
            healer=rejoiner(replication, promotion.old, clock),
        )


@dataclass(frozen=True)
class FailoverPowerLoss(Nemesis):
    """Cut the power under a primary (SIGKILL, then its disk drops every unsynced write),
    wait for a replica to be promoted; heal: the old primary starts again on what its
    disk kept and rejoins as a replica.

    Every server that may be struck keeps its files on a power-loss disk of its own:
    ``before_start`` asks the run's Cluster for it (``node_power_disks``), which calls
    ``put_on_power_disks()`` before the topology starts; that is each server of a
    Sentinel group, the first shard of a Cluster. Needs FUSE; without it the nemesis is
    unavailable, saying why.
    """

    @property
    def name(self) -> str:
        return "failover_power_loss"

    def before_start(self, cluster: Cluster) -> None:
        topology = getattr(cluster, "topology", "single")
        if topology not in REPLICATED_TOPOLOGIES:
            raise NemesisUnavailable(
                f"{self.name} needs topology=replicated or topology=cluster, not {topology}"
            )
        ok, why = fuse_available()
        if not ok:
            raise NemesisUnavailable(f"{self.name} needs the FUSE power-loss filesystem: {why}")
        cluster.node_power_disks = True

    def setup(self, cluster: Cluster) -> None:
        replication = replication_of(cluster, self.name)
        if not replication.disks:
            raise NemesisUnavailable(
                f"{self.name}: the run's nodes are not on power-loss disks "
                "(Cluster.node_power_disks was not honoured when the topology started)"
            )

    def inject(self, ctx: NemesisContext) -> Fault | None:
        replication = replication_of(ctx.cluster, self.name)
        clock = ctx.cluster.clock.now
        dropped: list[DropReport] = []
        with replication.strikes:
            primary = struck_primary(replication, ctx, lambda p: replication.disk_of(p) is not None)
            disk = replication.disk_of(primary) if primary is not None else None
            if primary is None or disk is None:
                return None
            fs = disk.fs

            # The drop comes before the reap, as in Cluster.power_loss: a thread stuck in
            # fsync must not get to finish it and make its data durable.
            def strike(server: RedisServer) -> None:
                if server.pid is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(server.pid, signal.SIGKILL)
                try:
                    dropped.append(fs.drop_unsynced())
                finally:
                    server.kill()

            promotion = replication.kill_primary(
                primary, clock=clock, strike=strike, timeout=PROMOTION_TIMEOUT_S
            )
        return Fault(
            targets=(),
            detail={
                **promotion_detail(promotion, behind_since=promotion.struck_at),
                **drop_detail(dropped[0]),
            },
            healer=rejoiner(replication, promotion.old, clock),
        )
