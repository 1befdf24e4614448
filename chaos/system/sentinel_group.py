"""A local Sentinel group: one primary, its replicas and the Sentinels that watch them.

Every process runs on a free loopback port from the same server binary (a Sentinel is
that binary started with ``--sentinel``). ``start()`` returns once every replica is in
sync and every Sentinel knows the primary, every replica and every other Sentinel, so a
failover can be elected at once. ``failover_by_kill()`` SIGKILLs the primary and waits
until the Sentinels name a promoted replica. ``stop()`` ends every process it started.

With ``peer_links=True`` every node-to-node and Sentinel-to-node connection goes
through a Toxiproxy proxy of the node it reaches (:mod:`.peer_links`), so a node can
be cut off from the rest of the group while clients still reach it directly; Sentinels
(and clients asking them) then name nodes by their peer-link addresses.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import redis

from .node_disks import NodeDisks
from .peer_links import PeerLinks
from .promotion import (
    Clock,
    Pause,
    Promotion,
    Rejoin,
    Strike,
    Turns,
    no_retry,
    pause,
    replica_in_sync,
    strike_and_wait,
    wait_for,
)
from .redis_server import (
    Persistence,
    RedisServer,
    RedisStartError,
    find_redis_server,
    free_port,
)

if TYPE_CHECKING:
    from .backends.power_disk import PowerDisk

SERVICE = "duetime"
# Short, so a SIGKILLed primary is replaced within a few seconds in tests; above the ping
# period (1 s) with a second to spare: after +switch-master a Sentinel restarts its
# down-timer for the new primary and first pings it only a ping period later, so at
# 1000 ms the new primary was often flagged down for a moment (4 failovers: 2 to 5
# +sdown/-sdown of a live primary, and a second failover when two Sentinels agreed;
# at 2000 ms: none).
DOWN_AFTER_MS = 2000
FAILOVER_TIMEOUT_MS = 5000
# Sentinel's own periods (Redis 7.0+ ``SENTINEL DEBUG``): a restarted old primary is made a
# replica once it has looked like a primary for 4 publish periods, found by an INFO every
# info period; by default 8 s and 10 s, which would make every heal take ~11 s.
SENTINEL_PERIODS_MS = {"info-period": 1000, "publish-period": 250}


@dataclass
class Sentinel:
    """One Sentinel process watching ``service`` on the primary at ``primary_host:primary_port``."""

    binary: str
    service: str
    primary_host: str
    primary_port: int
    quorum: int
    port: int = 0
    host: str = "127.0.0.1"
    _dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="duetime-sentinel-")))
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    def start(self) -> Sentinel:
        self.port = self.port or free_port(self.host)
        conf = self._dir / "sentinel.conf"  # Sentinel rewrites it: it must be writable
        conf.write_text(
            "\n".join(
                [
                    f"bind {self.host}",
                    f"port {self.port}",
                    f'dir "{self._dir}"',
                    'logfile "sentinel.log"',
                    f"sentinel monitor {self.service} {self.primary_host} "
                    f"{self.primary_port} {self.quorum}",
                    f"sentinel down-after-milliseconds {self.service} {DOWN_AFTER_MS}",
                    f"sentinel failover-timeout {self.service} {FAILOVER_TIMEOUT_MS}",
                    f"sentinel parallel-syncs {self.service} 1",
                ]
            )
            + "\n"
        )
        self._proc = subprocess.Popen(
            [self.binary, str(conf), "--sentinel"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        return self

    @property
    def log_file(self) -> Path:
        """Its log: the +sdown, +odown, election and +switch-master lines of a failover."""
        return self._dir / "sentinel.log"

    def shorten_periods(self) -> None:
        """Apply ``SENTINEL_PERIODS_MS``; a Sentinel without ``SENTINEL DEBUG`` (6.2) keeps
        its defaults, so rejoining a restarted node just takes longer there."""
        args = [x for item in SENTINEL_PERIODS_MS.items() for x in item]
        with contextlib.suppress(redis.ResponseError):
            self.call("SENTINEL", "DEBUG", *args)

    def call(self, *command: object) -> Any:
        with redis.Redis(
            host=self.host,
            port=self.port,
            socket_timeout=2,
            decode_responses=True,
            retry=no_retry(),
        ) as c:
            return c.execute_command(*command)

    def stop(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.send_signal(signal.SIGKILL)
            self._proc.wait(timeout=10)
            self._proc = None
        shutil.rmtree(self._dir, ignore_errors=True)


@dataclass
class SentinelGroup:
    """A primary with ``replicas`` replicas and ``sentinels`` Sentinels (quorum: a
    majority), all of the server ``binary`` (default: ``find_redis_server()``).

    ``peer_links``: route the group's own traffic through proxies (set before
    ``start()``). ``min_replicas_to_write``/``min_replicas_max_lag``: Redis's
    ``min-replicas-*`` on every node (0: off, Redis's default): a primary refuses writes
    while fewer replicas than that acknowledged it within the lag (seconds), which
    bounds how long a primary cut off from its replicas accepts writes."""

    replicas: int = 2
    sentinels: int = 3
    binary: str = ""
    service: str = SERVICE
    persistence: Persistence = field(default_factory=lambda: Persistence(aof="everysec"))
    peer_links: bool = False
    min_replicas_to_write: int = 0
    min_replicas_max_lag: int = 10
    links: PeerLinks | None = field(default=None, init=False)
    servers: list[RedisServer] = field(default_factory=list, init=False)
    watchers: list[Sentinel] = field(default_factory=list, init=False)
    # Servers (by index: 0 the first primary) whose files sit on a power-loss disk.
    disks: NodeDisks = field(default_factory=NodeDisks, init=False)
    # Held by a replication nemesis for a whole strike and for a whole heal, so faults of
    # several nemeses never interleave their steps on one topology.
    strikes: Turns = field(default_factory=Turns, init=False, repr=False)

    def __post_init__(self) -> None:
        self.binary = self.binary or find_redis_server()

    @property
    def url(self) -> str:
        """duetime's Sentinel URL: ``redis+sentinel://host:port,.../service/0``."""
        hosts = ",".join(f"{s.host}:{s.port}" for s in self.watchers)
        return f"redis+sentinel://{hosts}/{self.service}/0"

    @property
    def version(self) -> tuple[int, ...]:
        return self.servers[0].version

    def client(self, **kwargs: Any) -> redis.Redis:
        """A client of whichever server is the primary now (redis-py's Sentinel)."""
        sentinel = redis.sentinel.Sentinel([(s.host, s.port) for s in self.watchers])
        client: redis.Redis = sentinel.master_for(self.service, **kwargs)
        return client

    def start(self, timeout: float = 30.0) -> SentinelGroup:
        deadline = time.monotonic() + timeout
        extra = list(_REPLICATION)
        if self.min_replicas_to_write:
            extra += [
                f"min-replicas-to-write {self.min_replicas_to_write}",
                f"min-replicas-max-lag {self.min_replicas_max_lag}",
            ]
        try:
            if self.peer_links:
                self.links = PeerLinks().start()
            primary = RedisServer(
                self.persistence,
                binary=self.binary,
                extra=list(extra),
                data_dir=self.disks.data_dir(0),
            )
            self.servers.append(primary)
            primary.start()
            if self.links is not None:
                self.links.attach(primary)
            for index in range(1, self.replicas + 1):
                # With peer links, a replica announces its link before it syncs.
                replica_of = (
                    [] if self.links is not None else [f"replicaof {primary.host} {primary.port}"]
                )
                replica = RedisServer(
                    self.persistence,
                    binary=self.binary,
                    extra=[*extra, *replica_of],
                    data_dir=self.disks.data_dir(index),
                )
                self.servers.append(replica)
                replica.start()
                if self.links is not None:
                    self.links.attach(replica, primary=primary)
            quorum = self.sentinels // 2 + 1
            host, port = self.address(primary)
            for _ in range(self.sentinels):
                watcher = Sentinel(self.binary, self.service, host, port, quorum)
                self.watchers.append(watcher)
                watcher.start()
            self._wait(deadline, "replicas in sync and Sentinels that know each other", self._ready)
            for watcher in self.watchers:
                watcher.shorten_periods()
        except BaseException:
            self.stop()
            raise
        return self

    def address(self, server: RedisServer) -> tuple[str, int]:
        """Where Sentinels and the other nodes reach ``server``: its peer link, if any."""
        if self.links is None:
            return server.host, server.port
        link = self.links.link(server)
        return link.host, link.port

    def server_at(self, host: str, port: int) -> RedisServer:
        """The server that Sentinels call ``host:port``."""
        if self.links is not None:
            found = self.links.server_at(host, port)
            if found is not None:
                return found
        else:
            for server in self.servers:
                if (server.host, server.port) == (host, port):
                    return server
        raise LookupError(f"the Sentinels name {host}:{port}, which this group did not start")

    def primary(self) -> RedisServer:
        """The server the first Sentinel names as primary now."""
        host, port = self.watchers[0].call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.service)
        return self.server_at(str(host), int(port))

    def agreed_primary(self) -> RedisServer | None:
        """The server every Sentinel names as primary, none flagging it down, once it says
        it is a primary (what clients asking any Sentinel get); None until then."""
        named = set()
        for watcher in self.watchers:
            fields = _fields(watcher.call("SENTINEL", "MASTER", self.service))
            if "down" in str(fields["flags"]):
                return None
            named.add((str(fields["ip"]), int(fields["port"])))
        if len(named) != 1:
            return None
        server = self.server_at(*named.pop())
        return server if _role(server) == "master" else None

    def replica_servers(self) -> list[RedisServer]:
        primary = self.primary()
        return [s for s in self.servers if s is not primary and s.running]

    def failover_by_kill(self, timeout: float = 30.0) -> RedisServer:
        """SIGKILL the primary; return the replica the Sentinels promoted, once it says
        it is a primary."""
        return self.kill_primary(timeout=timeout).promoted

    def primaries(self) -> list[RedisServer]:
        """The primary, as a list (a Cluster has several)."""
        return [self.primary()]

    def replicas_of(self, primary: RedisServer) -> list[RedisServer]:
        """The running servers other than ``primary`` (all replicate it once in sync)."""
        return [s for s in self.servers if s is not primary and s.running]

    def kill_primary(
        self,
        primary: RedisServer | None = None,
        *,
        clock: Clock = time.time,
        strike: Strike = RedisServer.kill,
        timeout: float = 30.0,
    ) -> Promotion:
        """Strike the primary (SIGKILL unless ``strike`` says otherwise) and wait until
        every Sentinel names a promoted replica, not as down, and it says ``role:master``
        (``agreed_primary``). ``primary``, if given, must be the current one."""
        old = self.primary()
        if primary is not None and primary is not old:
            raise ValueError(f"{primary.host_port} is not the primary ({old.host_port} is)")

        def promoted() -> RedisServer | None:
            new = self.agreed_primary()
            return new if new is not None and new is not old else None

        return strike_and_wait(old, strike, clock, promoted, timeout)

    def rejoin(
        self, server: RedisServer, *, clock: Clock = time.time, timeout: float = 60.0
    ) -> Rejoin:
        """Start a killed ``server`` again on its port and wait until the Sentinels made it
        a replica of the primary, it caught up, and every Sentinel lists it as a replica
        that is up (so the next failover may pick it)."""
        server.start(timeout=min(timeout, 60.0))
        host, port = self.address(server)
        followed: list[RedisServer] = []

        def rejoined() -> bool:
            primary = self.agreed_primary()
            if primary is None or primary is server:
                return False
            followed.append(primary)
            if not replica_in_sync(server, primary, self.address(primary)):
                return False
            for watcher in self.watchers:
                replicas = map(_fields, watcher.call("SENTINEL", "REPLICAS", self.service))
                entry = [f for f in replicas if (str(f["ip"]), int(f["port"])) == (host, port)]
                if not entry or {"s_down", "o_down", "disconnected"} & _flags(entry[0]):
                    return False
            return True

        wait_for(f"{server.host_port} to rejoin as a replica in sync", rejoined, timeout)
        return Rejoin(server, followed[-1], clock())

    def put_on_power_disks(self) -> None:
        """Before ``start()``: every server keeps its files on a power-loss disk of its own
        (each may become the primary). Raises ``PowerDiskUnavailable`` without FUSE."""
        if self.servers:
            raise RuntimeError("put the servers on power-loss disks before the group starts")
        self.disks.attach(range(1 + self.replicas))

    def disk_of(self, server: RedisServer) -> PowerDisk | None:
        """The power-loss disk under ``server``'s files, if any."""
        return self.disks.disk(self.servers.index(server))

    def pause_replicas(self, primary: RedisServer, *, clock: Clock = time.time) -> Pause:
        """SIGSTOP every replica of ``primary``; ``Pause.resume()`` sends SIGCONT."""
        return pause(self.replicas_of(primary), clock)

    def _ready(self) -> bool:
        primary = self.servers[0]
        info = _info(primary, "replication")
        if int(info.get("connected_slaves", 0)) < self.replicas:
            return False
        for replica in self.servers[1:]:
            if _info(replica, "replication").get("master_link_status") != "up":
                return False
        for watcher in self.watchers:
            fields = _fields(watcher.call("SENTINEL", "MASTER", self.service))
            if int(fields.get("num-slaves", 0)) < self.replicas:
                return False
            if int(fields.get("num-other-sentinels", 0)) < self.sentinels - 1:
                return False
        return True

    def _wait(self, deadline: float, what: str, ready: Callable[[], bool]) -> None:
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError, LookupError):
                if ready():
                    return
            time.sleep(0.05)
        raise RedisStartError(f"sentinel group: timed out waiting for {what}")

    def stop(self) -> None:
        for watcher in self.watchers:
            watcher.stop()
        for server in self.servers:
            server.stop()
        self.disks.unmount()
        if self.links is not None:
            self.links.close()

    def __enter__(self) -> SentinelGroup:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# Replicas sync at once, not after the default 5 s wait for others to join.
_REPLICATION = ["repl-diskless-sync-delay 0"]


def _info(server: RedisServer, section: str) -> dict[str, Any]:
    with server.client(socket_timeout=2, decode_responses=True, retry=no_retry()) as c:
        return {str(k): v for k, v in c.info(section).items()}


def _role(server: RedisServer) -> str:
    return str(_info(server, "replication").get("role"))


def _fields(state: Any) -> dict[str, Any]:
    """``SENTINEL MASTER``'s answer as a dict (redis-py parses it, or not)."""
    if isinstance(state, dict):
        return {str(k): v for k, v in state.items()}
    return dict(zip(state[::2], state[1::2], strict=True))


def _flags(fields: dict[str, Any]) -> set[str]:
    return set(str(fields.get("flags", "")).split(","))
