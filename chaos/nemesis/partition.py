"""Network partition between Redis and a group of its clients, through Toxiproxy's API.

``how="blackhole"``: a ``timeout`` toxic with timeout 0 on each cut stream. Data
vanishes and connections hang until the client's own timeout, as when packets are
dropped; removing the toxic closes the connections it held. ``stream`` cuts one
direction only: ``downstream`` lets requests reach Redis but loses the replies
(writes happen, their callers cannot know). ``how="refuse"``: the proxies are
disabled: live connections are closed and new ones refused, as when a host is
down. Heal: remove the toxics, or enable the proxies again.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Literal

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

How = Literal["blackhole", "refuse"]
HOWS = ("blackhole", "refuse")


@dataclass(frozen=True)
class Partition(Nemesis):
    """Cut ``count`` clients of ``group`` (all if None) off from Redis for the hold time."""

    group: Group = "workers"
    count: int | None = None
    how: How = "blackhole"
    stream: Direction = "both"

    def __post_init__(self) -> None:
        check_group(self.group, self.count)
        check_direction(self.stream)
        if self.how not in HOWS:
            raise ValueError(f"how must be one of {', '.join(HOWS)}, not {self.how!r}")
        if self.how == "refuse" and self.stream != "both":
            raise ValueError("a refused connection is cut both ways: use how='blackhole'")

    @property
    def name(self) -> str:
        suffix = "_refused" if self.how == "refuse" else ""
        if self.stream != "both":
            suffix += f"_{self.stream}"
        return f"partition_{self.group}{suffix}"

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
            if self.how == "refuse":
                for proxy in proxies:
                    api.set_enabled(proxy, False)
                    undo.add(partial(api.set_enabled, proxy, True))
            else:
                add_toxic_to_each(
                    undo,
                    api,
                    proxies,
                    self.stream,
                    "timeout",
                    name=self.name,
                    attributes={"timeout": 0},
                )
        return Fault(
            targets=tuple(clients),
            detail={"how": self.how, "stream": self.stream, "proxies": len(proxies)},
            healer=undo,
        )
