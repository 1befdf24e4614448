"""The local backend: redis-server as a child process on a free loopback port.

Its Toxiproxy is ``$TOXIPROXY_URL`` when set (the real server, used unchanged; it
must share this machine's loopback, as the compose file's runner does), else the
embedded server, started for the run and stopped after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from duetime.chaos.system.redis_server import Persistence, RedisServer
from duetime.chaos.toxiproxy.client import ProxyInfo, toxiproxy_endpoint

from .base import Backend, ProxySite, RedisNode
from .power_disk import PowerDisk

# Proxies listen on a free loopback port of the Toxiproxy's host (this machine).
LOOPBACK_ANY_PORT = "127.0.0.1:0"


@dataclass(frozen=True)
class LoopbackProxySite:
    """Proxies on free loopback ports; clients connect where the Toxiproxy says."""

    api_url: str

    @property
    def slots(self) -> int | None:
        return None

    def listen(self, slot: int) -> str:
        return LOOPBACK_ANY_PORT

    def client_address(self, proxy: ProxyInfo, slot: int) -> tuple[str, int]:
        return proxy.host, proxy.port


class LocalBackend(Backend):
    """redis-server processes here; Toxiproxy from ``$TOXIPROXY_URL`` or embedded."""

    name: ClassVar[str] = "local"

    def redis(
        self,
        persistence: Persistence,
        *,
        log_dir: Path,
        data_dir: Path | None = None,
        binary: str = "",
    ) -> RedisNode:
        # The cluster copies redis.log from the data directory into log_dir.
        return RedisServer(persistence, data_dir=data_dir, binary=binary)

    def toxiproxy(self, slots: int) -> AbstractContextManager[ProxySite]:
        return _loopback_site()

    def upstream(self, redis: RedisNode) -> str:
        return f"{redis.host}:{redis.port}"

    def power_disk(self) -> PowerDisk:
        return PowerDisk()


@contextmanager
def _loopback_site() -> Iterator[ProxySite]:
    with toxiproxy_endpoint() as url:
        yield LoopbackProxySite(url)
