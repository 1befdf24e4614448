"""kill_workers, quick, on a Sentinel group and on a local Redis Cluster: real servers,
real worker processes, the run's checks and drain through the topology's URL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from run_helpers import REPO_ROOT, pid_alive, started_processes

from duetime.chaos.cli import main
from duetime.chaos.config import parse_run_config
from duetime.chaos.history.store import HISTORY_FILE
from duetime.chaos.runner import RunOutcome, RunRequest, run_scenario
from duetime.chaos.scenario import load_scenario
from duetime.chaos.system.redis_cluster import NODE_TIMEOUT_MS
from duetime.chaos.system.run_config import CLUSTER_SHARDS


def run(label: str, tmp_path: Path, cluster_shards: int = CLUSTER_SHARDS) -> RunOutcome:
    config = parse_run_config(label)
    scenario = load_scenario(REPO_ROOT / "scenarios" / "kill_workers.py").quick()
    return run_scenario(
        RunRequest(
            scenario=scenario,
            persistence=config.persistence,
            seed=1,
            out_root=tmp_path,
            command="(test)",
            run_config=config,
            cluster_shards=cluster_shards,
        )
    )


def redis_config(outcome: RunOutcome) -> dict[str, str]:
    for line in (outcome.run_dir / HISTORY_FILE).read_text().splitlines():
        op = json.loads(line)
        if op["f"] == "redis-config":
            return dict(op["value"])
    raise AssertionError("no redis-config op")


def assert_everything_stopped(outcome: RunOutcome, data_nodes: int) -> None:
    started = started_processes(outcome.run_dir / HISTORY_FILE)
    assert sum(1 for p in started if p["role"] == "redis") == data_nodes
    for proc in started:
        assert not pid_alive(int(proc["pid"])), proc


@pytest.mark.slow
def test_kill_workers_on_a_sentinel_group_with_producers_waiting_for_a_replica(
    tmp_path: Path,
) -> None:
    outcome = run("topology=replicated,durability=wait,aof=everysec", tmp_path)
    assert outcome.passed, (outcome.results["verdict_reasons"], outcome.results["error"])
    settings = redis_config(outcome)
    assert settings["topology"] == "replicated"
    assert settings["durability"] == "wait"
    assert settings["server"].startswith("redis-")
    assert len(settings["data_nodes"].split(",")) == 3
    assert settings["min-replicas-to-write"] == "0"  # Redis's default: no minority bound
    sentinel_logs = sorted((outcome.run_dir / "logs").glob("sentinel-*.log"))
    assert len(sentinel_logs) == 3
    assert all("+monitor master" in log.read_text() for log in sentinel_logs)
    assert outcome.results["checkers"]["lost"]["details"]["acknowledged"] > 0
    assert_everything_stopped(outcome, data_nodes=3)


@pytest.mark.slow
def test_kill_workers_on_a_local_redis_cluster(tmp_path: Path) -> None:
    outcome = run("topology=cluster,aof=everysec", tmp_path)
    assert outcome.passed, (outcome.results["verdict_reasons"], outcome.results["error"])
    settings = redis_config(outcome)
    assert settings["topology"] == "cluster"
    assert len(settings["data_nodes"].split(",")) == 6
    assert settings["cluster-node-timeout"] == str(NODE_TIMEOUT_MS)
    assert outcome.results["checkers"]["lost"]["details"]["acknowledged"] > 0
    assert_everything_stopped(outcome, data_nodes=6)


@pytest.mark.slow
def test_a_published_design_runs_behind_sentinel_with_its_own_workers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "kill_workers", "--strategy", "poll-remove-run", "--quick"]
    assert main([*argv, "--config", "topology=replicated", "--out", str(tmp_path)]) == 0
    assert "MEASURED" in capsys.readouterr().out
    (run_dir,) = tmp_path.iterdir()
    results = json.loads((run_dir / "results.json").read_text())
    assert (results["status"], results["error"]) == ("completed", "")
    assert (results["strategy"], results["topology"]) == ("poll-remove-run", "replicated")
    assert results["checkers"]["lost"]["details"]["executed"] > 0
    started = started_processes(run_dir / HISTORY_FILE)
    assert {p["role"] for p in started} >= {"redis", "worker"}
    assert sum(1 for p in started if p["role"] == "redis") == 3
    for proc in started:
        assert not pid_alive(int(proc["pid"])), proc
