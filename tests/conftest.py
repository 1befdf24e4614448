"""Fixtures that start real servers and processes. Each cleans up after itself."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from duetime import Scheduler
from duetime.chaos.system.redis_server import Persistence, RedisNotFound, RedisServer

ROOT = Path(__file__).resolve().parent.parent

# Few examples by default, so CI stays fast; --hypothesis-profile=deep searches long.
# The example database (.hypothesis/) stays on, so a failure found once is replayed first.
settings.register_profile("default", max_examples=40, stateful_step_count=30, deadline=None)
settings.register_profile("deep", max_examples=2000, stateful_step_count=80, deadline=None)
settings.load_profile("default")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One real redis-server for the session; tests keep apart by namespace."""
    try:
        server = RedisServer(Persistence(aof="off"))
    except RedisNotFound as exc:
        pytest.skip(str(exc))
    with server:
        yield server


@pytest.fixture
def fresh_redis() -> Iterator[RedisServer]:
    """A redis-server of the test's own, for tests that kill or pause it."""
    with RedisServer(Persistence(aof="always")) as server:
        yield server


@pytest.fixture
def namespace() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


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
        lines = self.path.read_text().splitlines()
        return [json.loads(x) for x in lines if x.strip()]

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
