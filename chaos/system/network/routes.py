"""Every client of the Redis under test reaches it through a Toxiproxy proxy of its own.

A client is a worker or cron-scheduler process, or a producer thread, named as in
the history (``worker-0``, ``cron-1``, ``producer-0``). With one proxy each, a
nemesis can cut off or slow down any set of clients, and nothing else, through
Toxiproxy's HTTP API (:class:`duetime.chaos.toxiproxy.client.ToxiproxyClient`).
Proxy names carry a tag of the run, so runs sharing one real Toxiproxy keep apart.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from dataclasses import dataclass

import requests

from duetime.chaos.system.backends import ProxySite
from duetime.chaos.toxiproxy.client import ToxiproxyClient, ToxiproxyError


class RouteError(RuntimeError):
    """A proxy could not be made (the Toxiproxy ran out of slots, say)."""


@dataclass(frozen=True)
class Route:
    """The proxy between one client and Redis, and the URL the client uses."""

    client: str
    role: str
    proxy: str
    slot: int
    url: str


class ClientRoutes:
    """The proxies of one run, on the Toxiproxy at ``site``, all forwarding to ``upstream``."""

    def __init__(self, site: ProxySite, upstream: str) -> None:
        self.site = site
        self.upstream = upstream
        self.api = ToxiproxyClient(site.api_url)
        self.tag = uuid.uuid4().hex[:8]
        self._routes: dict[str, Route] = {}
        self._lock = threading.Lock()

    def add(self, client: str, role: str) -> Route:
        """Create the proxy of ``client`` (once) and return its route."""
        with self._lock:
            if client in self._routes:
                return self._routes[client]
            slot = len(self._routes)
            if self.site.slots is not None and slot >= self.site.slots:
                raise RouteError(
                    f"the Toxiproxy holds {self.site.slots} proxies; {client} is one more"
                )
            name = f"duetime_{self.tag}_{client}"
            info = self.api.create_proxy(name, self.upstream, listen=self.site.listen(slot))
            host, port = self.site.client_address(info, slot)
            route = Route(client, role, name, slot, f"redis://{host}:{port}/0")
            self._routes[client] = route
            return route

    def get(self, client: str) -> Route | None:
        with self._lock:
            return self._routes.get(client)

    def clients(self, role: str | None = None) -> list[str]:
        """The clients with a route, those of ``role`` only if given."""
        with self._lock:
            return sorted(c for c, r in self._routes.items() if role is None or r.role == role)

    def proxies(self, clients: list[str] | tuple[str, ...]) -> list[str]:
        """The proxy names of ``clients``."""
        with self._lock:
            return [self._routes[c].proxy for c in clients]

    def close(self) -> None:
        """Delete every proxy of this run (best effort: the server may be gone already)."""
        with self._lock:
            routes, self._routes = list(self._routes.values()), {}
        for route in routes:
            with contextlib.suppress(ToxiproxyError, requests.RequestException):
                self.api.delete_proxy(route.proxy)
