"""Whole runs with network and disk faults: they heal, they stop everything they started
(proxies, FUSE mounts, processes), also on Ctrl-C, and the new scenarios' quick runs meet
their expectations.

The partition smoke run is in the default suite; the rest is ``-m slow``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from run_helpers import REPO_ROOT, pid_alive, port_open, started_processes

from duetime.chaos.client.workload import Workload
from duetime.chaos.config import parse_config
from duetime.chaos.history.store import HISTORY_FILE
from duetime.chaos.nemesis import FaultSchedule, NetworkToxic, Partition
from duetime.chaos.runner import RunRequest, run_scenario
from duetime.chaos.scenario import Scenario, load_scenario
from duetime.chaos.system.cluster import POWER_DISK, ROUTE
from duetime.chaos.system.powerfs import available
from duetime.chaos.system.powerfs.mounts import is_mounted

FUSE, WHY_NOT = available()
needs_fuse = pytest.mark.skipif(not FUSE, reason=f"FUSE is not available here: {WHY_NOT}")

SMOKE = Scenario(
    name="partition_smoke",
    description="Latency on every client, then the workers cut off past their lease.",
    workload=Workload(tasks=30, duration=3.0, lead=(0.3, 1.0), work=(0.05, 0.3)),
    nemeses=(
        NetworkToxic.latency(
            50, schedule=FaultSchedule(first_s=0.3, every_s=60, jitter_s=0, hold_s=(0.5, 0.5))
        ),
        Partition(
            group="workers",
            schedule=FaultSchedule(first_s=1.0, every_s=60, jitter_s=0, hold_s=(2.5, 2.5)),
        ),
    ),
    drain_timeout_s=15.0,
)


def events(run_dir: Path, f: str) -> list[dict[str, Any]]:
    lines = (run_dir / HISTORY_FILE).read_text().splitlines()
    return [op["value"] for op in map(json.loads, lines) if op["f"] == f]


def route_ports(run_dir: Path) -> list[int]:
    return [int(route["url"].rsplit(":", 1)[1].split("/")[0]) for route in events(run_dir, ROUTE)]


def assert_nothing_left(run_dir: Path) -> None:
    for proc in started_processes(run_dir / HISTORY_FILE):
        assert not pid_alive(int(proc["pid"])), f"{proc['name']} (pid {proc['pid']}) survived"
    assert not any(port_open(port) for port in route_ports(run_dir)), "a proxy still listens"
    for disk in events(run_dir, POWER_DISK):
        mountpoint = Path(disk["mountpoint"])
        assert not is_mounted(mountpoint) and not mountpoint.parent.exists()


def test_a_partitioned_run_recovers_and_stops_its_proxies(tmp_path: Path) -> None:
    outcome = run_scenario(
        RunRequest(
            scenario=SMOKE,
            persistence=parse_config("aof=everysec"),
            seed=2,
            out_root=tmp_path,
            command="(test)",
        )
    )
    results = outcome.results
    assert results["nemeses"]["injected"] == {"latency": 1, "partition_workers": 1}
    assert results["checkers"]["lost"]["details"]["lost"] == 0
    assert outcome.passed, results["expectations"]
    routed = {route["client"] for route in events(outcome.run_dir, ROUTE)}
    assert routed == {"worker-0", "worker-1", "worker-2", "producer-0", "producer-1"}
    assert_nothing_left(outcome.run_dir)


def interrupt_mid_run(tmp_path: Path, scenario: str, after: str) -> Path:
    """Start ``scenario --quick``, SIGINT it once its sink shows ``after``; its run folder."""
    cmd = [
        sys.executable,
        "-m",
        "duetime.chaos",
        "run",
        scenario,
        "--quick",
        "--out",
        str(tmp_path),
    ]
    with subprocess.Popen(
        cmd, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as runner:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            sinks = list(tmp_path.glob("*/sink/nemesis.jsonl"))
            if sinks and after in sinks[0].read_text():
                break
            assert runner.poll() is None, runner.stderr.read() if runner.stderr else ""
            time.sleep(0.1)
        else:
            raise AssertionError(f"{after} never showed up")
        runner.send_signal(signal.SIGINT)
        assert runner.wait(timeout=90) == 130
    return sinks[0].parent.parent


@pytest.mark.slow
def test_ctrl_c_during_a_partition_leaves_no_proxy_or_process(tmp_path: Path) -> None:
    run_dir = interrupt_mid_run(tmp_path, "scenarios/partition_workers.py", "fault-start")
    assert route_ports(run_dir)
    assert_nothing_left(run_dir)


@needs_fuse
@pytest.mark.slow
def test_ctrl_c_during_power_loss_leaves_no_mount_or_process(tmp_path: Path) -> None:
    run_dir = interrupt_mid_run(tmp_path, "scenarios/power_loss.py", "fault-start")
    assert events(run_dir, POWER_DISK)
    assert_nothing_left(run_dir)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "config"),
    [
        ("partition_workers", "aof=everysec"),
        ("partition_producers", "aof=everysec"),
        ("flaky_network", "aof=always"),
        pytest.param("power_loss", "aof=everysec", marks=needs_fuse),
        pytest.param("power_loss", "aof=no", marks=needs_fuse),
        pytest.param("slow_disk", "aof=everysec", marks=needs_fuse),
        ("poison_records", "aof=everysec"),
        ("full_memory", "aof=everysec"),
        ("full_memory", "aof=everysec,maxmemory=noeviction"),
    ],
)
def test_quick_runs_of_the_fault_scenarios_meet_their_expectations(
    tmp_path: Path, name: str, config: str
) -> None:
    scenario = load_scenario(REPO_ROOT / "scenarios" / f"{name}.py").quick()
    outcome = run_scenario(
        RunRequest(
            scenario=scenario,
            persistence=parse_config(config),
            seed=1,
            out_root=tmp_path,
            command="(test)",
        )
    )
    assert outcome.passed, outcome.results["expectations"]
    assert not outcome.results["warnings"], outcome.results["warnings"]
    assert_nothing_left(outcome.run_dir)
