"""The testcontainers backend: Redis and the real Toxiproxy as containers.

For users with a Docker engine (``--backend testcontainers``). Redis runs from
``REDIS_IMAGE`` and Shopify's Toxiproxy from ``TOXIPROXY_IMAGE`` on a network of
the run's own; proxies reach Redis as ``redis:6379``. Every port is published on
this machine's loopback only, on a free port chosen here: Redis keeps its port
when its container is killed and started again (a Redis crash), and each proxy
slot has its port published when Toxiproxy starts. Workers, cron schedulers and
producers stay processes and threads of the testbed.

Not exercised on the development machine (no Docker engine answers there): the
tests only check that the backend refuses to start, saying why.
"""

from __future__ import annotations

import contextlib
import shlex
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import redis

from duetime.chaos.system.redis_server import Persistence, RedisStartError, free_port
from duetime.chaos.toxiproxy.client import ProxyInfo, ToxiproxyClient

from .base import Backend, BackendUnavailable, ProxySite, RedisNode
from .engine import docker_engine
from .images import (
    MAX_PROXY_SLOTS,
    PROXY_PORT_BASE,
    REDIS_ALIAS,
    REDIS_IMAGE,
    REDIS_PORT,
    TOXIPROXY_API_PORT,
    TOXIPROXY_IMAGE,
)

LOOPBACK = "127.0.0.1"
READY_POLL_S = 0.05
KILL_WAIT_S = 30
API_READY_S = 60.0


def redis_args(persistence: Persistence) -> list[str]:
    """redis-server's command line for ``persistence`` (the directives as ``--key value``)."""
    args = ["redis-server", "--port", str(REDIS_PORT), "--dir", "/data"]
    for line in persistence.directives():
        key, *values = shlex.split(line)
        args += [f"--{key}", *values]
    return args


def _publish_on_loopback(container: Any, port: int, host_port: int) -> None:
    # testcontainers' with_bind_ports binds every interface; the Docker SDK it hands
    # its port map to also takes (address, port), which keeps the port on loopback.
    container.ports[f"{port}/tcp"] = (LOOPBACK, host_port)


class RedisContainer:
    """A Redis container that behaves like the local ``RedisServer``."""

    def __init__(self, persistence: Persistence, network: Any, log_dir: Path) -> None:
        self.persistence = persistence
        self.host = LOOPBACK
        self.port = free_port(LOOPBACK)
        self.data_dir: Path | None = None
        self.binary = REDIS_IMAGE
        self._network = network
        self._log_dir = log_dir
        self._container: Any = None
        self._version: tuple[int, ...] = ()

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def version(self) -> tuple[int, ...]:
        return self._version

    @property
    def pid(self) -> int | None:
        """The redis-server process as the Docker host sees it, while it runs."""
        if not self.running:
            return None
        state = self._container.get_wrapped_container().attrs.get("State", {})
        return int(state.get("Pid") or 0) or None

    @property
    def running(self) -> bool:
        if self._container is None:
            return False
        wrapped = self._container.get_wrapped_container()
        wrapped.reload()
        return bool(wrapped.status == "running")

    def start(self, timeout: float = 30.0) -> RedisContainer:
        """Create and start the container, or start it again after a kill (same files)."""
        if self._container is None:
            from testcontainers.core.container import DockerContainer

            container = (
                DockerContainer(REDIS_IMAGE)
                .with_command(redis_args(self.persistence))
                .with_network(self._network)
                .with_network_aliases(REDIS_ALIAS)
            )
            _publish_on_loopback(container, REDIS_PORT, self.port)
            self._container = container.start()
        elif not self.running:
            self._container.get_wrapped_container().start()
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        client = redis.Redis(host=self.host, port=self.port, socket_timeout=1)
        try:
            while time.monotonic() < deadline:
                with contextlib.suppress(redis.ConnectionError, redis.TimeoutError):
                    info = client.info()
                    if not info.get("loading", 0):
                        version = str(info.get("redis_version", ""))
                        self._version = tuple(int(x) for x in version.split(".") if x.isdigit())
                        return
                time.sleep(READY_POLL_S)
        finally:
            client.close()
        raise RedisStartError(f"the Redis container did not answer within {timeout} s")

    def kill(self) -> None:
        """SIGKILL redis-server (the container's only process) and wait until it is gone."""
        if self._container is None:
            return
        wrapped = self._container.get_wrapped_container()
        wrapped.reload()
        if wrapped.status == "running":
            wrapped.kill(signal="SIGKILL")
            wrapped.wait(timeout=KILL_WAIT_S)

    def stop(self) -> None:
        """Keep the container's log in ``log_dir``, then remove the container."""
        if self._container is None:
            return
        container, self._container = self._container, None
        try:
            stdout, stderr = container.get_logs()
            self._log_dir.mkdir(parents=True, exist_ok=True)
            (self._log_dir / "redis.log").write_bytes(stdout + stderr)
        finally:
            container.stop()


@dataclass(frozen=True)
class PublishedProxySite:
    """A containerised Toxiproxy: proxy slot ``i`` listens on ``PROXY_PORT_BASE + i``
    inside it, published on ``published[i]`` of this machine's loopback."""

    api_url: str
    published: tuple[int, ...]

    @property
    def slots(self) -> int | None:
        return len(self.published)

    def listen(self, slot: int) -> str:
        return f"0.0.0.0:{PROXY_PORT_BASE + slot}"

    def client_address(self, proxy: ProxyInfo, slot: int) -> tuple[str, int]:
        return LOOPBACK, self.published[slot]


class TestcontainersBackend(Backend):
    """Redis and Shopify's Toxiproxy in containers on a network of the run's own."""

    __test__ = False  # not a pytest test class despite its name
    name: ClassVar[str] = "testcontainers"

    def __init__(self) -> None:
        ok, why = docker_engine()
        if not ok:
            raise BackendUnavailable(f"the testcontainers backend needs a Docker engine: {why}")
        self._network: Any = None

    def _run_network(self) -> Any:
        if self._network is None:
            from testcontainers.core.network import Network

            self._network = Network().create()
        return self._network

    def redis(
        self,
        persistence: Persistence,
        *,
        log_dir: Path,
        data_dir: Path | None = None,
        binary: str = "",
    ) -> RedisNode:
        if binary:
            raise BackendUnavailable(
                f"the testcontainers backend runs the {REDIS_IMAGE} image, not {binary}: "
                "other servers need the local backend"
            )
        if data_dir is not None:
            raise BackendUnavailable(
                "the testcontainers backend keeps Redis's files inside its container"
            )
        return RedisContainer(persistence, self._run_network(), log_dir)

    def toxiproxy(self, slots: int) -> AbstractContextManager[ProxySite]:
        if slots > MAX_PROXY_SLOTS:
            raise BackendUnavailable(
                f"a containerised Toxiproxy holds at most {MAX_PROXY_SLOTS} proxies, "
                f"{slots} were asked for"
            )
        return self._toxiproxy_container(slots)

    @contextmanager
    def _toxiproxy_container(self, slots: int) -> Iterator[ProxySite]:
        from testcontainers.core.container import DockerContainer

        api_port = free_port(LOOPBACK)
        published = tuple(free_port(LOOPBACK) for _ in range(slots))
        container = (
            DockerContainer(TOXIPROXY_IMAGE)
            .with_command(["-host=0.0.0.0", f"-port={TOXIPROXY_API_PORT}"])
            .with_network(self._run_network())
        )
        _publish_on_loopback(container, TOXIPROXY_API_PORT, api_port)
        for slot, host_port in enumerate(published):
            _publish_on_loopback(container, PROXY_PORT_BASE + slot, host_port)
        with container:
            url = f"http://{LOOPBACK}:{api_port}"
            _wait_for_api(url)
            yield PublishedProxySite(url, published)

    def upstream(self, redis: RedisNode) -> str:
        return f"{REDIS_ALIAS}:{REDIS_PORT}"

    def close(self) -> None:
        network, self._network = self._network, None
        if network is not None:
            network.remove()


def _wait_for_api(url: str) -> None:
    deadline = time.monotonic() + API_READY_S
    client = ToxiproxyClient(url)
    while True:
        try:
            client.version()
            return
        except Exception:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)
