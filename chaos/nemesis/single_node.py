"""The backstop of the faults that act on one redis-server (kill it, fill it, slow its
disk, route its clients through Toxiproxy): on a replicated or cluster topology they
are unavailable, and say why, instead of acting on a server that is not the data's."""

from __future__ import annotations

from duetime.chaos.system.cluster import Cluster

from .base import NemesisUnavailable


def require_single_node(cluster: Cluster, nemesis: str) -> None:
    """Raise NemesisUnavailable unless the run's Redis is one redis-server."""
    why = cluster.single_node_only(nemesis)
    if why:
        raise NemesisUnavailable(why)
