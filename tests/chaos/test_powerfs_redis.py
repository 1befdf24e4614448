"""What each ``appendfsync`` mode keeps of acknowledged writes, with a real redis-server
on the power-loss filesystem: SIGKILL, drop what was not fsynced, restart.

Each test prints its figures (run with ``-s`` to see them).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from duetime.chaos.system.powerfs import DropReport, PowerLossFS, available
from duetime.chaos.system.redis_server import (
    Persistence,
    RedisNotFound,
    RedisServer,
    find_redis_server,
)

_OK, _WHY = available()
pytestmark = pytest.mark.skipif(not _OK, reason=_WHY)

_ServerFactory = Callable[[str], RedisServer]
"""Starts a redis-server with the given ``appendfsync`` mode on the mounted filesystem."""


@pytest.fixture
def fs(tmp_path: Path) -> Iterator[PowerLossFS]:
    with PowerLossFS(tmp_path / "backing", tmp_path / "mnt") as mounted:
        yield mounted


@pytest.fixture
def server_on(fs: PowerLossFS) -> Iterator[_ServerFactory]:
    try:
        find_redis_server()
    except RedisNotFound as exc:
        pytest.skip(str(exc))
    made: list[RedisServer] = []

    def make(aof: str) -> RedisServer:
        server = RedisServer(Persistence(aof=aof), data_dir=fs.mountpoint / "redis")
        made.append(server)
        return server.start()

    yield make
    for server in made:
        server.kill()


@dataclass
class Load:
    """Keys written one at a time; ``acked[i]`` is when the reply to SET k<i> arrived."""

    acked: dict[int, float] = field(default_factory=dict)

    def lost(self, server: RedisServer) -> list[int]:
        """The acknowledged keys that ``server`` does not hold."""
        with server.client() as client:
            present = {int(k[1:]) for k in client.keys("k*")}
        return [i for i in self.acked if i not in present]

    def figures(self, lost: list[int], killed_at: float) -> str:
        window = killed_at - self.acked[lost[0]] if lost else 0.0
        return f"acknowledged={len(self.acked)} lost={len(lost)} window={window:.3f}s"


def _write_n(server: RedisServer, n: int) -> Load:
    load = Load()
    with server.client() as client:
        for i in range(n):
            client.set(f"k{i}", i)
            load.acked[i] = time.monotonic()
    return load


class _Writer(threading.Thread):
    """Writes k0, k1, ... about every ``pause`` seconds until stopped or Redis dies."""

    def __init__(self, server: RedisServer, pause: float = 0.001) -> None:
        super().__init__(daemon=True)
        self.load = Load()
        self.pause = pause
        # No retries: after the SIGKILL the writer must stop, not reconnect.
        self._client = server.client(socket_timeout=30, retry=Retry(NoBackoff(), 0))
        self._halt = threading.Event()

    def run(self) -> None:
        i = 0
        try:
            while not self._halt.is_set():
                self._client.set(f"k{i}", i)
                self.load.acked[i] = time.monotonic()
                i += 1
                time.sleep(self.pause)
        except redis.RedisError:
            pass  # the server was killed: the write in flight is not acknowledged
        finally:
            self._client.close()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=60)


def _power_loss(server: RedisServer, fs: PowerLossFS) -> tuple[float, DropReport]:
    """SIGKILL, drop at once (cutting short any fsync the dying process waits on), reap."""
    assert server.pid is not None
    killed_at = time.monotonic()
    os.kill(server.pid, signal.SIGKILL)
    report = fs.drop_unsynced()
    server.kill()
    return killed_at, report


def _aof_pending(report: DropReport) -> int:
    return sum(f.pending_bytes for f in report.files if ".aof" in f.path)


def test_always_keeps_every_acknowledged_write(fs: PowerLossFS, server_on: _ServerFactory) -> None:
    server = server_on("always")
    load = _write_n(server, 300)
    killed_at, report = _power_loss(server, fs)
    server.start()
    lost = load.lost(server)
    print(f"\naof=always: {load.figures(lost, killed_at)} aof_dropped={_aof_pending(report)}B")
    assert _aof_pending(report) == 0
    assert lost == []


def test_no_loses_acknowledged_writes_on_power_loss_but_not_on_a_kill(
    fs: PowerLossFS, server_on: _ServerFactory
) -> None:
    server = server_on("no")
    load = _write_n(server, 300)
    server.kill()
    server.start()
    assert load.lost(server) == [], "a process kill alone must lose nothing"
    killed_at, report = _power_loss(server, fs)
    server.start()
    lost = load.lost(server)
    print(f"\naof=no: {load.figures(lost, killed_at)} aof_dropped={_aof_pending(report)}B")
    assert _aof_pending(report) > 0
    assert lost == list(load.acked)


def test_everysec_loses_at_most_the_last_second_or_two(
    fs: PowerLossFS, server_on: _ServerFactory
) -> None:
    server = server_on("everysec")
    writer = _Writer(server)
    writer.start()
    time.sleep(3.5)
    killed_at, report = _power_loss(server, fs)
    writer.stop()
    server.start()
    load = writer.load
    lost = load.lost(server)
    print(f"\naof=everysec: {load.figures(lost, killed_at)} aof_dropped={_aof_pending(report)}B")
    assert len(load.acked) > 1000
    if lost:
        assert lost == list(load.acked)[-len(lost) :], "what survives is a prefix of the writes"
        assert killed_at - load.acked[lost[0]] < 2.0


def test_slow_fsync_under_everysec_lets_a_plain_kill_lose_acknowledged_writes(
    fs: PowerLossFS, server_on: _ServerFactory
) -> None:
    """With fsync slower than 2 s, Redis postpones AOF writes while still replying,
    so a SIGKILL (no drop, so nothing the kernel had is lost) loses acknowledged writes.

    The kill is timed a few tenths of a second after an fsync began: Redis then is
    inside its postponement (at least 1 s long, as it counts whole seconds), with
    acknowledged writes only in its AOF buffer.
    """
    fs.set_fsync_delay(3.0)
    server = server_on("everysec")
    writer = _Writer(server)
    with server.client() as monitor:
        writer.start()
        deadline = time.monotonic() + 15
        while monitor.info("persistence")["aof_delayed_fsync"] < 1:
            assert time.monotonic() < deadline, "Redis never hit the 2 s postponement limit"
            time.sleep(0.1)
        while not any(0.3 < s.age_s < 0.7 and ".aof" in s.path for s in fs.stats().syncing):
            assert time.monotonic() < deadline + 10, "no new fsync started"
            time.sleep(0.02)
        info = monitor.info("persistence")
    assert server.pid is not None
    killed_at = time.monotonic()
    os.kill(server.pid, signal.SIGKILL)
    server.kill()
    reaped_after = time.monotonic() - killed_at
    writer.stop()
    log = (fs.mountpoint / "redis" / "redis.log").read_text()
    server.start()
    load = writer.load
    lost = load.lost(server)
    print(
        f"\neverysec, fsync 3 s, plain SIGKILL: {load.figures(lost, killed_at)}"
        f" aof_delayed_fsync={info['aof_delayed_fsync']}"
        f" aof_buffer_length={info['aof_buffer_length']} reaped_after={reaped_after:.2f}s"
    )
    assert "Asynchronous AOF fsync is taking too long" in log
    assert info["aof_buffer_length"] > 0
    assert lost, "acknowledged writes held in the AOF buffer must be lost"
    assert lost == list(load.acked)[-len(lost) :]
    assert killed_at - load.acked[lost[0]] < 2.0
