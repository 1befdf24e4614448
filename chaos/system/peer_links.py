"""Peer links: the nodes of a Sentinel group reach each other only through Toxiproxy.

Each data node gets one proxy, its *peer link*, and announces the proxy's address
(``replica-announce-ip``/``replica-announce-port``). A replica reports the announced
address to its primary, whose ``INFO replication`` lists it; Sentinels learn replicas
from that list, and monitor the primary at the address they were given. So when
replicas replicate from the primary's peer link and Sentinels are told the primary's
peer link, every replication and Sentinel connection to a node goes through that
node's proxy, after a failover too (Sentinel reconfigures replicas with the addresses
it knows). Sentinels talk to each other directly.

Disabling a node's peer link cuts it off from its replicas, its primary and every
Sentinel, while clients that know the node's own address still reach it: the
minority-primary partition. A :class:`DirectLink` is such an address that stays
fixed while what it forwards to can change, so clients configured once can be kept on
whichever node is the primary.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from dataclasses import dataclass

import requests

from duetime.chaos.toxiproxy.client import ToxiproxyClient, ToxiproxyError, toxiproxy_endpoint

from .redis_server import RedisServer


@dataclass(frozen=True)
class Link:
    """The proxy in front of one node and the address it listens on."""

    proxy: str
    host: str
    port: int


class DirectLink:
    """A proxy at a fixed address forwarding to one node, re-pointable (``point_at``)."""

    def __init__(self, api: ToxiproxyClient, proxy: str, host: str, port: int) -> None:
        self.api = api
        self.proxy = proxy
        self.url = f"redis://{host}:{port}/0"
        self.target: RedisServer | None = None

    def point_at(self, server: RedisServer) -> None:
        """Forward to ``server`` from now on; a change closes every connection through it,
        so its clients reconnect to ``server``."""
        if server is not self.target:
            self.api.set_upstream(self.proxy, server.host_port)
            self.target = server


class PeerLinks:
    """The peer links of one group on one Toxiproxy (``$TOXIPROXY_URL`` or an embedded
    one): ``start()``, ``attach`` each node as it starts, ``cut``/``restore``, ``close()``."""

    def __init__(self) -> None:
        self.tag = uuid.uuid4().hex[:8]
        self._links: dict[int, tuple[RedisServer, Link]] = {}
        self._direct: dict[str, DirectLink] = {}
        self._resources = contextlib.ExitStack()
        self._api: ToxiproxyClient | None = None
        self._lock = threading.Lock()

    @property
    def api(self) -> ToxiproxyClient:
        if self._api is None:
            raise RuntimeError("start() the peer links first")
        return self._api

    def start(self) -> PeerLinks:
        if self._api is None:
            self._api = ToxiproxyClient(self._resources.enter_context(toxiproxy_endpoint()))
        return self

    def attach(self, server: RedisServer, primary: RedisServer | None = None) -> Link:
        """Put a proxy in front of the running ``server`` and make it announce the proxy;
        then, if ``primary`` is given, make it replicate from ``primary``'s peer link.
        The settings also go into ``server.extra``, so a restart keeps them."""
        info = self.api.create_proxy(f"duetime_peer_{self.tag}_{server.port}", server.host_port)
        link = Link(info.name, info.host, info.port)
        with self._lock:
            self._links[server.port] = (server, link)
        settings = [("replica-announce-ip", link.host), ("replica-announce-port", link.port)]
        with server.client(socket_timeout=5) as client:
            for name, value in settings:
                client.config_set(name, value)
            if primary is not None:
                upstream = self.link(primary)
                client.replicaof(upstream.host, upstream.port)
                settings.append(("replicaof", f"{upstream.host} {upstream.port}"))
        server.extra.extend(f"{name} {value}" for name, value in settings)
        return link

    def link(self, server: RedisServer) -> Link:
        with self._lock:
            found = self._links.get(server.port)
        if found is None or found[0] is not server:
            raise LookupError(f"{server.host_port} has no peer link")
        return found[1]

    def server_at(self, host: str, port: int) -> RedisServer | None:
        """The node whose peer link listens on ``host:port`` (as Sentinels name it)."""
        with self._lock:
            for server, link in self._links.values():
                if (link.host, link.port) == (host, port):
                    return server
        return None

    def cut(self, server: RedisServer) -> None:
        """Disable ``server``'s peer link: its connections close, new ones are refused."""
        self.api.set_enabled(self.link(server).proxy, False)

    def restore(self, server: RedisServer) -> None:
        self.api.set_enabled(self.link(server).proxy, True)

    def is_cut(self, server: RedisServer) -> bool:
        return not self.api.proxy(self.link(server).proxy).enabled

    def direct(self, name: str, server: RedisServer) -> DirectLink:
        """The direct link called ``name`` (made once, first pointing at ``server``)."""
        with self._lock:
            if name in self._direct:
                return self._direct[name]
            info = self.api.create_proxy(f"duetime_direct_{self.tag}_{name}", server.host_port)
            direct = DirectLink(self.api, info.name, info.host, info.port)
            direct.target = server
            self._direct[name] = direct
            return direct

    def close(self) -> None:
        """Delete every proxy (best effort) and stop an embedded Toxiproxy."""
        with self._lock:
            proxies = [link.proxy for _, link in self._links.values()]
            proxies += [direct.proxy for direct in self._direct.values()]
            self._links, self._direct = {}, {}
        if self._api is not None:
            for proxy in proxies:
                with contextlib.suppress(ToxiproxyError, requests.RequestException):
                    self._api.delete_proxy(proxy)
        self._api = None
        self._resources.close()
