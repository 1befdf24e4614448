"""Fixtures of the design tests: design processes on a real redis-server, and their history.

``design_procs.start(module, "worker", ...)`` runs ``python -m MODULE worker`` with
the chaos handlers, which record every execution to a sink in ``tmp_path``;
``design_procs.executions()`` reads them back as the checkers see them, and
``design_procs.started_early()`` judges their starts on the host's wall clock, as the
early checker does. Every process is SIGKILLed at teardown.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from duetime.chaos.checker.early import TOLERANCE_S
from duetime.chaos.checker.facts import Execution, executions
from duetime.chaos.checker.wall_clock import WallClock
from duetime.chaos.history.clock import TestbedClock
from duetime.chaos.history.host_clock import HostClockWatch
from duetime.chaos.history.ops import Op
from duetime.chaos.history.sink import EventSink
from duetime.chaos.history.sink_reader import read_sink
from duetime.chaos.system.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[3]


class DesignProcesses:
    """Starts processes of one design against one Redis; keeps them apart by name."""

    def __init__(self, url: str, namespace: str, tmp: Path) -> None:
        self.url = url
        self.namespace = namespace
        self.sink_dir = tmp / "sink"
        self.log_dir = tmp / "logs"
        self.clock = TestbedClock.anchored_now()
        self.procs: list[subprocess.Popen[bytes]] = []
        host_sink = EventSink(self.sink_dir / "host.jsonl", "host", self.clock)
        self.host_clock = HostClockWatch(host_sink)
        self.host_clock.start()

    def start(
        self, module: str, command: str, *extra: str, name: str | None = None
    ) -> subprocess.Popen[bytes]:
        """``python -m MODULE COMMAND --url --namespace [EXTRA...]`` in a new session."""
        name = name or f"{command}-{len(self.procs)}"
        env = {
            **os.environ,
            **EventSink.env(self.sink_dir, name),
            **self.clock.env(),
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
        }
        argv = [
            sys.executable,
            "-m",
            module,
            command,
            "--url",
            self.url,
            "--namespace",
            self.namespace,
            *extra,
        ]
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"{name}.log").open("ab") as log:
            proc = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL the process group and reap it."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> int:
        """SIGTERM, wait for a clean exit; returns the exit code."""
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=timeout)

    def history(self) -> list[Op]:
        return read_sink(self.sink_dir) if self.sink_dir.exists() else []

    def executions(self) -> list[Execution]:
        return executions(self.history())

    def started_early(self, tolerance: float = TOLERANCE_S) -> list[Execution]:
        """The runs that started before the due time their handler was given, on the
        host's wall clock (where Redis judged it)."""
        history = self.history()
        wall = WallClock.of(history)
        return [e for e in executions(history) if wall.latest(e.start) < e.due_at - tolerance]

    def wait_for(
        self, what: Callable[[list[Execution]], bool], timeout: float = 15.0
    ) -> list[Execution]:
        """Poll the executions until ``what`` holds; fail the test with the logs if not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = self.executions()
            if what(runs):
                return runs
            time.sleep(0.05)
        logs = "\n".join(p.read_text()[-2000:] for p in sorted(self.log_dir.glob("*.log")))
        pytest.fail(f"timed out after {timeout}s; executions: {self.executions()}\n{logs}")

    def close(self) -> None:
        self.host_clock.stop()
        self.host_clock.sink.close()
        for proc in self.procs:
            if proc.poll() is None:
                self.kill(proc)


@pytest.fixture
def design_procs(
    redis_server: RedisServer, namespace: str, tmp_path: Path
) -> Iterator[DesignProcesses]:
    procs = DesignProcesses(redis_server.url, namespace, tmp_path)
    yield procs
    procs.close()
