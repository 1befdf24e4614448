"""The power-loss filesystem mounted for real: what survives a drop, and cleanup."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from duetime.chaos.system.powerfs import ControlError, PowerLossFS, available
from duetime.chaos.system.powerfs.control import request
from duetime.chaos.system.powerfs.mounts import is_mounted

_OK, _WHY = available()
pytestmark = pytest.mark.skipif(not _OK, reason=_WHY)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fs(tmp_path: Path) -> Iterator[PowerLossFS]:
    with PowerLossFS(tmp_path / "backing", tmp_path / "mnt") as mounted:
        yield mounted
    assert not is_mounted(tmp_path / "mnt")


def _append(path: Path, data: bytes, *, fsync: bool = False) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, data)
        if fsync:
            os.fdatasync(fd)
    finally:
        os.close(fd)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def test_only_the_fsynced_part_survives_a_drop(fs: PowerLossFS) -> None:
    f = fs.mountpoint / "log"
    _append(f, b"durable;", fsync=True)
    _append(f, b"lost;")
    _append(f, b"also lost;")
    assert fs.pending_bytes() == {"log": 15}
    report = fs.drop_unsynced()
    assert [(d.path, d.pending_bytes, d.size_before, d.size_after) for d in report.files] == [
        ("log", 15, 23, 8)
    ]
    assert f.read_bytes() == b"durable;"
    assert (fs.backing_dir / "log").read_bytes() == b"durable;"


def test_reads_and_stat_see_writes_before_any_fsync(fs: PowerLossFS) -> None:
    f = fs.mountpoint / "f"
    _append(f, b"abc")
    assert f.read_bytes() == b"abc"
    assert f.stat().st_size == 3
    fd = os.open(f, os.O_RDWR)
    try:
        os.pwrite(fd, b"X", 1)
        assert os.pread(fd, 10, 0) == b"aXc"
    finally:
        os.close(fd)


def test_an_overwrite_after_fsync_is_undone(fs: PowerLossFS) -> None:
    f = fs.mountpoint / "f"
    _append(f, b"0123456789", fsync=True)
    fd = os.open(f, os.O_RDWR)
    try:
        os.pwrite(fd, b"abcdefghijklmno", 5)
    finally:
        os.close(fd)
    assert f.read_bytes() == b"01234abcdefghijklmno"
    fs.drop_unsynced()
    assert f.read_bytes() == b"0123456789"


def test_a_new_file_never_fsynced_is_left_empty(fs: PowerLossFS) -> None:
    (fs.mountpoint / "dir").mkdir()
    f = fs.mountpoint / "dir" / "new"
    _append(f, b"x" * 5000)
    report = fs.drop_unsynced()
    assert report.file("dir/new") is not None
    assert f.exists() and f.read_bytes() == b""


def test_fsync_then_rename_keeps_the_data_like_redis_manifests(fs: PowerLossFS) -> None:
    target = fs.mountpoint / "appendonly.aof.manifest"
    _append(target, b"old manifest\n", fsync=True)
    temp = fs.mountpoint / "temp-appendonly.aof.manifest"
    _append(temp, b"new manifest\n", fsync=True)
    os.rename(temp, target)
    assert fs.drop_unsynced().files == ()
    assert target.read_bytes() == b"new manifest\n"
    assert not temp.exists()


def test_pending_changes_follow_a_renamed_file(fs: PowerLossFS) -> None:
    old = fs.mountpoint / "a"
    _append(old, b"synced;", fsync=True)
    _append(old, b"pending;")
    (fs.mountpoint / "sub").mkdir()
    os.rename(old, fs.mountpoint / "sub" / "b")
    assert fs.pending_bytes() == {"sub/b": 8}
    report = fs.drop_unsynced()
    assert [d.path for d in report.files] == ["sub/b"]
    assert (fs.mountpoint / "sub" / "b").read_bytes() == b"synced;"


def test_truncations_are_undone(fs: PowerLossFS) -> None:
    shrunk, grown = fs.mountpoint / "shrunk", fs.mountpoint / "grown"
    _append(shrunk, b"0123456789", fsync=True)
    _append(grown, b"0123456789", fsync=True)
    os.truncate(shrunk, 3)
    with open(grown, "r+b") as g:
        g.truncate(100)
    assert shrunk.read_bytes() == b"012" and grown.stat().st_size == 100
    fs.drop_unsynced()
    assert shrunk.read_bytes() == b"0123456789"
    assert grown.read_bytes() == b"0123456789"


def test_open_with_o_trunc_is_undone(fs: PowerLossFS) -> None:
    f = fs.mountpoint / "f"
    _append(f, b"before", fsync=True)
    f.write_bytes(b"after, never fsynced")
    fs.drop_unsynced()
    assert f.read_bytes() == b"before"


def test_many_files_keep_exactly_their_fsynced_data(fs: PowerLossFS) -> None:
    for i in range(40):
        _append(fs.mountpoint / f"f{i}", f"{i}:durable;".encode(), fsync=i % 2 == 0)
        _append(fs.mountpoint / f"f{i}", b"pending")
    report = fs.drop_unsynced()
    assert len(report.files) == 40
    for i in range(40):
        expected = f"{i}:durable;".encode() if i % 2 == 0 else b""
        assert (fs.mountpoint / f"f{i}").read_bytes() == expected


def test_one_fsync_covers_every_handle_of_the_file(fs: PowerLossFS) -> None:
    f = fs.mountpoint / "f"
    a = os.open(f, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    b = os.open(f, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(a, b"a1;")
        os.write(b, b"b1;")
        os.write(a, b"a2;")
        os.fsync(b)
        os.write(b, b"b2;")
    finally:
        os.close(a)
        os.close(b)
    assert f.read_bytes() == b"a1;b1;a2;b2;"
    fs.drop_unsynced()
    assert f.read_bytes() == b"a1;b1;a2;"


def test_a_drop_with_nothing_pending_changes_nothing(fs: PowerLossFS) -> None:
    assert fs.drop_unsynced().files == ()
    f = fs.mountpoint / "f"
    _append(f, b"data", fsync=True)
    _fsync(f)
    assert fs.pending_bytes() == {}
    assert fs.drop_unsynced().files == ()
    assert f.read_bytes() == b"data"
    assert fs.stats().drops == 2


def test_an_unlinked_file_with_pending_data_is_just_gone(fs: PowerLossFS) -> None:
    f = fs.mountpoint / "f"
    _append(f, b"pending")
    f.unlink()
    assert fs.drop_unsynced().files == ()
    assert not f.exists()


def test_an_open_handle_reads_the_dropped_state_not_a_cached_one(fs: PowerLossFS) -> None:
    f = fs.mountpoint / "f"
    _append(f, b"kept", fsync=True)
    fd = os.open(f, os.O_RDWR | os.O_APPEND)
    try:
        os.write(fd, b"+lost")
        assert os.pread(fd, 100, 0) == b"kept+lost"
        fs.drop_unsynced()
        assert os.pread(fd, 100, 0) == b"kept"
        assert os.fstat(fd).st_size == 4
        os.write(fd, b"+again")
        assert os.pread(fd, 100, 0) == b"kept+again"
    finally:
        os.close(fd)


def test_fsync_delay_makes_each_fsync_slow(fs: PowerLossFS) -> None:
    f = fs.mountpoint / "f"
    _append(f, b"data")
    fs.set_fsync_delay(0.6)
    seen: list[list[str]] = []

    def look_while_syncing() -> None:
        time.sleep(0.3)
        seen.append([s.path for s in fs.stats().syncing])

    watcher = threading.Thread(target=look_while_syncing)
    watcher.start()
    started = time.monotonic()
    _fsync(f)
    slow = time.monotonic() - started
    watcher.join()
    fs.set_fsync_delay(0.0)
    started = time.monotonic()
    _fsync(f)
    fast = time.monotonic() - started
    assert slow >= 0.6 > fast
    assert seen == [["f"]]
    assert fs.stats().fsync_delay == 0.0


def test_a_drop_during_a_slow_fsync_fails_that_fsync(fs: PowerLossFS) -> None:
    f = fs.mountpoint / "f"
    _append(f, b"in flight")
    fs.set_fsync_delay(30.0)
    errors: list[int | None] = []

    def sync() -> None:
        try:
            _fsync(f)
        except OSError as exc:
            errors.append(exc.errno)

    thread = threading.Thread(target=sync)
    thread.start()
    deadline = time.monotonic() + 5
    while not fs.stats().syncing and time.monotonic() < deadline:
        time.sleep(0.01)
    report = fs.drop_unsynced()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert errors == [errno.EIO]
    assert [d.path for d in report.files] == ["f"]
    assert f.read_bytes() == b""


def test_the_control_socket_rejects_bad_commands(fs: PowerLossFS) -> None:
    sock = str(fs.control_socket)
    with pytest.raises(ControlError, match="unknown command"):
        request(sock, "format-disk")
    with pytest.raises(ControlError, match="fsync-delay"):
        request(sock, "fsync-delay -1")
    out = subprocess.run(
        [sys.executable, "-m", "duetime.chaos.system.powerfs", "ctl", sock, "ping"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
        check=True,
    ).stdout
    assert out.strip() == '"pong"'


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def test_stop_cleans_up_after_the_filesystem_process_was_killed(tmp_path: Path) -> None:
    fs = PowerLossFS(tmp_path / "b", tmp_path / "m").start()
    try:
        assert fs.pid is not None
        os.kill(fs.pid, signal.SIGKILL)
        time.sleep(0.2)
        assert is_mounted(fs.mountpoint)
        with pytest.raises(OSError) as dead:
            os.listdir(fs.mountpoint)
        assert dead.value.errno == errno.ENOTCONN
    finally:
        fs.stop()
    assert not is_mounted(fs.mountpoint) and not fs.running


_OWNER = textwrap.dedent(
    """
    import sys, time
    from duetime.chaos.system.powerfs import PowerLossFS
    with PowerLossFS(sys.argv[1], sys.argv[2]) as fs:
        print(fs.pid, fs.control_socket.parent, flush=True)
        time.sleep(60)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_nothing_stays_mounted_when_the_owner_is_interrupted_or_killed(
    tmp_path: Path, sig: signal.Signals
) -> None:
    mnt = tmp_path / "m"
    owner = subprocess.Popen(
        [sys.executable, "-c", _OWNER, str(tmp_path / "b"), str(mnt)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert owner.stdout is not None
        pid, runtime = owner.stdout.readline().split()
        daemon = int(pid)
        assert is_mounted(mnt) and _alive(daemon) and Path(runtime).is_dir()
        owner.send_signal(sig)
        owner.wait(timeout=20)
        deadline = time.monotonic() + 10
        while (is_mounted(mnt) or _alive(daemon)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not is_mounted(mnt)
        assert not _alive(daemon)
        assert not Path(runtime).exists()
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
        if owner.stdout is not None:
            owner.stdout.close()


def test_a_mountpoint_inside_its_backing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="contain"):
        PowerLossFS(tmp_path, tmp_path / "mnt")
    with pytest.raises(ValueError, match="contain"):
        PowerLossFS(tmp_path / "mnt" / "backing", tmp_path / "mnt")
