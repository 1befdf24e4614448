"""The embedded server: the HTTP API and the proxies, on background threads."""

from __future__ import annotations

import random
import threading
from types import TracebackType

from duetime.chaos.toxiproxy.addresses import join_host_port
from duetime.chaos.toxiproxy.api import Api
from duetime.chaos.toxiproxy.errors import ApiError, ListenError
from duetime.chaos.toxiproxy.httpd import ApiHttpServer
from duetime.chaos.toxiproxy.loop import LoopThread
from duetime.chaos.toxiproxy.registry import Registry

DEFAULT_PORT = 8474


class ToxiproxyServer:
    """A Toxiproxy-compatible server running in this process.

    ``start()`` binds the API on ``host:port`` (port 0 picks a free one; see ``url``)
    and returns at once; ``stop()`` closes the API, every proxy listener and every
    proxied connection, and joins its threads. Also a context manager. ``seed``
    makes toxicity draws, jitter and slicing reproducible.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = DEFAULT_PORT, *, seed: int | None = None
    ) -> None:
        self._host = host
        self._port = port
        self._seed = seed
        self._loop: LoopThread | None = None
        self._registry: Registry | None = None
        self._http: ApiHttpServer | None = None
        self._serving: threading.Thread | None = None

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        """The API's port; the real one once started with port 0."""
        return self._port

    @property
    def url(self) -> str:
        return f"http://{join_host_port(self._host, self._port)}"

    @property
    def running(self) -> bool:
        return self._http is not None

    def start(self) -> ToxiproxyServer:
        if self._http is not None:
            return self
        loop = LoopThread("toxiproxy-proxies")
        loop.start()
        registry = Registry(random.Random(self._seed))
        try:
            http = ApiHttpServer((self._host, self._port), Api(registry, loop))
        except OSError:
            loop.stop()
            raise
        self._loop, self._registry, self._http = loop, registry, http
        self._port = int(http.server_address[1])
        self._serving = threading.Thread(
            target=http.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="toxiproxy-api",
            daemon=True,  # stop() joins it; a server never stopped must not block exit
        )
        self._serving.start()
        return self

    def stop(self) -> None:
        """Close the API and every proxy; no listener or thread of this server is left."""
        http, loop, serving, registry = self._http, self._loop, self._serving, self._registry
        self._http = self._loop = self._serving = self._registry = None
        if http is not None:
            http.shutdown()
            http.close()
        if serving is not None:
            serving.join()
        if loop is not None:
            if registry is not None:
                loop.run(registry.shutdown())
            loop.stop()

    def populate(self, config: bytes) -> list[dict[str, object]]:
        """Create or replace proxies from a JSON list, as ``POST /populate`` does.

        Raises ValueError with the API's error message if the list is refused.
        """
        if self._loop is None or self._registry is None:
            raise RuntimeError("start() the server first")
        try:
            result = self._loop.run(self._registry.populate(config))
        except (ApiError, ListenError) as exc:
            raise ValueError(str(exc)) from None
        if result.error is not None:
            raise ValueError(result.error.message)
        return result.proxies

    def __enter__(self) -> ToxiproxyServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
