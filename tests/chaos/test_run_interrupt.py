from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from run_helpers import REPO_ROOT, pid_alive, port_open, started_processes

from duetime.chaos.history.store import HISTORY_FILE, load_results


def test_sigint_mid_run_leaves_no_process_or_port_behind(tmp_path: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "duetime.chaos",
        "run",
        "scenarios/kill_workers.py",
        "--quick",
        "--out",
        str(tmp_path),
    ]
    with subprocess.Popen(
        cmd, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as runner:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            sinks = list(tmp_path.glob("*/sink"))
            executing = sinks and any(sinks[0].glob("worker-*.jsonl"))
            if executing:
                break
            assert runner.poll() is None, runner.stderr.read() if runner.stderr else ""
            time.sleep(0.1)
        else:
            raise AssertionError("the run never started executing tasks")
        assert len(started_processes(sinks[0] / "cluster.jsonl")) >= 4  # redis, 3 workers
        runner.send_signal(signal.SIGINT)
        assert runner.wait(timeout=60) == 130

    run_dir = sinks[0].parent
    started = started_processes(run_dir / HISTORY_FILE)
    for proc in started:
        assert not pid_alive(int(proc["pid"])), f"{proc['name']} (pid {proc['pid']}) survived"
    ports = {int(p["port"]) for p in started if p["role"] == "redis"}
    assert ports and not any(port_open(port) for port in ports)
    assert load_results(run_dir)["status"] == "interrupted"
