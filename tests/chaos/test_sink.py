from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from duetime.chaos.history.clock import TestbedClock
from duetime.chaos.history.sink import EventSink
from duetime.chaos.history.sink_reader import SinkTail, read_sink

CHILD = """
import os, time
from duetime.chaos.history.sink import EventSink
sink = EventSink.from_env()
sink.record("invoke", "execute", {"exec_id": "1", "task_id": "t"})
print("written", flush=True)
time.sleep(60)
sink.record("ok", "execute", {"exec_id": "1", "task_id": "t"})
"""


def test_a_record_survives_sigkill_of_its_writer(tmp_path: Path) -> None:
    clock = TestbedClock.anchored_now()
    env = {**os.environ, **EventSink.env(tmp_path, "worker-9"), **clock.env()}
    with subprocess.Popen([sys.executable, "-c", CHILD], env=env, stdout=subprocess.PIPE) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == b"written"
        child.send_signal(signal.SIGKILL)
    ops = read_sink(tmp_path)
    assert [(op.type, op.process) for op in ops] == [("invoke", "worker-9")]
    assert abs(ops[0].time - clock.now()) < 30


def test_tail_returns_only_complete_new_lines(tmp_path: Path) -> None:
    sink = EventSink(tmp_path / "a.jsonl", "a", TestbedClock(offset=0.0))
    tail = SinkTail(tmp_path)
    assert tail.poll() == []
    sink.record("invoke", "schedule", {"task_id": "x"})
    line = sink.record("ok", "schedule", {"task_id": "x"}).to_json()
    with (tmp_path / "b.jsonl").open("a") as f:
        f.write(line[:15])
    first = tail.poll()
    assert [op.type for op in first] == ["invoke", "ok"]
    with (tmp_path / "b.jsonl").open("a") as f:
        f.write(line[15:] + "\n")
    assert [op.process for op in tail.poll()] == ["a"]
    assert tail.poll() == []
    sink.close()


def test_testbed_clock_reads_wall_time() -> None:
    clock = TestbedClock.anchored_now()
    assert abs(clock.now() - time.time()) < 0.05
