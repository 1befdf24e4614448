"""A published design run end to end by the runner: its own processes, the same checkers.

The smoke scenario kills a worker once while a handler runs. The poll-remove-run
design removed that task from Redis before running it, so the run must show it
lost, and lost the way the design explains (its only run died mid-handler); it is
measured, not judged, so the run still passes.
"""

from __future__ import annotations

from pathlib import Path

from run_helpers import pid_alive, started_processes
from test_runner_end_to_end import SMOKE

from duetime.chaos.config import parse_config
from duetime.chaos.designs import POLL_REMOVE_RUN
from duetime.chaos.history.store import HISTORY_FILE
from duetime.chaos.runner import RunRequest, run_scenario


def test_poll_remove_run_loses_the_task_its_killed_worker_was_running(tmp_path: Path) -> None:
    request = RunRequest(
        scenario=SMOKE,
        persistence=parse_config("aof=always"),
        seed=3,
        out_root=tmp_path,
        command="(test)",
        design=POLL_REMOVE_RUN,
    )
    outcome = run_scenario(request)
    results = outcome.results
    assert results["status"] == "completed"
    assert results["strategy"] == "poll-remove-run"
    assert "poll-remove-run" in outcome.run_dir.name
    assert results["nemeses"]["injected"] == {"kill_worker": 1}
    lost = results["checkers"]["lost"]["details"]
    assert lost["acknowledged"] == 30
    assert lost["lost"] >= 1
    assert lost["lost_started_never_finished"] == lost["lost"]
    assert results["expectations"] == [] and outcome.passed
    started = started_processes(outcome.run_dir / HISTORY_FILE)
    commands = {p["name"] for p in started}
    assert {"worker-0", "worker-1", "worker-2"} <= commands
    for proc in started:
        assert not pid_alive(int(proc["pid"]))
