"""The system under test: Redis (one redis-server, a Sentinel group or a Redis Cluster, as
the run's topology says), worker processes and cron-scheduler processes.

Every lifecycle event goes into the history (``process-start``/``process-end``),
so checkers know who was up when. ``stop()`` ends everything the cluster started;
it is registered with ``atexit`` as a backstop and is safe to call twice.

The backend (``duetime.chaos.system.backends``) provides Redis. Two resources are added on a
nemesis's request, before anything connects: a Toxiproxy proxy per client
(``route_clients_through_toxiproxy``), and the power-loss filesystem under Redis's
files (``attach_power_disk``). ``stop()`` releases both. Both, and ``kill_redis``,
``restart_redis`` and ``power_loss``, act on one redis-server: ``topology=single`` only.

On ``topology=replicated`` Redis is a :class:`SentinelGroup` (a primary, two replicas,
three Sentinels) and clients use its ``redis+sentinel://`` URL; on ``topology=cluster``
a :class:`LocalCluster` (three masters, a replica each), clients use ``redis+cluster://``
and the namespace is sharded over the masters (``shards``). ``cluster.replication`` is
the group or the cluster, for the nemeses that fail a primary over.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from duetime.chaos.client.user_handlers import SPEC as USER_HANDLERS_SPEC
from duetime.chaos.client.user_handlers import USER_HANDLERS_ENV
from duetime.chaos.client.workload import CronSpec
from duetime.chaos.designs import REFERENCE, Design
from duetime.chaos.history.clock import TestbedClock
from duetime.chaos.history.ops import PROCESS_END, PROCESS_START, REDIS_CONFIG
from duetime.chaos.history.sink import EventSink

from .backends import Backend, LocalBackend, PowerDisk, RedisNode
from .network import ClientRoutes
from .powerfs import DropReport
from .process import ManagedProcess, ProcessSpec
from .redis_cluster import LocalCluster
from .redis_server import Persistence, RedisServer, RedisStartError, read_settings
from .run_config import (
    CLUSTER_SHARDS,
    REPLICATED,
    SINGLE,
    RunConfig,
    server_name,
    shard_args,
    shard_count,
)
from .sentinel_group import SentinelGroup

WORKER_ROLE = "worker"
CRON_ROLE = "cron"
# A design's central dispatcher, when its source makes it a process of its own.
DISPATCHER_ROLE = "dispatcher"
REDIS_ROLE = "redis"
# Producers are threads of the runner, not processes; they are clients with a route.
PRODUCER_ROLE = "producer"
# The history's record of a client's proxy (``route_clients_through_toxiproxy``).
ROUTE = "route"
# The history's record of the power-loss filesystem's mount (``attach_power_disk``).
POWER_DISK = "power-disk"
# The reference scheduler's cron process (published designs bring their own).
CRON_MODULE = "duetime.chaos.system.cron_process"


@dataclass(frozen=True)
class ClusterSettings:
    """Process counts and worker flags.

    ``worker_module`` is run as ``python -m <worker_module> worker ...`` (the worker
    CLI contract), so a scenario can swap in another implementation of the
    reference scheduler; a published design (``duetime.chaos.designs``) runs its own.
    """

    workers: int = 3
    concurrency: int = 4
    lease_s: float = 2.0
    cron_schedulers: int = 0
    worker_module: str = "duetime"
    worker_args: tuple[str, ...] = ()
    namespace: str = "chaos"
    handlers: str = "duetime.chaos.client.handlers:HANDLERS"
    # Records the reference workers' lease changes, so fencing is checked from outside.
    observer: str = "duetime.chaos.client.handlers:LEASE_OBSERVER"
    # An application's own registry (MODULE:ATTR), run recorded in place of ``handlers``
    # (``duetime.chaos.client.user_handlers``); ``python_path``: where workers import it from.
    user_handlers: str = ""
    python_path: tuple[str, ...] = ()


class Cluster:
    """Starts, faults and stops the processes of one run."""

    def __init__(
        self,
        *,
        settings: ClusterSettings,
        persistence: Persistence,
        run_dir: Path,
        sink_dir: Path,
        clock: TestbedClock,
        recorder: EventSink,
        cron: Sequence[CronSpec] = (),
        backend: Backend | None = None,
        producers: int = 0,
        design: Design = REFERENCE,
        config: RunConfig | None = None,
        cluster_shards: int = CLUSTER_SHARDS,
    ) -> None:
        config = config or RunConfig(persistence)
        if config.persistence != persistence:
            raise ValueError(f"config {config.label} is not persistence {persistence.label}")
        self.config = config
        self.topology = config.topology
        # How many shards the namespace has: workers, cron processes and producers agree.
        self.shards = shard_count(config, cluster_shards)
        self.replication: SentinelGroup | LocalCluster | None = None
        self.settings = settings
        self.design = design
        self.run_dir = run_dir
        self.sink_dir = sink_dir
        self.clock = clock
        self.recorder = recorder
        # A design without recurring tasks gets no cron processes.
        self.cron = tuple(cron) if design.cron else ()
        self.cron_processes = settings.cron_schedulers if design.cron else 0
        self.persistence = persistence
        self.producers = producers
        self.backend = backend or LocalBackend()
        self.binary = config.binary() if config.server != "redis" else ""
        # On a replicated or cluster topology this one is never started: it names the
        # binary, and the single-node faults refuse to act on it.
        self.redis: RedisNode = self.backend.redis(
            persistence, log_dir=self.log_dir, binary=self.binary
        )
        # The direct URL of Redis (the runner's own checks); clients use url_for().
        self.client_url = ""
        self.routes: ClientRoutes | None = None
        self._pinned_urls: dict[str, str] = {}
        # Asked for by a nemesis's before_start: a Sentinel group whose nodes reach each
        # other only through proxies (``SentinelGroup(peer_links=True)``).
        self.peer_links = False
        self.disk: PowerDisk | None = None
        # Asked for by a nemesis's before_start (failover_power_loss): on a replicated or
        # cluster topology, the nodes that may be struck keep their files on power-loss
        # disks of their own (``put_on_power_disks()`` before the topology starts).
        self.node_power_disks = False
        self._resources = contextlib.ExitStack()
        self._power_losses = 0
        self._procs: dict[str, ManagedProcess] = {}
        self._started_at: dict[str, float] = {}
        self._up: set[str] = set()
        # Bookkeeping is guarded by _lock (held briefly); acting on one process by its own
        # lock, so a slow graceful stop of one process never delays healing another.
        self._lock = threading.Lock()
        self._proc_locks: dict[str, threading.Lock] = {}
        self._standing_env: dict[str, dict[str, str]] = {}
        self._redis_lock = threading.Lock()
        self._stopped = False

    # -- lifecycle ---------------------------------------------------------

    def start_redis(self) -> None:
        """Start Redis (before nemesis setup, which may put a proxy in front)."""
        atexit.register(self.stop)
        if self.topology == SINGLE:
            self.redis.start()
            self.client_url = self.redis.url
            self._record_start(REDIS_ROLE, "redis", self.redis.pid, port=self.redis.port)
            self._check_redis_config()
            return
        binary = self.redis.binary
        topology: SentinelGroup | LocalCluster
        if self.topology == REPLICATED:
            topology = SentinelGroup(
                persistence=self.persistence, binary=binary, peer_links=self.peer_links
            )
        else:
            topology = LocalCluster(
                masters=3, replicas=1, persistence=self.persistence, binary=binary
            )
        if self.node_power_disks:
            # The launchers gain put_on_power_disks() with the replication nemeses.
            put_on_power_disks = getattr(topology, "put_on_power_disks", None)
            if put_on_power_disks is None:
                raise RuntimeError(f"topology={self.topology} cannot use power-loss disks here")
            put_on_power_disks()
        self.replication = topology.start()
        if isinstance(topology, SentinelGroup):
            self.client_url = topology.url
        else:
            self.client_url = f"redis+cluster://{topology.nodes[0].host_port}/0"
        for node in self.data_nodes():
            self._record_start(REDIS_ROLE, _node_name(node), node.pid, port=node.port)
        self._check_redis_config()

    def data_nodes(self) -> list[RedisServer]:
        """Every server that holds the data: the primary and its replicas, or every node
        of the cluster (empty on a single topology, whose server is ``redis``)."""
        if isinstance(self.replication, SentinelGroup):
            return list(self.replication.servers)
        if isinstance(self.replication, LocalCluster):
            return list(self.replication.nodes)
        return []

    def single_node_only(self, what: str) -> str | None:
        """Why ``what`` (a fault on the one redis-server) cannot act here, or None."""
        if self.topology == SINGLE:
            return None
        return f"{what} acts on one redis-server: topology={self.topology} has several"

    def _refuse_unless_single(self, what: str) -> None:
        why = self.single_node_only(what)
        if why:
            raise RuntimeError(why)

    def primary_client(self, **kwargs: Any) -> redis.Redis:
        """A plain redis-py client of the server that holds the data now (the primary the
        Sentinels name on a replicated topology), for the testbed's own writes. A cluster
        has no one such server: RuntimeError."""
        if isinstance(self.replication, SentinelGroup):
            return self.replication.client(**kwargs)
        self._refuse_unless_single("a client of the one primary")
        return redis.Redis.from_url(self.client_url, **kwargs)

    def attach_power_disk(self) -> PowerDisk:
        """Put Redis's files on the power-loss filesystem (once; before ``start_redis``).

        Raises PowerDiskUnavailable (FUSE missing) or Unsupported (the backend cannot).
        """
        if self.disk is not None:
            return self.disk
        self._refuse_unless_single("the power-loss filesystem")
        if self.redis.running:
            raise RuntimeError("attach the power-loss disk before Redis starts")
        disk = self.backend.power_disk()
        self._resources.callback(disk.unmount)
        data_dir = disk.mount()
        self.recorder.record("info", POWER_DISK, {"mountpoint": str(disk.fs.mountpoint)})
        previous = self.redis
        self.redis = self.backend.redis(
            self.persistence, log_dir=self.log_dir, data_dir=data_dir, binary=self.binary
        )
        previous.stop()  # removes the temporary data directory it made
        self.disk = disk
        return disk

    def route_clients_through_toxiproxy(self) -> ClientRoutes:
        """Give every client a Toxiproxy proxy of its own (once; after ``start_redis``,
        before ``start_processes`` and the producers)."""
        if self.routes is not None:
            return self.routes
        self._refuse_unless_single("routing clients through Toxiproxy")
        if not self.redis.running:
            raise RuntimeError("start Redis before routing clients to it")
        clients = self.planned_clients()
        site = self._resources.enter_context(self.backend.toxiproxy(len(clients)))
        routes = ClientRoutes(site, self.backend.upstream(self.redis))
        self._resources.callback(routes.close)
        for name, role in clients:
            route = routes.add(name, role)
            self.recorder.record(
                "info", ROUTE, {"client": name, "proxy": route.proxy, "url": route.url}
            )
        self.routes = routes
        return routes

    def planned_clients(self) -> list[tuple[str, str]]:
        """``(name, role)`` of every client of Redis this run will start."""
        return [
            *((f"worker-{i}", WORKER_ROLE) for i in range(self.settings.workers)),
            *((f"cron-{i}", CRON_ROLE) for i in range(self.cron_processes)),
            *((f"dispatcher-{i}", DISPATCHER_ROLE) for i in range(self.dispatcher_processes)),
            *((f"producer-{i}", PRODUCER_ROLE) for i in range(self.producers)),
        ]

    @property
    def dispatcher_processes(self) -> int:
        return 1 if self.design.dispatcher == "process" else 0

    def due_time_deciders(self) -> list[str]:
        """The processes whose own clock decides when a task is due: the design's
        dispatcher process if it has one, else the workers (the clock-skew fault's targets)."""
        role = DISPATCHER_ROLE if self.dispatcher_processes else WORKER_ROLE
        return [name for name, r in self.planned_clients() if r == role]

    def pin_url(self, client: str, url: str) -> None:
        """Make ``client`` use ``url`` (call before it starts): a nemesis keeps some
        clients on its side of a partition."""
        self._pinned_urls[client] = url

    def url_for(self, client: str) -> str:
        """The Redis URL ``client`` uses: a pinned one, its proxy's if clients are
        routed, else Redis's."""
        if client in self._pinned_urls:
            return self._pinned_urls[client]
        route = self.routes.get(client) if self.routes is not None else None
        return route.url if route is not None else self.client_url

    def start_processes(self) -> None:
        for i in range(self.settings.workers):
            self._add(self._worker_spec(i))
        for i in range(self.cron_processes):
            self._add(self._cron_spec(f"cron-{i}"))
        for i in range(self.dispatcher_processes):
            self._add(self._dispatcher_spec(f"dispatcher-{i}"))
        for name in list(self._procs):
            self.start_process(name)

    def stop(self) -> None:
        """Stop every process and redis-server; keep redis's log in the run folder."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        for role in (CRON_ROLE, DISPATCHER_ROLE, WORKER_ROLE):
            self.stop_role(role)
        with self._redis_lock:
            if self.redis.running:
                pid = self.redis.pid
                self.redis.kill()
                self._record_end(REDIS_ROLE, "redis", pid, "stopped")
            self._keep_redis_log()
            self.redis.stop()
            self._stop_replication()
        self._resources.close()
        self.backend.close()
        atexit.unregister(self.stop)

    # -- queries -----------------------------------------------------------

    def names(self, role: str) -> list[str]:
        return sorted(n for n, p in self._procs.items() if p.spec.role == role)

    def pid(self, name: str) -> int | None:
        return self._procs[name].pid

    def alive(self, name: str) -> bool:
        return self._procs[name].alive

    def started_at(self, name: str) -> float:
        return self._started_at.get(name, 0.0)

    def note_exits(self) -> list[str]:
        """Record processes that exited on their own (crashed); returns their names."""
        with self._lock:
            gone = [n for n in sorted(self._up) if not self._procs[n].alive]
        for name in gone:
            self._end(name, "exited", lambda: None)
        return gone

    # -- faults ------------------------------------------------------------

    def set_standing_env(self, name: str, env: Mapping[str, str] | None) -> None:
        """Environment that every later start of process ``name`` gets (None: drop it).

        A condition such as a skewed clock must survive another nemesis restarting the
        process, or the run would count a fault that was no longer in force.
        """
        with self._lock:
            if env is None:
                self._standing_env.pop(name, None)
            else:
                self._standing_env[name] = dict(env)

    def start_process(self, name: str, extra_env: Mapping[str, str] | None = None) -> None:
        proc = self._procs[name]
        with self._proc_locks[name]:
            if self._stopped or proc.alive:
                return
            with self._lock:
                extra_env = {**self._standing_env.get(name, {}), **(extra_env or {})}
            pid = proc.start(extra_env)
            with self._lock:
                self._started_at[name] = self.clock.now()
                self._up.add(name)
            self._record_start(proc.spec.role, name, pid, **dict(extra_env or {}))

    def kill_process(self, name: str) -> int | None:
        """SIGKILL a process group; returns the pid it had."""
        return self._end(name, "killed", self._procs[name].kill)

    def stop_process(self, name: str) -> int | None:
        return self._end(name, "stopped", self._procs[name].stop)

    def stop_role(self, role: str) -> None:
        """Stop every process of ``role`` gracefully, all at once."""
        names = self.names(role)
        for name in names:
            with self._proc_locks[name]:
                self._procs[name].terminate()
        for name in names:
            self._end(name, "stopped", self._procs[name].finish)

    def pause_process(self, name: str) -> None:
        self._procs[name].signal_group(signal.SIGSTOP)

    def resume_process(self, name: str) -> None:
        self._procs[name].signal_group(signal.SIGCONT)

    def kill_redis(self) -> None:
        self._refuse_unless_single("kill_redis")
        with self._redis_lock:
            pid = self.redis.pid
            self.redis.kill()
            self._record_end(REDIS_ROLE, "redis", pid, "killed")

    def power_loss(self) -> tuple[float, DropReport]:
        """SIGKILL redis-server and drop what its files had not fsynced, as a power cut.

        The drop comes before the process is reaped: a thread stuck in a slow fsync
        would otherwise finish it and make its data durable. Returns when it struck
        (testbed clock) and what the filesystem dropped.
        """
        self._refuse_unless_single("power loss")
        if self.disk is None:
            raise RuntimeError("power loss needs attach_power_disk() before Redis started")
        with self._redis_lock:
            pid = self.redis.pid
            self._power_losses += 1
            self._keep_redis_log(f"redis-before-power-loss-{self._power_losses}.log")
            struck = self.clock.now()
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            try:
                report = self.disk.fs.drop_unsynced()
            finally:
                self.redis.kill()
                self._record_end(REDIS_ROLE, "redis", pid, "power-loss")
        return struck, report

    def restart_redis(self) -> None:
        self._refuse_unless_single("restart_redis")
        with self._redis_lock:
            if self._stopped:
                return
            self.redis.start(timeout=60)
            self._record_start(REDIS_ROLE, "redis", self.redis.pid, port=self.redis.port)
            self._check_redis_config()

    # -- internals ---------------------------------------------------------

    def _stop_replication(self) -> None:
        if self.replication is None:
            return
        for node in self.data_nodes():
            if node.running:
                pid = node.pid
                node.kill()
                self._record_end(REDIS_ROLE, _node_name(node), pid, "stopped")
            self._keep_redis_log(f"{_node_name(node)}.log", node.data_dir)
        if isinstance(self.replication, SentinelGroup):
            for watcher in self.replication.watchers:
                self._keep_log(watcher.log_file, f"sentinel-{watcher.port}.log")
        self.replication.stop()

    def _env(self, name: str) -> dict[str, str]:
        env = {
            **EventSink.env(self.sink_dir, name),
            **self.clock.env(),
            "PYTHONUNBUFFERED": "1",
        }
        s = self.settings
        if s.user_handlers:
            env[USER_HANDLERS_ENV] = s.user_handlers
        if s.python_path:
            inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
            env["PYTHONPATH"] = os.pathsep.join([*s.python_path, *inherited])
        return env

    def _worker_spec(self, index: int) -> ProcessSpec:
        s = self.settings
        name = f"worker-{index}"
        module = self.design.module if self.design.own_processes else s.worker_module
        args = [
            "worker",
            "--url",
            self.url_for(name),
            "--namespace",
            s.namespace,
            "--handlers",
            USER_HANDLERS_SPEC if s.user_handlers else s.handlers,
            "--concurrency",
            str(s.concurrency),
            "--lease",
            str(s.lease_s),
            *(() if self.design.own_processes else ("--observer", s.observer)),
            *self._eviction_args(),
            *shard_args(self.shards),
            *s.worker_args,
            *self.design.worker_args(index),
        ]
        return ProcessSpec.python_module(name, WORKER_ROLE, module, args, self._env(name))

    def _cron_spec(self, name: str) -> ProcessSpec:
        schedules = json.dumps([spec.__dict__ for spec in self.cron])
        module, command = (
            (self.design.module, ["cron"]) if self.design.own_processes else (CRON_MODULE, [])
        )
        args = [
            *command,
            "--url",
            self.url_for(name),
            "--namespace",
            self.settings.namespace,
            "--schedules",
            schedules,
            *(self.design.param_args() if self.design.own_processes else ()),
            *self._eviction_args(),
            *shard_args(self.shards),
        ]
        return ProcessSpec.python_module(name, CRON_ROLE, module, args, self._env(name))

    def _eviction_args(self) -> tuple[str, ...]:
        """The reference refuses an evicting Redis unless told; the testbed tells it, to
        measure what eviction costs (README, "The maxmemory axis")."""
        evicting = self.persistence.evicts and not self.design.own_processes
        return ("--allow-eviction",) if evicting else ()

    def _dispatcher_spec(self, name: str) -> ProcessSpec:
        args = [
            "dispatcher",
            "--url",
            self.url_for(name),
            "--namespace",
            self.settings.namespace,
            *self.design.param_args(),
        ]
        return ProcessSpec.python_module(
            name, DISPATCHER_ROLE, self.design.module, args, self._env(name)
        )

    def _add(self, spec: ProcessSpec) -> None:
        self._procs[spec.name] = ManagedProcess(spec, self.run_dir / "logs" / f"{spec.name}.log")
        self._proc_locks[spec.name] = threading.Lock()

    def _end(self, name: str, how: str, action: Callable[[], None]) -> int | None:
        proc = self._procs[name]
        with self._proc_locks[name]:
            pid = proc.pid
            action()
            with self._lock:
                was_up = name in self._up
                self._up.discard(name)
            if was_up:
                self._record_end(proc.spec.role, name, pid, how, returncode=proc.returncode)
        return pid

    def _check_redis_config(self) -> None:
        """Read the persistence settings back from every data node; a run must test the
        config it names. The first node's go into the history, with the topology, the
        server and the durability."""
        nodes: list[RedisNode] = [*self.data_nodes()] or [self.redis]
        found = [(node, read_settings(node.url)) for node in nodes]
        first = found[0][1]
        self.recorder.record(
            "info",
            REDIS_CONFIG,
            {
                "asked": self.config.label,
                "topology": self.topology,
                "server": server_name(nodes[0].binary, nodes[0].version),
                "durability": self.config.durability,
                "data_nodes": ",".join(f"{n.host}:{n.port}" for n in nodes),
                **first,
            },
        )
        wrong = [
            f"{node.host}:{node.port}: {problem}"
            for node, settings in found
            for problem in self.persistence.mismatches(settings)
        ]
        if wrong:
            raise RedisStartError(
                f"redis-server does not run the config asked for ({self.config.label}): "
                + "; ".join(wrong)
            )

    def _record_start(self, role: str, name: str, pid: int | None, **extra: object) -> None:
        self.recorder.record(
            "info", PROCESS_START, {"role": role, "name": name, "pid": pid, **extra}
        )

    def _record_end(self, role: str, name: str, pid: int | None, how: str, **extra: object) -> None:
        self.recorder.record(
            "info", PROCESS_END, {"role": role, "name": name, "pid": pid, "how": how, **extra}
        )

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "logs"

    def _keep_redis_log(self, name: str = "redis.log", data_dir: Path | None = None) -> None:
        data_dir = data_dir or self.redis.data_dir
        if data_dir is not None:
            self._keep_log(data_dir / "redis.log", name)

    def _keep_log(self, log: Path, name: str) -> None:
        """Copy a server's log into the run folder before its own folder is removed."""
        if log.exists():
            self.log_dir.mkdir(parents=True, exist_ok=True)
            shutil.copy(log, self.log_dir / name)


def _node_name(node: RedisServer) -> str:
    """A data node's name in the history: ``redis-PORT``."""
    return f"redis-{node.port}"
