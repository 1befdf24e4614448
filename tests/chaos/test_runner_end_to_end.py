"""Whole runs against real redis-server and worker processes.

The short smoke run is part of the default suite; the scenario runs are slow.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import pytest
from run_helpers import REPO_ROOT, pid_alive, started_processes

from duetime.chaos.client.workload import Workload
from duetime.chaos.config import parse_config
from duetime.chaos.history.store import HISTORY_FILE, REPORT_FILE, RESULTS_FILE
from duetime.chaos.nemesis import FaultSchedule, KillWorker
from duetime.chaos.runner import RunOutcome, RunRequest, run_scenario
from duetime.chaos.scenario import Scenario, load_scenario

SMOKE = Scenario(
    name="smoke",
    description="A few tasks and one worker kill.",
    workload=Workload(tasks=30, duration=3.0, lead=(0.3, 1.0), work=(0.05, 0.3)),
    nemeses=(
        KillWorker(
            schedule=FaultSchedule(first_s=1.5, every_s=100.0, jitter_s=0.0, hold_s=(0.3, 0.3))
        ),
    ),
    drain_timeout_s=10.0,
)


def run(
    scenario: Scenario, tmp_path: Path, config: str = "aof=everysec", seed: int = 3
) -> RunOutcome:
    request = RunRequest(
        scenario=scenario,
        persistence=parse_config(config),
        seed=seed,
        out_root=tmp_path,
        command="(test)",
    )
    return run_scenario(request)


def scenario_file(name: str) -> Scenario:
    return load_scenario(REPO_ROOT / "scenarios" / f"{name}.py")


def test_smoke_run_writes_the_run_folder_and_stops_everything(tmp_path: Path) -> None:
    outcome = run(SMOKE, tmp_path)
    for name in (HISTORY_FILE, RESULTS_FILE, REPORT_FILE, "timeline.png"):
        assert (outcome.run_dir / name).is_file(), name
    results = outcome.results
    assert results["status"] == "completed"
    assert results["nemeses"]["injected"] == {"kill_worker": 1}
    assert results["checkers"]["lost"]["details"]["acknowledged"] == 30
    assert outcome.passed, results["expectations"]
    # Fencing is checked from the workers' own records of their lease changes.
    fenced = results["checkers"]["fenced"]
    assert fenced["verdict"] == "valid" and fenced["details"]["claims"] >= 30
    started = started_processes(outcome.run_dir / HISTORY_FILE)
    assert len(started) >= 4
    for proc in started:
        assert not pid_alive(int(proc["pid"]))


@pytest.mark.slow
def test_kill_workers_loses_nothing(tmp_path: Path) -> None:
    outcome = run(scenario_file("kill_workers").quick(), tmp_path)
    assert outcome.results["checkers"]["lost"]["details"]["lost"] == 0
    assert outcome.passed, outcome.results["expectations"]


@pytest.mark.slow
def test_broken_worker_that_acks_before_running_loses_tasks(tmp_path: Path) -> None:
    """Proof the testbed can fail: the lost checker must catch an ack-first worker."""
    if importlib.util.find_spec("duetime.chaos.client.broken_worker") is None:
        pytest.skip("duetime.chaos.client.broken_worker is not there yet")
    scenario = (
        scenario_file("kill_workers")
        .quick()
        .with_worker_module("duetime.chaos.client.broken_worker")
    )
    outcome = run(scenario, tmp_path)
    assert outcome.results["checkers"]["lost"]["details"]["lost"] > 0
    assert not outcome.passed


@pytest.mark.slow
def test_kill_redis_without_persistence_loses_as_documented(tmp_path: Path) -> None:
    scenario = scenario_file("kill_redis").quick()
    outcome = run(scenario, tmp_path, config="aof=off")
    assert outcome.results["checkers"]["lost"]["verdict"] == "invalid"
    assert outcome.passed  # the expectation for aof=off is "loses"


@pytest.mark.slow
def test_kill_redis_with_aof_always_loses_nothing(tmp_path: Path) -> None:
    outcome = run(scenario_file("kill_redis").quick(), tmp_path, config="aof=always")
    assert outcome.results["checkers"]["lost"]["details"]["lost"] == 0


def test_a_scenario_can_select_its_worker_module() -> None:
    s = dataclasses.replace(SMOKE).with_worker_module("duetime.chaos.client.broken_worker")
    assert s.cluster.worker_module == "duetime.chaos.client.broken_worker"
    assert SMOKE.cluster.worker_module == "duetime"
