"""timeline.png's title names the run and its verdict."""

from __future__ import annotations

from duetime.chaos.report.plots import timeline_title


def test_the_title_names_scenario_config_seed_and_verdict() -> None:
    run = {"scenario": "kill_redis", "config": "aof=off", "seed": 7, "verdict": "failed"}
    assert timeline_title(run) == "kill_redis under aof=off, seed 7: FAILED"
    design = {**run, "strategy": "poll-remove-run", "verdict": "measured"}
    assert timeline_title(design) == "kill_redis (poll-remove-run) under aof=off, seed 7: MEASURED"
