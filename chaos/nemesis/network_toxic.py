"""A Toxiproxy toxic on the proxies of a group of clients: a slow, lossy or flaky network.

Any toxic type of Toxiproxy, one direction or both, through its HTTP API; the
constructors name the usual ones (``NetworkToxic.latency(200, jitter_ms=100)``).
What each does (Shopify/toxiproxy's README): ``latency`` delays data by
``latency`` +- ``jitter`` ms; ``reset_peer`` resets connections (TCP RST) ``timeout``
ms after data arrives; ``bandwidth`` caps a direction at ``rate`` KB/s;
``slow_close`` delays closing by ``delay`` ms; ``limit_data`` closes a connection
after ``bytes`` bytes; ``slicer`` cuts data into small pieces; ``timeout`` drops
data (see :class:`~duetime.chaos.nemesis.partition.Partition`). Heal: remove the toxics.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from duetime.chaos.system.cluster import Cluster

from .base import Fault, Nemesis, NemesisContext
from .clients import (
    Direction,
    Group,
    Undo,
    add_toxic_to_each,
    check_direction,
    check_group,
    pick_clients,
    routes_of,
)
from .single_node import require_single_node

# Each toxic type and the attributes it takes (all integers), as Toxiproxy defines them.
TOXIC_ATTRIBUTES: Mapping[str, tuple[str, ...]] = {
    "latency": ("latency", "jitter"),
    "bandwidth": ("rate",),
    "slow_close": ("delay",),
    "timeout": ("timeout",),
    "reset_peer": ("timeout",),
    "slicer": ("average_size", "size_variation", "delay"),
    "limit_data": ("bytes",),
}


@dataclass(frozen=True)
class NetworkToxic(Nemesis):
    """Add ``toxic`` with ``attributes`` on ``stream`` of the proxies of ``count`` clients
    of ``group`` (all if None) for the hold time; ``toxicity`` is the share of
    connections it applies to."""

    toxic: str = "latency"
    attributes: tuple[tuple[str, int], ...] = (("latency", 100), ("jitter", 50))
    stream: Direction = "both"
    group: Group = "clients"
    count: int | None = None
    toxicity: float = 1.0

    def __post_init__(self) -> None:
        check_group(self.group, self.count)
        check_direction(self.stream)
        known = TOXIC_ATTRIBUTES.get(self.toxic)
        if known is None:
            kinds = ", ".join(TOXIC_ATTRIBUTES)
            raise ValueError(f"toxic must be one of {kinds}, not {self.toxic!r}")
        for key, value in self.attributes:
            if key not in known:
                raise ValueError(f"{self.toxic} takes {', '.join(known)}, not {key!r}")
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{self.toxic}.{key} must be a non-negative int, not {value!r}")
        if not 0.0 <= self.toxicity <= 1.0:
            raise ValueError(f"toxicity must be within [0, 1], not {self.toxicity}")

    # -- the usual toxics ----------------------------------------------------

    @classmethod
    def latency(cls, latency_ms: int, jitter_ms: int = 0, **options: Any) -> NetworkToxic:
        return cls(
            toxic="latency", attributes=(("latency", latency_ms), ("jitter", jitter_ms)), **options
        )

    @classmethod
    def reset_peer(cls, timeout_ms: int = 0, **options: Any) -> NetworkToxic:
        return cls(toxic="reset_peer", attributes=(("timeout", timeout_ms),), **options)

    @classmethod
    def bandwidth(cls, rate_kb: int, **options: Any) -> NetworkToxic:
        return cls(toxic="bandwidth", attributes=(("rate", rate_kb),), **options)

    @classmethod
    def slow_close(cls, delay_ms: int, **options: Any) -> NetworkToxic:
        return cls(toxic="slow_close", attributes=(("delay", delay_ms),), **options)

    @classmethod
    def limit_data(cls, limit_bytes: int, **options: Any) -> NetworkToxic:
        return cls(toxic="limit_data", attributes=(("bytes", limit_bytes),), **options)

    # -- the nemesis ---------------------------------------------------------

    @property
    def name(self) -> str:
        name = self.toxic
        if self.group != "clients":
            name += f"_{self.group}"
        if self.stream != "both":
            name += f"_{self.stream}"
        return name

    def setup(self, cluster: Cluster) -> None:
        require_single_node(cluster, self.name)
        cluster.route_clients_through_toxiproxy()

    def inject(self, ctx: NemesisContext) -> Fault | None:
        clients = pick_clients(ctx, self.group, self.count)
        if not clients:
            return None
        routes = routes_of(ctx.cluster)
        api = routes.api
        proxies = routes.proxies(clients)
        with Undo() as undo:
            add_toxic_to_each(
                undo,
                api,
                proxies,
                self.stream,
                self.toxic,
                name=self.name,
                attributes=dict(self.attributes),
                toxicity=self.toxicity,
            )
        return Fault(
            targets=tuple(clients),
            detail={
                "toxic": self.toxic,
                "attributes": dict(self.attributes),
                "stream": self.stream,
                "toxicity": self.toxicity,
                "proxies": len(proxies),
            },
            healer=undo,
        )
