"""Partition the primary: cut it off from its replicas and Sentinels while some clients
still reach it (the minority primary, Jepsen's classic), then heal.

Needs the run's Sentinel group with peer links (``before_start`` asks the cluster for
them: ``Cluster.peer_links``). The primary's peer link is disabled, so its replicas
lose it and every Sentinel sees it down and promotes a replica, while the clients named
in ``side`` reach the old primary through a direct link (a proxy of their own, pinned
as their URL at ``setup``) and keep writing to it. Those writes are acknowledged and
reach no replica (``WAIT`` returns 0). Heal: the peer link is enabled again, Sentinel
demotes the old primary (``role:slave``, 4 Sentinel publish periods after it sees it
again: 8 s by default) and it resyncs from the new one, discarding what it accepted
alone; the direct link then follows the new primary. A client left on the demoted
primary meanwhile gets READONLY: a refused write.

``SentinelGroup(min_replicas_to_write=1)`` bounds the damage: a primary that has lost
its replicas refuses writes (NOREPLICAS) once none acknowledged within
``min_replicas_max_lag`` seconds (at once here, as the cut closes the replicas'
connections).

Like the other replication nemeses it takes the group's turn (``SentinelGroup.strikes``)
for the whole cut and the whole heal, and strikes nothing once the run is ending or while
the primary has no running replica to promote.

Records (``fault-start``): ``struck_at`` (the cut), ``behind_since`` (= the cut),
``old_primary``, ``promoted`` (``host:port``), ``promoted_at`` (every Sentinel names the
promoted replica, which says ``role:master``), ``promotion_s``, ``side``; at heal
(``fault-end``): ``demoted_at`` (the old primary says ``role:slave``).
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import redis

from duetime.chaos.system.cluster import Cluster
from duetime.chaos.system.peer_links import PeerLinks
from duetime.chaos.system.redis_server import RedisServer
from duetime.chaos.system.sentinel_group import SentinelGroup

from .base import Fault, FaultSchedule, Nemesis, NemesisContext, NemesisUnavailable
from .replication import struck_primary

# The producer that stays with the old primary: others keep asking the Sentinels.
SIDE = ("producer-0",)
CLIENT_NAME = re.compile(r"(producer|worker|cron|dispatcher)-\d+")
# Name of the direct link the side's clients use.
DIRECT_LINK = "primary-side"
# Sentinel needs down-after (2 s here) plus an election; give it ample time.
PROMOTION_TIMEOUT_S = 30.0
# Sentinel demotes a returning old primary after 4 publish periods (8 s by default).
DEMOTION_TIMEOUT_S = 45.0
POLL_S = 0.05

T = TypeVar("T")


class PartitionTimeout(RuntimeError):
    """Sentinels did not promote, or the old primary did not rejoin, in time."""


@dataclass(frozen=True)
class PartitionPrimary(Nemesis):
    """Cut the primary off from its replicas and Sentinels; ``side`` still reaches it."""

    # A cut, a promotion and a demotion take about 15 s: one fault at a time, spaced.
    schedule: FaultSchedule = field(
        default_factory=lambda: FaultSchedule(
            first_s=3.0, every_s=25.0, jitter_s=1.0, hold_s=(1.0, 3.0)
        )
    )
    side: tuple[str, ...] = SIDE
    promotion_timeout_s: float = PROMOTION_TIMEOUT_S
    demotion_timeout_s: float = DEMOTION_TIMEOUT_S

    def __post_init__(self) -> None:
        wrong = [c for c in self.side if not isinstance(c, str) or not CLIENT_NAME.fullmatch(c)]
        if isinstance(self.side, str) or wrong:
            raise ValueError(
                "side must be a tuple of client names such as 'producer-0' or 'worker-1', "
                f"not {self.side!r}"
            )

    @property
    def name(self) -> str:
        return "partition_primary"

    def before_start(self, cluster: Cluster) -> None:
        cluster.peer_links = True

    def setup(self, cluster: Cluster) -> None:
        group, links = _group_with_links(cluster)
        direct = links.direct(DIRECT_LINK, group.primary())
        for client in self.side:
            cluster.pin_url(client, direct.url)

    def inject(self, ctx: NemesisContext) -> Fault | None:
        group, links = _group_with_links(ctx.cluster)
        clock = ctx.cluster.clock
        # The group's turn, as the other replication nemeses take it: a strike of theirs
        # (or its heal) must not interleave with this cut.
        with group.strikes:
            old = struck_primary(group, ctx)
            if old is None:
                return None
            direct = links.direct(DIRECT_LINK, old)
            direct.point_at(old)
            struck_at = clock.now()
            links.cut(old)
            try:
                promoted = _until(
                    self.promotion_timeout_s,
                    "the Sentinels to promote a replica",
                    lambda: _other(group.agreed_primary(), old),
                )
            except BaseException:
                links.restore(old)
                raise
            promoted_at = clock.now()

        def heal() -> dict[str, Any]:
            with group.strikes:
                links.restore(old)
                _until(
                    self.demotion_timeout_s,
                    "the old primary to be demoted",
                    lambda: _is(old, "slave"),
                )
                demoted_at = clock.now()
                _until(self.demotion_timeout_s, "the old primary to resync", lambda: _synced(old))
                direct.point_at(group.primary())
            return {"demoted_at": demoted_at}

        return Fault(
            targets=(),
            detail={
                "struck_at": struck_at,
                "behind_since": struck_at,
                "old_primary": old.host_port,
                "promoted": promoted.host_port,
                "promoted_at": promoted_at,
                "promotion_s": round(promoted_at - struck_at, 3),
                "side": list(self.side),
            },
            healer=heal,
        )


def _replication(cluster: Cluster) -> object:
    # The run's replication system (``Cluster.replication``: a SentinelGroup, a
    # LocalCluster, or None on a single server).
    return getattr(cluster, "replication", None)


def _group_with_links(cluster: Cluster) -> tuple[SentinelGroup, PeerLinks]:
    group = _replication(cluster)
    if not isinstance(group, SentinelGroup):
        raise NemesisUnavailable("partition_primary needs topology=replicated (Sentinel)")
    if group.links is None:
        raise NemesisUnavailable(
            "partition_primary needs the Sentinel group started with peer_links=True"
        )
    return group, group.links


def _other(server: RedisServer | None, old: RedisServer) -> RedisServer | None:
    return server if server is not None and server is not old else None


def _replication_info(server: RedisServer) -> dict[str, Any]:
    with server.client(socket_timeout=2, decode_responses=True) as client:
        return {str(k): v for k, v in client.info("replication").items()}


def _is(server: RedisServer, role: str) -> bool | None:
    return _replication_info(server).get("role") == role or None


def _synced(server: RedisServer) -> bool | None:
    return _replication_info(server).get("master_link_status") == "up" or None


def _until(timeout_s: float, what: str, probe: Callable[[], T | None]) -> T:
    """Poll ``probe`` until it returns something; a Redis error counts as not yet."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(redis.RedisError, LookupError):
            found = probe()
            if found is not None:
                return found
        time.sleep(POLL_S)
    raise PartitionTimeout(f"partition_primary: timed out after {timeout_s:g} s waiting for {what}")
