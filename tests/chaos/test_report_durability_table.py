"""The topology x durability table: from the runs' results to the rows a person acts on."""

from __future__ import annotations

from typing import Any

import pytest

from duetime.chaos.report.durability_table import (
    HEADERS,
    NOT_MEASURED,
    config_parts,
    durability_rows,
    durability_table,
    wants_table,
)
from duetime.chaos.report.rate_costs import Setting


def results(
    config: str,
    *,
    lost: int = 0,
    unexplained: int = 0,
    repeats: int = 0,
    late: float = 0.1,
    failovers: tuple[tuple[float, float | None, int | None], ...] = (),
) -> dict[str, Any]:
    return {
        "scenario": "s",
        "config": config,
        "checkers": {
            "lost": {
                "details": {
                    "acknowledged": 100,
                    "lost": lost,
                    "lost_unexplained": unexplained,
                    "failovers": [
                        {"promotion_s": p, "clients_waited_s": w, "missing_bytes": b}
                        for p, w, b in failovers
                    ],
                }
            },
            "duplicated": {
                "details": {
                    "duplicate_executions": repeats,
                    "duplicated_tasks": repeats,
                    "max_executions_per_task": 2 if repeats else 1,
                }
            },
            "lateness": {"details": {"max_s": late}},
        },
    }


def test_a_label_without_topology_or_durability_has_the_defaults() -> None:
    assert config_parts("aof=everysec") == {
        "topology": "single",
        "server": "redis",
        "durability": "none",
        "aof": "everysec",
    }
    parts = config_parts("topology=replicated,server=valkey,durability=wait,aof=always")
    assert (parts["topology"], parts["durability"], parts["server"]) == (
        "replicated",
        "wait",
        "valkey",
    )


def test_runs_are_summed_per_topology_and_durability_over_other_settings() -> None:
    rows = durability_rows(
        [
            results("topology=replicated,aof=everysec", lost=3, failovers=((4.2, 4.5, 0),)),
            results(
                "topology=replicated,server=valkey,aof=always",
                lost=1,
                late=2.5,
                failovers=((5.1, None, 310), (3.0, 3.4, None)),
            ),
            results("topology=replicated,durability=wait,aof=everysec", repeats=2),
            results("aof=everysec"),
            {"scenario": "s", "config": "topology=cluster,durability=waitaof,aof=off"},
        ]
    )
    assert [(r.topology, r.durability, r.runs) for r in rows] == [
        ("single", "none", 1),
        ("replicated", "none", 2),
        ("replicated", "wait", 1),
    ]  # the skipped cluster run measured nothing: no row
    none = rows[1]
    assert (none.acknowledged, none.lost, none.worst_lateness_s) == (200, 4, 2.5)
    assert (none.failovers, none.worst_promotion_s, none.worst_client_wait_s) == (3, 5.1, 4.5)
    assert (none.most_missing_bytes, rows[2].most_missing_bytes) == (310, None)


def rate_rows(*settings: tuple[str, str, str, float]) -> dict[Setting, dict[str, Any]]:
    return {(sv, t, d): {"calls": {"per_s": rate}} for sv, t, d, rate in settings}


def test_the_table_shows_each_row_and_the_benchmarks_cost() -> None:
    lines = durability_table(
        [
            results("topology=replicated,aof=everysec", lost=3, unexplained=1),
            results("topology=replicated,durability=wait,aof=everysec", repeats=2),
        ],
        rate_costs=rate_rows(
            ("redis", "single", "none", 2000), ("redis", "replicated", "wait", 820)
        ),
    )
    assert lines[0] == "| " + " | ".join(HEADERS) + " |"
    none, wait = (line.split(" | ") for line in lines[2:])
    assert none[:6] == ["| replicated", "none", "1", "100", "3", "1"]
    assert none[-1] == f"{NOT_MEASURED} |"
    assert wait[6] == "2 (2 tasks, max 2)"
    assert wait[-1] == "41% of single/none (820 calls/s) |"


def test_without_the_benchmark_every_cost_says_how_to_measure_it() -> None:
    lines = durability_table([results("topology=cluster,aof=everysec")])
    assert lines[-1].endswith("| not measured (run python -m benchmarks.durability) |")


def test_runs_on_several_servers_get_a_row_each_with_that_servers_cost() -> None:
    lines = durability_table(
        [
            results("topology=replicated,durability=wait,aof=everysec", lost=1),
            results("topology=replicated,server=valkey,durability=wait,aof=everysec"),
        ],
        rate_costs=rate_rows(
            ("redis", "single", "none", 1000),
            ("redis", "replicated", "wait", 500),
            ("valkey", "single", "none", 1000),
            ("valkey", "replicated", "wait", 900),
        ),
    )
    assert lines[0].startswith("| topology | durability | server | runs |")
    redis, valkey = (line.split(" | ") for line in lines[2:])
    assert (redis[2], redis[5], redis[-1]) == ("redis", "1", "50% of single/none (500 calls/s) |")
    assert (valkey[2], valkey[5], valkey[-1]) == (
        "valkey",
        "0",
        "90% of single/none (900 calls/s) |",
    )


def test_a_single_server_table_reads_that_servers_costs() -> None:
    lines = durability_table(
        [results("topology=cluster,server=valkey,aof=everysec")],
        rate_costs=rate_rows(("redis", "cluster", "none", 1), ("valkey", "cluster", "none", 700)),
    )
    assert "server" not in lines[0]
    assert lines[-1].endswith("| 700 calls/s |")  # no single/none of valkey: the rate


def test_the_table_is_wanted_only_when_some_run_left_topology_single() -> None:
    assert not wants_table([results("aof=everysec"), results("server=valkey,aof=always")])
    assert wants_table([results("aof=everysec"), results("topology=cluster,aof=always")])


@pytest.mark.parametrize("label", ["", "aof=off", "durability=wait"])
def test_a_row_without_results_is_not_shown(label: str) -> None:
    assert durability_table([{"config": label}]) == durability_table([])
