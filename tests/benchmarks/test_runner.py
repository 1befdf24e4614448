"""Which systems and backlogs a run takes on, and the ceiling's parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import envs
from benchmarks.measures.ceiling import parse_benchmark_csv
from benchmarks.report import ceiling_fraction, clean
from benchmarks.runner import Options, chosen_systems, peer_levels
from benchmarks.sizes import FULL
from benchmarks.systems import SYSTEMS


def opts(quick: bool, systems: list[str] | None = None) -> Options:
    return Options(quick, systems, Path("/nonexistent"), "python -m benchmarks run")


def test_quick_runs_duetime_and_one_peer_and_says_why_not_the_rest() -> None:
    chosen, skipped = chosen_systems(opts(True))
    assert chosen == ["duetime", "arq"]
    assert set(skipped) == set(SYSTEMS) - {"duetime", "arq"}
    assert all("--quick" in why for why in skipped.values())


def test_systems_filter_keeps_the_table_order_and_rejects_unknown_names() -> None:
    assert chosen_systems(opts(False, ["bullmq", "duetime"]))[0] == ["duetime", "bullmq"]
    with pytest.raises(ValueError, match="unknown"):
        chosen_systems(opts(False, ["sidekiq"]))


def test_large_backlogs_only_where_loading_fits_the_budget() -> None:
    bullmq, arq, celery = SYSTEMS["bullmq"], SYSTEMS["arq"], SYSTEMS["celery"]
    assert peer_levels(bullmq, FULL, 20_000.0) == ((10_000, 1_000_000), "")
    levels, note = peer_levels(arq, FULL, 3_000.0)
    assert levels == (10_000,) and "would take 6 min" in note
    levels, note = peer_levels(celery, FULL, 50_000.0)
    assert levels == (10_000,) and "memory" in note


def test_redis_benchmark_csv() -> None:
    text = (
        '"test","rps","avg_latency_ms","min_latency_ms"\n'
        '"EVALSHA e0e1 0","145772.59","0.201","0.056"\n'
    )
    assert parse_benchmark_csv(text) == 145772.59


def test_ceiling_fraction_uses_script_calls_and_cpu_per_task() -> None:
    duetime = {
        "drain": {
            "default": {
                "1": {
                    "per_s": 10_000.0,
                    "script_calls_per_task": 0.25,
                    "redis_cpu_us_per_task": 20.0,
                }
            }
        }
    }
    out = ceiling_fraction(duetime, {"python_unpipelined_per_s": 20_000.0, "note": "x"})
    assert out["python_unpipelined"] == {"tasks_per_s": 80_000.0, "fraction": 0.125}
    assert out["redis_cpu"] == {"tasks_per_s": 50_000.0, "fraction": 0.2}


def test_clean_makes_standard_json() -> None:
    assert clean({"a": [float("nan"), 1.0], "b": float("inf")}) == {"a": [None, 1.0], "b": None}


def test_without_node_bullmq_is_skipped_not_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(envs.shutil, "which", lambda name: None)
    env = SYSTEMS["bullmq"].env
    assert isinstance(env, envs.NodeEnv)
    with pytest.raises(envs.EnvUnavailable, match="node") as caught:
        env.ensure(Path("/nonexistent"))
    assert caught.value.missing_tool
