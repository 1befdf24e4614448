"""What a backend provides: a Redis to test, a Toxiproxy to put in front of it, a disk.

The ``local`` backend runs redis-server as a child process and uses ``$TOXIPROXY_URL``
or the embedded Toxiproxy; the ``testcontainers`` backend runs Redis and the real
Toxiproxy as containers. Workers, cron schedulers and producers always run here,
as processes and threads of the testbed, so nemeses can kill them and their
history stays outside Redis.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from pathlib import Path
from typing import ClassVar, Protocol

from duetime.chaos.system.redis_server import Persistence
from duetime.chaos.toxiproxy.client import ProxyInfo

from .power_disk import PowerDisk


class BackendUnavailable(RuntimeError):
    """The backend cannot run here (no Docker engine, say); the message says why."""


class Unsupported(RuntimeError):
    """This backend cannot provide what was asked (a FUSE disk under a container, say)."""


class RedisNode(Protocol):
    """One Redis under test. ``duetime.chaos.system.redis_server.RedisServer`` is the local one."""

    persistence: Persistence
    host: str
    port: int
    data_dir: Path | None
    binary: str

    @property
    def url(self) -> str: ...

    @property
    def pid(self) -> int | None: ...

    @property
    def running(self) -> bool: ...

    @property
    def version(self) -> tuple[int, ...]: ...

    def start(self, timeout: float = ...) -> object:
        """Start (or restart, from the files it left) and wait until it answers."""

    def kill(self) -> None:
        """SIGKILL: no save, no fsync on the way out; returns once it is gone."""

    def stop(self) -> None:
        """Kill it and release what it holds (a temporary data directory, a container)."""


class ProxySite(Protocol):
    """Where proxies listen on the Toxiproxy, and how clients reach them.

    ``slot`` numbers the proxies of one run from 0; a containerised Toxiproxy can only
    serve ports published when it started, one per slot.
    """

    @property
    def api_url(self) -> str: ...

    @property
    def slots(self) -> int | None:
        """How many proxies this site can hold (None: no limit)."""

    def listen(self, slot: int) -> str:
        """The ``listen`` address to ask the Toxiproxy for."""

    def client_address(self, proxy: ProxyInfo, slot: int) -> tuple[str, int]:
        """Where a client of the testbed connects to reach ``proxy``."""


class Backend(ABC):
    """Provides the Redis under test and the Toxiproxy in front of it for one run."""

    name: ClassVar[str]

    @abstractmethod
    def redis(
        self,
        persistence: Persistence,
        *,
        log_dir: Path,
        data_dir: Path | None = None,
        binary: str = "",
    ) -> RedisNode:
        """A Redis with ``persistence``, not started yet; its log goes to ``log_dir``.
        ``binary``: the server binary to run ("": the default one)."""

    @abstractmethod
    def toxiproxy(self, slots: int) -> AbstractContextManager[ProxySite]:
        """A Toxiproxy able to hold ``slots`` proxies, for as long as the context is open."""

    @abstractmethod
    def upstream(self, redis: RedisNode) -> str:
        """The ``host:port`` at which the Toxiproxy reaches ``redis``."""

    def power_disk(self) -> PowerDisk:
        """A filesystem for Redis's files that can lose what was not fsynced."""
        raise Unsupported(
            f"the {self.name} backend cannot put Redis's files on the FUSE power-loss "
            "filesystem: power loss and slow-disk faults need the local backend"
        )

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Release whatever the backend started (containers, networks)."""
