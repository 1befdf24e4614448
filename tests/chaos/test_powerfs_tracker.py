"""The durability tracker on real files, without FUSE: undo logs, fsync marks, drop.

A Hypothesis model checks the one invariant everything rests on: after a drop,
a file holds exactly what it held when the newest completed fsync began.
"""

from __future__ import annotations

import errno
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from duetime.chaos.system.powerfs.tracker import DurabilityTracker

Op = tuple[Any, ...]

_ops = st.one_of(
    st.tuples(st.just("write"), st.integers(0, 48), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("append"), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("truncate"), st.integers(0, 64)),
    st.tuples(st.just("fsync")),
    st.tuples(st.just("begin")),
    st.tuples(st.just("end"), st.integers(0, 3)),
    st.tuples(st.just("drop")),
)


@dataclass
class _Model:
    """What the file must hold now, and after a power loss."""

    current: bytearray = field(default_factory=bytearray)
    durable: bytes = b""
    durable_version: int = -1
    version: int = 0
    open_syncs: list[tuple[int, int, bytes, int]] = field(default_factory=list)
    drops: int = 0

    def write(self, offset: int, data: bytes) -> None:
        if offset > len(self.current):
            self.current.extend(bytes(offset - len(self.current)))
        self.current[offset : offset + len(data)] = data
        self.version += 1

    def truncate(self, length: int) -> None:
        del self.current[length:]
        self.current.extend(bytes(length - len(self.current)))
        self.version += 1

    def sync_ended(self, version: int, snapshot: bytes) -> None:
        if version > self.durable_version:
            self.durable, self.durable_version = snapshot, version


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


def _run(ops: list[Op], root: str) -> None:
    tracker = DurabilityTracker(root)
    path = os.path.join(root, "f")
    fh = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    model = _Model()
    try:
        for op in ops:
            kind = op[0]
            if kind == "write":
                offset, data = int(op[1]), bytes(op[2])
                tracker.write(fh, data, offset)
                model.write(offset, data)
            elif kind == "append":
                data = bytes(op[1])
                tracker.write(fh, data, 0, append=True)
                model.write(len(model.current), data)
            elif kind == "truncate":
                tracker.truncate(int(op[1]), fh=fh)
                model.truncate(int(op[1]))
            elif kind == "fsync":
                tracker.fsync(fh)
                model.sync_ended(model.version, bytes(model.current))
            elif kind == "begin":
                mark, _ = tracker.begin_fsync(fh)
                model.open_syncs.append((mark, model.version, bytes(model.current), model.drops))
            elif kind == "end" and model.open_syncs:
                index = int(op[1]) % len(model.open_syncs)
                mark, version, snapshot, drops = model.open_syncs.pop(index)
                if drops == model.drops:
                    tracker.end_fsync(mark)
                    model.sync_ended(version, snapshot)
                else:
                    with pytest.raises(OSError) as failed:
                        tracker.end_fsync(mark)
                    assert failed.value.errno == errno.EIO
            elif kind == "drop":
                tracker.drop()
                model.current = bytearray(model.durable)
                model.drops += 1
                model.version += 1
                model.durable_version = model.version
            assert Path(path).read_bytes() == model.current, f"after {op}"
        tracker.drop()
        assert Path(path).read_bytes() == model.durable
    finally:
        os.close(fh)
        tracker.close()


@settings(max_examples=300, deadline=None)
@given(st.lists(_ops, max_size=40))
def test_drop_restores_the_state_the_newest_completed_fsync_began_with(ops: list[Op]) -> None:
    with tempfile.TemporaryDirectory() as root:
        _run(ops, root)


@pytest.fixture
def tracked_file(workdir: Path) -> Iterator[tuple[DurabilityTracker, int, Path]]:
    tracker = DurabilityTracker(str(workdir))
    path = workdir / "f"
    fh = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    yield tracker, fh, path
    os.close(fh)
    tracker.close()


def test_pending_bytes_and_report_count_what_is_not_durable(
    tracked_file: tuple[DurabilityTracker, int, Path],
) -> None:
    tracker, fh, path = tracked_file
    tracker.write(fh, b"a" * 100, 0)
    tracker.fsync(fh)
    assert tracker.stats().pending == {}
    for _ in range(50):
        tracker.write(fh, b"b" * 10, 0, append=True)
    tracker.truncate(400, fh=fh)
    assert tracker.stats().pending == {"f": 50 * 10 + (600 - 400)}
    report = tracker.drop()
    assert [(f.path, f.size_before, f.size_after) for f in report.files] == [("f", 400, 100)]
    assert report.bytes_lost == 300
    assert path.read_bytes() == b"a" * 100


def test_a_drop_cuts_a_sleeping_fsync_short_with_eio(
    tracked_file: tuple[DurabilityTracker, int, Path],
) -> None:
    tracker, fh, path = tracked_file
    tracker.set_fsync_delay(30.0)
    tracker.write(fh, b"never durable", 0)
    failure: list[OSError] = []

    def sync() -> None:
        try:
            tracker.fsync(fh)
        except OSError as exc:
            failure.append(exc)

    thread = threading.Thread(target=sync)
    thread.start()
    while not tracker.stats().syncing:
        time.sleep(0.01)
    started = time.monotonic()
    tracker.drop()
    thread.join(timeout=5)
    assert not thread.is_alive() and time.monotonic() - started < 5
    assert [e.errno for e in failure] == [errno.EIO]
    assert path.read_bytes() == b""


def test_fsync_delay_must_not_be_negative(workdir: Path) -> None:
    with pytest.raises(ValueError):
        DurabilityTracker(str(workdir), fsync_delay=-1.0)
