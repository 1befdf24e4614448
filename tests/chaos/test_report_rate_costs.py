"""The schedule-rate cost cells, read from a durability benchmark's results.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from duetime.chaos.report.rate_costs import (
    NOT_MEASURED,
    RateCostsError,
    cost_text,
    load_rate_costs,
)


def row(server: str, topology: str, durability: str, calls: float, batches: float | None):
    found: dict[str, Any] = {
        "server": server,
        "topology": topology,
        "durability": durability,
        "calls": {"per_s": calls},
    }
    if batches is not None:
        found["batches"] = {"per_s": batches}
    return found


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    return path


def test_a_cost_is_a_share_of_the_same_servers_single_none(tmp_path: Path) -> None:
    rows = load_rate_costs(
        write(
            tmp_path,
            {
                "rows": [
                    row("valkey", "single", "none", 4000, 50000),
                    row("valkey", "replicated", "waitaof", 12.4, 1250),
                    row("redis", "single", "none", 100, None),
                    row("redis", "cluster", "wait", 2000, None),
                ]
            },
        )
    )
    assert cost_text(rows, ("valkey", "replicated", "waitaof")) == (
        "0.3% of single/none (12 calls/s); batches: 2.5% of single/none (1,250 tasks/s)"
    )
    assert cost_text(rows, ("valkey", "single", "none")).startswith("100% of single/none")
    assert cost_text(rows, ("redis", "cluster", "wait")) == "2000% of single/none (2,000 calls/s)"


def test_without_a_baseline_the_rate_and_without_a_row_how_to_measure() -> None:
    rows = {("redis", "cluster", "wait"): row("redis", "cluster", "wait", 1234.5, 9000)}
    assert cost_text(rows, ("redis", "cluster", "wait")) == "1,234 calls/s; batches: 9,000 tasks/s"
    assert cost_text(rows, ("valkey", "cluster", "wait")) == NOT_MEASURED
    assert NOT_MEASURED == "not measured (run python -m benchmarks.durability)"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "no such file"),
        ("{not json", "not readable JSON"),
        ([1, 2], "has no 'rows'"),
        ({"rows": [{"server": "redis", "topology": "single"}]}, "a row without"),
        ({"rows": [row("redis", "single", "none", "fast", None)]}, "a row without"),  # type: ignore[arg-type]
    ],
)
def test_a_file_that_is_not_the_benchmarks_is_refused_saying_why(
    tmp_path: Path, content: Any, says: str
) -> None:
    path = tmp_path / "results.json"
    if isinstance(content, str):
        path.write_text(content)
    elif content is not None:
        write(tmp_path, content)
    with pytest.raises(RateCostsError, match=says):
        load_rate_costs(path)
