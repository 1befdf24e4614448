"""Ctrl-C during a search stops the run it is in, and every process of it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from run_helpers import REPO_ROOT, pid_alive, port_open, started_processes

from duetime.chaos.history.store import HISTORY_FILE, load_results


def test_sigint_mid_search_leaves_no_process_or_port_behind(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    cmd = [sys.executable, "-m", "duetime.chaos", "explore", "--config", "aof=always"]
    cmd += ["--space", "ci", "--faults", "kill_worker,kill_redis", "--examples", "5"]
    cmd += ["--out", str(tmp_path / "out"), "--runs", str(runs), "--database", ""]
    with subprocess.Popen(
        cmd, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as explorer:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            sinks = list(runs.glob("*/*/sink"))
            if sinks and any(sinks[0].glob("worker-*.jsonl")):
                break
            assert explorer.poll() is None, explorer.stderr.read() if explorer.stderr else ""
            time.sleep(0.1)
        else:
            raise AssertionError("the first example never started executing tasks")
        explorer.send_signal(signal.SIGINT)
        assert explorer.wait(timeout=60) == 130

    run_dir = sinks[0].parent
    started = started_processes(run_dir / HISTORY_FILE)
    assert started
    for proc in started:
        assert not pid_alive(int(proc["pid"])), f"{proc['name']} (pid {proc['pid']}) survived"
    ports = {int(p["port"]) for p in started if p["role"] == "redis"}
    assert ports and not any(port_open(port) for port in ports)
    assert load_results(run_dir)["status"] == "interrupted"
    assert not (tmp_path / "out" / "aof-always").exists(), "an interrupted search records nothing"
