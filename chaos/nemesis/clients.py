"""Which clients a network nemesis hits, and undoing half-applied changes.

A group names clients by role: ``workers``, ``producers``, ``cron``, or ``clients``
(all of them). Network nemeses act on the Toxiproxy proxies of the clients they
pick, only through its HTTP API (``cluster.routes.api``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Literal

from duetime.chaos.system.cluster import CRON_ROLE, PRODUCER_ROLE, WORKER_ROLE, Cluster
from duetime.chaos.system.network import ClientRoutes
from duetime.chaos.toxiproxy.client import ToxiproxyClient

from .base import NemesisContext

Group = Literal["workers", "producers", "cron", "clients"]
GROUP_ROLES: dict[str, str | None] = {
    "workers": WORKER_ROLE,
    "producers": PRODUCER_ROLE,
    "cron": CRON_ROLE,
    "clients": None,
}

Direction = Literal["both", "upstream", "downstream"]
# Toxiproxy's streams: upstream is client to Redis, downstream Redis to client.
STREAMS: dict[str, tuple[str, ...]] = {
    "both": ("upstream", "downstream"),
    "upstream": ("upstream",),
    "downstream": ("downstream",),
}


def check_group(group: str, count: int | None) -> None:
    if group not in GROUP_ROLES:
        raise ValueError(f"group must be one of {', '.join(GROUP_ROLES)}, not {group!r}")
    if count is not None and count < 1:
        raise ValueError(f"count must be at least 1 (or None for the whole group), not {count}")


def check_direction(stream: str) -> None:
    if stream not in STREAMS:
        raise ValueError(f"stream must be one of {', '.join(STREAMS)}, not {stream!r}")


def routes_of(cluster: Cluster) -> ClientRoutes:
    """The cluster's routes; a network nemesis makes them in its ``setup``."""
    if cluster.routes is None:
        raise RuntimeError("clients are not routed through Toxiproxy: call setup() first")
    return cluster.routes


def pick_clients(ctx: NemesisContext, group: str, count: int | None) -> list[str]:
    """``count`` clients of ``group`` (all if None), chosen with the nemesis's rng."""
    clients = routes_of(ctx.cluster).clients(GROUP_ROLES[group])
    if count is None or count >= len(clients):
        return clients
    return sorted(ctx.rng.sample(clients, count))


class Undo:
    """Changes applied so far, undone newest first; if applying fails half-way,
    ``undo_on_error`` puts back what was done before re-raising."""

    def __init__(self) -> None:
        self._steps: list[Callable[[], None]] = []

    def add(self, step: Callable[[], None]) -> None:
        self._steps.append(step)

    def __call__(self) -> None:
        steps, self._steps = self._steps, []
        errors: list[BaseException] = []
        for step in reversed(steps):
            try:
                step()
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]

    def __enter__(self) -> Undo:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if exc is not None:
            self()


def add_toxic_to_each(
    undo: Undo,
    api: ToxiproxyClient,
    proxies: Sequence[str],
    direction: str,
    toxic: str,
    *,
    name: str,
    attributes: Mapping[str, int],
    toxicity: float = 1.0,
) -> None:
    """Add ``toxic`` on each stream of ``direction`` of every proxy; ``undo`` removes them."""
    tag = uuid.uuid4().hex[:6]  # toxic names are unique per proxy
    for proxy in proxies:
        for stream in STREAMS[direction]:
            added = api.add_toxic(
                proxy,
                toxic,
                stream=stream,
                name=f"{name}_{stream}_{tag}",
                toxicity=toxicity,
                attributes=dict(attributes),
            )
            undo.add(partial(api.remove_toxic, proxy, added))
