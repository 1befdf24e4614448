"""A small typed façade over ``toxiproxy-python`` for the testbed.

``toxiproxy_endpoint()`` yields the Toxiproxy to use: ``$TOXIPROXY_URL`` if set (the
real server, used unchanged), else an embedded server it starts and stops.
``ToxiproxyClient`` creates proxies and adds and removes toxics through the
``toxiproxy-python`` client, whose host and port are class attributes shared by the
whole process; every call points them at this client's server under one lock.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import toxiproxy
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists

from duetime.chaos.toxiproxy.addresses import split_host_port
from duetime.chaos.toxiproxy.server import ToxiproxyServer

URL_VARIABLE = "TOXIPROXY_URL"
REQUEST_TIMEOUT_S = 30.0

# toxiproxy-python keeps its server address in class attributes; calls from different
# clients (or threads) must not interleave between pointing them and using them.
_CONSUMER_LOCK = threading.Lock()


class ToxiproxyError(RuntimeError):
    """The server refused a request; ``status`` is its HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ProxyInfo:
    """A proxy as the server reports it."""

    name: str
    listen: str
    upstream: str
    enabled: bool

    @property
    def host(self) -> str:
        """Where clients connect; a wildcard listen address means loopback."""
        host = split_host_port(self.listen)[0]
        return {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)

    @property
    def port(self) -> int:
        return int(split_host_port(self.listen)[1])


@dataclass(frozen=True)
class ToxicInfo:
    """A toxic as the server reports it."""

    name: str
    type: str
    stream: str
    toxicity: float
    attributes: Mapping[str, Any]


def _proxy_info(values: Mapping[str, Any]) -> ProxyInfo:
    return ProxyInfo(
        name=str(values["name"]),
        listen=str(values["listen"]),
        upstream=str(values["upstream"]),
        enabled=bool(values["enabled"]),
    )


class ToxiproxyClient:
    """Talks to the Toxiproxy at ``url`` (``http://host:port``) through toxiproxy-python."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"expected http://host:port, not {url!r}")
        self.url = url
        self._host = parts.hostname
        self._port = parts.port

    @contextmanager
    def _consumer(self) -> Iterator[toxiproxy.Toxiproxy]:
        with _CONSUMER_LOCK:
            server = toxiproxy.Toxiproxy()
            server.update_api_consumer(self._host, self._port)
            try:
                yield server
            except ProxyExists as exc:
                raise ToxiproxyError(_message(exc), 409) from exc
            except NotFound as exc:
                raise ToxiproxyError(_message(exc), 404) from exc
            except InvalidToxic as exc:
                raise ToxiproxyError(_message(exc), 400) from exc

    def _proxy(self, name: str) -> toxiproxy.Proxy:
        # Only the name matters to the library's per-proxy calls.
        return toxiproxy.Proxy(name=name, upstream="", enabled=True, listen="")

    def version(self) -> str:
        """The server's version (servers before 2.2 answer plain text, later ones JSON)."""
        with self._consumer():
            response = APIConsumer.get("/version", timeout=REQUEST_TIMEOUT_S)
        if not response.ok:
            raise ToxiproxyError(response.text.strip(), response.status_code)
        try:
            return str(response.json()["version"])
        except (ValueError, KeyError, TypeError):
            return str(response.text.strip())

    def create_proxy(
        self, name: str, upstream: str, *, listen: str = "127.0.0.1:0", enabled: bool = True
    ) -> ProxyInfo:
        """Create a proxy; raises ToxiproxyError (409 if it exists, 500 if it cannot listen)."""
        body = {"name": name, "upstream": upstream, "listen": listen, "enabled": enabled}
        with self._consumer():
            # The library's create() turns a 500 into a KeyError; ask through its consumer.
            response = APIConsumer.post("/proxies", json=body, timeout=REQUEST_TIMEOUT_S)
        if response.status_code != 201:
            raise ToxiproxyError(response.text.strip(), response.status_code)
        return _proxy_info(response.json())

    def proxies(self) -> dict[str, ProxyInfo]:
        with self._consumer() as server:
            found = server.proxies()
        return {
            name: ProxyInfo(p.name, p.listen, p.upstream, bool(p.enabled))
            for name, p in found.items()
        }

    def proxy(self, name: str) -> ProxyInfo:
        found = self.proxies().get(name)
        if found is None:
            raise ToxiproxyError(f"proxy {name!r} not found", 404)
        return found

    def delete_proxy(self, name: str) -> None:
        with self._consumer():
            self._proxy(name).destroy()

    def set_enabled(self, name: str, enabled: bool) -> None:
        """Enable, or disable: stop listening and close every connection through the proxy."""
        with self._consumer():
            proxy = self._proxy(name)
            if enabled:
                proxy.enable()
            else:
                proxy.disable()

    def set_upstream(self, name: str, upstream: str) -> ProxyInfo:
        """Point a proxy at another ``host:port``; the server closes its connections."""
        with self._consumer():
            response = APIConsumer.post(
                f"/proxies/{name}", json={"upstream": upstream}, timeout=REQUEST_TIMEOUT_S
            )
        if not response.ok:
            raise ToxiproxyError(response.text.strip(), response.status_code)
        return _proxy_info(response.json())

    def add_toxic(
        self,
        proxy: str,
        type: str,
        *,
        stream: str = "downstream",
        name: str | None = None,
        toxicity: float = 1.0,
        attributes: Mapping[str, int] | None = None,
    ) -> str:
        """Add a toxic; returns its name (``<type>_<stream>`` unless given)."""
        toxic_name = name or f"{type}_{stream}"
        with self._consumer():
            self._proxy(proxy).add_toxic(
                type=type,
                stream=stream,
                name=toxic_name,
                toxicity=toxicity,
                attributes=dict(attributes or {}),
            )
        return toxic_name

    def remove_toxic(self, proxy: str, name: str) -> None:
        with self._consumer():
            self._proxy(proxy).destroy_toxic(name)

    def toxics(self, proxy: str) -> list[ToxicInfo]:
        with self._consumer():
            found = self._proxy(proxy).toxics()
        return [
            ToxicInfo(t.name, t.type, t.stream, float(t.toxicity), dict(t.attributes))
            for t in found.values()
        ]

    def reset(self) -> None:
        """Enable every proxy and remove every toxic."""
        with self._consumer() as server:
            server.reset()


def _message(exc: Exception) -> str:
    raw = exc.args[0] if exc.args else b""
    return raw.decode(errors="replace").strip() if isinstance(raw, bytes) else str(raw)


@contextmanager
def toxiproxy_endpoint(
    environ: Mapping[str, str] | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[str]:
    """Yield the URL of the Toxiproxy to use.

    ``$TOXIPROXY_URL`` (from ``environ``, default ``os.environ``) if set, untouched;
    otherwise an embedded server started on ``host:port`` and stopped on exit.
    """
    configured = (os.environ if environ is None else environ).get(URL_VARIABLE, "").strip()
    if configured:
        yield configured.rstrip("/")
        return
    with ToxiproxyServer(host, port) as server:
        yield server.url
