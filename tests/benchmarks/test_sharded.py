"""The sharded benchmark's arithmetic and report (the run itself is a script: ``python -m
benchmarks sharded --quick``)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from benchmarks import shard_report
from benchmarks.shard_shares import EVEN_WITHIN, shares, unevenness
from benchmarks.sharded import summary
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("fractions", "shards", "off"),
    [
        pytest.param([1 / 3, 1 / 3, 1 / 3], 3, 0.0, id="three-even"),
        pytest.param([0.4, 0.3, 0.3], 3, 0.2, id="three-one-heavy"),
        pytest.param([0.5, 0.0, 0.5], 2, 0.0, id="two-on-two-masters"),
        pytest.param([1.0, 0.0, 0.0], 2, 1.0, id="two-on-one-master"),
        pytest.param([0.0, 1.0, 0.0], 1, 0.0, id="one-shard"),
        pytest.param([0.25, 0.25, 0.25, 0.25], 6, 0.0, id="more-shards-than-masters"),
        pytest.param([0.5, 0.5, 0.0], 3, 1.0, id="three-shards-one-master-idle"),
    ],
)
def test_unevenness_is_the_largest_gap_from_an_even_spread(
    fractions: list[float], shards: int, off: float
) -> None:
    assert unevenness(fractions, shards) == pytest.approx(off)


def test_shares_of_no_calls_are_zero() -> None:
    assert shares([0, 0, 0]) == [0.0, 0.0, 0.0]
    assert shares([1, 3]) == [0.25, 0.75]


def _phase(fractions: list[float], shards: int) -> dict[str, Any]:
    return {
        "per_s": 1000.0,
        "per_s_runs": [900.0, 1000.0, 1100.0],
        "shares": fractions,
        "unevenness": unevenness(fractions, shards),
        "script_calls_per_task": 0.01,
        "cpu_us_per_task": 10.0,
        "masters_alone_per_s": 100_000.0,
        "finished": True,
        "tasks": 10,
    }


def test_report_says_which_spread_misses_the_goal_and_how_many_cores_there_were() -> None:
    runs = [
        {"shards": 1, "enqueue": _phase([1, 0, 0], 1), "drain": _phase([1, 0, 0], 1)},
        {
            "shards": 3,
            "enqueue": _phase([0.36, 0.33, 0.31], 3),
            "drain": _phase([0.4, 0.3, 0.3], 3),
        },
    ]
    results = {
        "command": "python -m benchmarks sharded",
        "duration_s": 10.0,
        "when": "now",
        "machine": {
            "summary": "7 cores",
            "cores": 7,
            "load_before": [0.1],
            "load_after": [0.1],
            "load_max": 0.1,
            "busy": False,
        },
        "commit": "`abc`",
        "masters": 3,
        "replicas": 1,
        "sizes": {"tasks": 10, "workers": 2, "drain_cap_s": 1.0},
        "runs": runs,
    }
    text = shard_report.markdown(results)
    rows = [r for r in text.splitlines() if r.startswith("| 3 |")]
    assert "| 8% met |" in rows[0] and "| 20% NOT met |" in rows[1], rows
    assert "| 1,000 (900 to 1,100) |" in rows[0]
    assert EVEN_WITHIN == 0.10 and "goal 10%" in text
    assert "**This machine has 7 cores.** The 6 redis-servers" in text
    assert "(expectation, not measurement)" in text


def test_bad_shard_counts_are_a_usage_error() -> None:
    for bad in ("1,x",):
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks", "sharded", "--shards", bad],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert out.returncode == 2 and "--shards" in out.stderr, out.stderr


def test_summary_takes_the_median_rate_and_sums_what_each_master_served() -> None:
    phases = [
        {"per_s": r, "tasks": 100, "finished": True, "script_calls": c, "cpu_s": [0.1, 0.2, 0.1]}
        for r, c in ((10.0, [10, 10, 20]), (30.0, [20, 10, 10]), (20.0, [0, 10, 0]))
    ]
    out = summary(phases, 3)
    assert out["per_s"] == 20.0 and out["per_s_runs"] == [10.0, 30.0, 20.0]
    assert out["script_calls"] == [30, 30, 30] and out["unevenness"] == 0.0
    assert out["script_calls_per_task"] == pytest.approx(0.3)
    assert out["masters_alone_per_s"] == pytest.approx(300 / 0.6)
    assert summary([{**phases[0], "finished": False}, phases[1]], 3)["finished"] is False
