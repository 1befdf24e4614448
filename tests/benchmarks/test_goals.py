"""Issue 7's goals: met, not met with the gap, or not measured."""

from __future__ import annotations

from typing import Any

from benchmarks import goals


def by_goal(checked: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["goal"]: c for c in checked}


def test_rate_goal_met_and_missed() -> None:
    fast = {"drain": {"default": {"1": {"per_s": 12_000.0}}}}
    slow = {"drain": {"default": {"1": {"per_s": 9_000.0}}}}
    name = "drain, 1 worker process, defaults"
    assert by_goal(goals.check(fast))[name]["met"] is True
    missed = by_goal(goals.check(slow))[name]
    assert missed["met"] is False
    assert missed["gap"] == 1_000.0


def test_upper_bound_goal() -> None:
    r = {"memory": {"delayed": {"overhead_bytes": 180.0}}}
    c = by_goal(goals.check(r))["Redis memory per pending task beyond payload (delayed)"]
    assert (c["met"], c["gap"]) == (False, 30.0)


def test_unmeasured_goals_are_none() -> None:
    checked = goals.check({})
    assert all(c["met"] is None and c["measured"] is None for c in checked)
    assert "not measured" in goals.markdown(checked)


def scale_row(pending: int, rate: float, cpu: float, p99: float) -> dict[str, Any]:
    return {
        "pending": pending,
        "drain": {"per_s": rate, "redis_cpu_us_per_task": cpu},
        "lateness": {"p99_ms": p99},
    }


def test_flatness_compares_smallest_and_largest_backlog() -> None:
    r = {
        "scale": [
            scale_row(10_000_000, 20_000.0, 15.0, 3.5),
            scale_row(10_000, 30_000.0, 10.0, 2.0),
            scale_row(1_000_000, 29_000.0, 11.0, 2.2),
        ]
    }
    c = by_goal(goals.check(r))
    cpu = c["claim cost flat: Redis CPU per task, largest / smallest backlog"]
    assert cpu["measured"] == 1.5 and cpu["met"] is False
    rate = c["claim cost flat: drain rate, largest / smallest backlog"]
    assert abs(rate["measured"] - 2 / 3) < 1e-9 and rate["met"] is False
    late = next(v for k, v in c.items() if k.startswith("lateness flat"))
    assert late["measured"] == 0.5 and late["met"] is False  # 3.5 ms vs 2.0 + 1 ms


def test_defaults_fraction_takes_the_worse_process_count() -> None:
    r = {
        "drain": {
            "default": {"1": {"per_s": 9_000.0}, "2": {"per_s": 10_000.0}},
            "tuned": {"1": {"per_s": 10_000.0}, "2": {"per_s": 20_000.0}},
        }
    }
    c = next(v for k, v in by_goal(goals.check(r)).items() if k.startswith("defaults are"))
    assert c["measured"] == 0.5 and c["met"] is False
