"""The matrix's generated summary: from results to plain words, and where runs disagree
with what Redis documents."""

from __future__ import annotations

from typing import Any

from duetime.chaos.report.matrix import HEADERS, render_markdown
from duetime.chaos.report.matrix_summary import loss_cell, summary_section


def window(
    fault: str, at_risk: int, lost: int, oldest: float | None, fault_id: str = "f-1"
) -> dict[str, Any]:
    return {
        "fault_id": fault_id,
        "fault": fault,
        "at": 100.0,
        "at_risk": at_risk,
        "lost": lost,
        "everything_at_risk_lost": at_risk > 0 and lost == at_risk,
        "oldest_lost_ack_s": oldest,
        "newest_lost_ack_s": 0.01 if lost else None,
        "oldest_at_risk_ack_s": 5.0,
    }


def results(config: str, *windows: dict[str, Any], unexplained: int = 0) -> dict[str, Any]:
    lost = sum(w["lost"] for w in windows) + unexplained
    return {
        "scenario": "s",
        "config": config,
        "status": "completed",
        "passed": True,
        "run_id": f"run-{config}",
        "expectations": [],
        "checkers": {
            "lost": {
                "details": {
                    "acknowledged": 100,
                    "executed": 100 - lost,
                    "lost": lost,
                    "lost_unexplained": unexplained,
                    "loss_windows": list(windows),
                }
            },
            "duplicated": {"details": {"duplicated_tasks": 2, "max_executions_per_task": 2}},
            "lateness": {"details": {"p99_s": 0.5, "max_s": 1.5}},
        },
    }


def summary(*all_results: dict[str, Any]) -> str:
    return "\n".join(summary_section(all_results))


def test_a_setting_that_lost_nothing_says_so() -> None:
    text = summary(results("aof=always", window("power_loss", 30, 0, None)))
    assert (
        "**aof=always**: No acknowledged task lost through power loss x1. Not tried here: "
        "process kill, process kill on a slow disk, power loss on a slow disk; nothing is "
        "claimed for them."
    ) in text
    assert "power loss x1: nothing lost of 30 acknowledged tasks at risk" in text
    assert "Disagrees" not in text


def test_losing_everything_pending_is_said_with_its_window() -> None:
    text = summary(
        results("aof=no", window("power_loss", 30, 30, 5.5), window("kill_redis", 20, 0, None))
    )
    assert (
        "Loses acknowledged tasks on power loss: every pending task (acknowledged up to "
        "5.50 s before it here). Kept everything through process kill." in text
    )
    assert "Disagrees" not in text


def test_a_window_within_the_documented_bound_agrees_with_the_docs() -> None:
    text = summary(results("aof=everysec", window("power_loss", 30, 4, 0.9)))
    assert "power loss x1: 1 of 1 strikes lost tasks (4 of 30 at risk)" in text
    assert "some tasks, all acknowledged within 0.90 s before it" in text
    assert "Disagrees" not in text


def test_a_window_past_the_documented_bound_disagrees_with_the_docs() -> None:
    text = summary(results("aof=everysec", window("slow_disk_power_loss", 40, 35, 3.1)))
    assert (
        "**Disagrees with the docs**: power loss on a slow disk lost writes acknowledged "
        "3.10 s before it; the docs say at most about 2 s." in text
    )


def test_a_process_kill_that_loses_acknowledged_writes_disagrees_with_the_docs() -> None:
    text = summary(results("aof=everysec", window("slow_disk_kill", 13, 12, 0.3)))
    assert "process kill on a slow disk lost 12 acknowledged tasks; the docs say" in text


def test_losses_no_strike_explains_are_called_out() -> None:
    text = summary(results("aof=always", unexplained=3))
    assert "**3 lost tasks are not explained by a strike on Redis**" in text
    assert "No strike on Redis in these runs" in text


def test_the_matrix_cell_and_document_carry_the_windows() -> None:
    run = results("aof=everysec", window("power_loss", 30, 4, 0.9), unexplained=1)
    assert loss_cell(run) == "power_loss 4/30 ≤0.90s; unexplained 1"
    markdown = render_markdown([run], "(test)")
    assert "| power_loss 4/30 ≤0.90s; unexplained 1 |" in markdown
    assert "## What each setting guaranteed here" in markdown


def test_duplicates_read_0_when_there_are_none_and_name_the_max_when_there_are() -> None:
    clean = results("aof=always")
    clean["checkers"]["duplicated"]["details"] = {
        "duplicated_tasks": 0,
        "max_executions_per_task": 1,
    }
    markdown = render_markdown([clean, results("aof=no")], "(test)")
    assert "(1)" not in markdown
    rows = [line.split(" | ") for line in markdown.splitlines() if line.startswith("| s |")]
    column = HEADERS.index("duplicated tasks")
    assert [r[column] for r in rows] == ["0", "2 (max 2)"]
